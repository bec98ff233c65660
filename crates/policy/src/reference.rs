//! docs/configuration.md: the flags of each scan command as the front end spells them, with
//! the variable, key, default and doc line of the settings table, then the file-only keys.

use std::fmt::Write as _;

use crate::settings::{setting, FILE_REFERENCE};

/// One flag of a command, as its parser declares it.
#[derive(Debug, Clone, Default)]
pub struct FlagDoc {
    /// The setting id (the parser's argument id).
    pub id: String,
    /// The long name, without `--`.
    pub long: String,
    /// The value's name (`FILE`), for a flag that takes one.
    pub value_name: Option<String>,
    /// The values it accepts, when the set is closed.
    pub possible: Vec<String>,
    /// The parser's help, for a flag that is not a setting.
    pub help: String,
}

/// The reference of `commands` (`("image", flags)`), in order.
pub fn reference_markdown(commands: &[(&str, Vec<FlagDoc>)]) -> String {
    let mut out = String::from(
        "# Configuration reference\n\n\
         <!-- Generated from the settings table (crates/policy/src/settings.rs) and the clap\n     \
         definitions; do not edit. Regenerate: bulwark config-reference > docs/configuration.md -->\n\n\
         Every scan setting can be given three ways. The first that is present wins: the flag,\n\
         then its environment variable, then the key in `bulwark.yaml`, then the default.\n\
         `bulwark.yaml` is read from the working directory, or from `--config FILE`\n\
         (`BULWARK_CONFIG`). It is validated before any scan; an unknown key, a wrong type or an\n\
         invalid date stops the run with `FILE:LINE:COLUMN: KEY: problem` (exit 2). Relative\n\
         paths in the file are relative to the file's directory.\n\n",
    );
    for (name, flags) in commands {
        let _ = write!(out, "## `bulwark {name}`\n\n");
        out.push_str("| flag | environment | bulwark.yaml | default | meaning |\n");
        out.push_str("| --- | --- | --- | --- | --- |\n");
        for flag in flags {
            let setting = setting(&flag.id).filter(|s| s.flag);
            let shown = |v: Option<&str>| v.map(|v| format!("`{v}`")).unwrap_or_default();
            let env = shown(setting.and_then(|s| s.env));
            let key = setting.and_then(|s| s.key.shown());
            let key = key.map_or_else(|| "—".into(), |k| format!("`{k}`"));
            let default = shown(setting.and_then(|s| s.default));
            let help = setting.map_or(flag.help.as_str(), |s| s.doc);
            let mut help = help.replace('|', "\\|").replace('\n', " ");
            if !help.is_empty() && !help.ends_with('.') {
                help.push('.');
            }
            if !flag.possible.is_empty() {
                let _ = write!(help, " One of: {}.", flag.possible.join(", "));
            }
            let value = flag.value_name.as_ref().map(|v| format!(" {v}"));
            let long = &flag.long;
            let _ = writeln!(
                out,
                "| `--{long}{}` | {env} | {key} | {default} | {help} |",
                value.unwrap_or_default()
            );
        }
        out.push('\n');
    }
    out.push_str(FILE_REFERENCE);
    out
}
