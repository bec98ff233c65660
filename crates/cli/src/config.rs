//! Clap glue for settings. Every setting is declared once in
//! [`bulwark_policy::settings::SETTINGS`]; `cli::declare` gives each clap argument its help,
//! variable and default from there, [`Loaded::settings`] hands the flags the user typed, the
//! process environment and `bulwark.yaml` to the one resolution routine (flag > environment >
//! file > default); the commands read the resolved values from there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use bulwark_policy::reference::FlagDoc;
use bulwark_policy::settings::{ConfigFile, Settings, Sources, SETTINGS};
use clap::parser::ValueSource;
use clap::ArgMatches;

pub use bulwark_policy::build::LegacyGate;

/// The file looked for in the working directory when `--config` is not given.
pub const DEFAULT_FILE: &str = "bulwark.yaml";

/// A loaded config file (or none).
#[derive(Debug, Default)]
pub struct Loaded {
    pub file: ConfigFile,
}

/// `--config FILE` (or `BULWARK_CONFIG`; must exist), else `./bulwark.yaml` when present,
/// else nothing.
pub fn load(m: &ArgMatches) -> Result<Loaded> {
    let config = match m.try_get_one::<PathBuf>("config") {
        Ok(Some(p)) => Some(p.clone()),
        _ => std::env::var_os("BULWARK_CONFIG").map(PathBuf::from),
    };
    let (path, shown) = match &config {
        Some(p) => (p.clone(), p.display().to_string()),
        None => {
            let p = PathBuf::from(DEFAULT_FILE);
            if !p.exists() {
                return Ok(Loaded {
                    file: ConfigFile {
                        dir: PathBuf::from("."),
                        ..ConfigFile::default()
                    },
                });
            }
            (p, DEFAULT_FILE.to_string())
        }
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read the config file {shown}"))?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let file = ConfigFile::parse(&text, &shown, &dir)?;
    Ok(Loaded { file })
}

/// The raw values of the settings the user typed on the command line, by flag id.
fn typed_flags(m: &ArgMatches) -> BTreeMap<String, Vec<String>> {
    SETTINGS
        .iter()
        .filter(|s| s.flag && matches!(m.try_contains_id(s.id), Ok(true)))
        .filter(|s| m.value_source(s.id) == Some(ValueSource::CommandLine))
        .filter_map(|s| {
            let raw = m.try_get_raw(s.id).ok().flatten()?;
            let values = raw.map(|v| v.to_string_lossy().into_owned()).collect();
            Some((s.id.to_string(), values))
        })
        .collect()
}

impl Loaded {
    /// Every setting, resolved from the flags in `m`, the process environment and the file.
    pub fn settings(&self, m: &ArgMatches) -> Result<Settings> {
        let flags = typed_flags(m);
        let env = |name: &str| std::env::var(name).ok();
        Ok(Sources {
            flags: &flags,
            env: &env,
            file: &self.file,
        }
        .resolve_all()?)
    }
}

/// The output format setting.
pub fn format(s: &Settings) -> Option<bulwark_report::Format> {
    s.text("format").and_then(bulwark_report::Format::from_name)
}

/// Builds the policy from the settings; reads VEX and ignore files now, so a bad one stops
/// the run before any scan. `legacy` chooses what a bare `--exit-code` gate counts. Returns
/// the policy and the exit code of a failed gate.
pub fn policy(s: &Settings, legacy: LegacyGate) -> Result<(bulwark_scan::PolicySettings, u8)> {
    let resolved = bulwark_policy::build::policy(s, legacy, Path::new("."))?;
    let exit_code = resolved.exit_code;
    Ok((resolved.into(), exit_code))
}

/// docs/configuration.md (`bulwark_policy::reference`) from the flags of `image`, `fs`,
/// `sbom` and `db update` as clap declares them.
pub fn reference_markdown(cmd: &clap::Command) -> String {
    let db_update = cmd
        .find_subcommand("db")
        .and_then(|d| d.find_subcommand("update"));
    let subs = ["image", "fs", "sbom"]
        .into_iter()
        .filter_map(|n| cmd.find_subcommand(n).map(|c| (n, c)))
        .chain(db_update.map(|c| ("db update", c)));
    let flags = |sub: &clap::Command| {
        let documented = |a: &&clap::Arg| {
            a.get_long()
                .is_some_and(|l| !matches!(l, "help" | "version"))
        };
        let flag = |arg: &clap::Arg| {
            let takes_values = arg.get_action().takes_values();
            FlagDoc {
                id: arg.get_id().to_string(),
                long: arg.get_long().unwrap_or_default().to_string(),
                value_name: arg
                    .get_value_names()
                    .and_then(|v| v.first())
                    .filter(|_| takes_values)
                    .map(|v| v.to_string()),
                possible: arg
                    .get_possible_values()
                    .iter()
                    .filter(|_| takes_values)
                    .map(|p| p.get_name().to_string())
                    .collect(),
                help: arg.get_help().map(|h| h.to_string()).unwrap_or_default(),
            }
        };
        sub.get_arguments().filter(documented).map(flag).collect()
    };
    let commands: Vec<_> = subs.map(|(name, sub)| (name, flags(sub))).collect();
    bulwark_policy::reference::reference_markdown(&commands)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bulwark_policy::settings;
    use clap::CommandFactory;

    /// The committed docs/configuration.md is what the code generates.
    #[test]
    fn config_reference_is_up_to_date() {
        let cmd = crate::cli::Cli::command();
        let generated = reference_markdown(&cmd);
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/configuration.md");
        if std::env::var_os("BULWARK_BLESS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "docs/configuration.md is out of date: run BULWARK_BLESS=1 cargo test -p bulwark-cli --bin bulwark config_reference"
        );
    }

    /// Every scan flag is a setting of the table (so it has a variable, a key and a doc
    /// line), the table's choices are clap's, and every setting with a flag appears in
    /// docs/configuration.md (file-only ones by their key).
    #[test]
    fn every_flag_is_a_setting_and_every_setting_is_documented() {
        let cmd = crate::cli::Cli::command();
        let db = cmd.find_subcommand("db").unwrap();
        let subs = ["image", "fs", "sbom", "config"]
            .iter()
            .map(|n| (*n, cmd.find_subcommand(n).unwrap()))
            .chain([("db update", db.find_subcommand("update").unwrap())]);
        let mut seen = std::collections::BTreeSet::new();
        for (name, sub) in subs {
            for arg in sub.get_arguments() {
                let id = arg.get_id().as_str();
                // --password-stdin reads a secret for one run: an action, not a setting.
                // `bulwark config`'s own inputs (policies, namespaces, compliance) are not
                // scan settings either.
                if arg.get_long().is_none()
                    || matches!(
                        id,
                        "help"
                            | "version"
                            | "password_stdin"
                            | "policy"
                            | "namespace"
                            | "compliance"
                            | "host_root"
                    )
                {
                    continue;
                }
                let s = settings::setting(id)
                    .unwrap_or_else(|| panic!("{name} --{id} is not in the settings table"));
                assert!(s.flag, "{name} --{id}: the table says it has no flag");
                assert_eq!(
                    arg.get_env()
                        .map(|e| e.to_string_lossy().into_owned())
                        .as_deref(),
                    s.env,
                    "{name} --{id}"
                );
                let possible: Vec<String> = arg
                    .get_possible_values()
                    .iter()
                    .map(|p| p.get_name().to_string())
                    .collect();
                match s.kind {
                    settings::Kind::Choice(names) | settings::Kind::Choices(names) => {
                        assert_eq!(possible, names, "{name} --{id}")
                    }
                    _ => {}
                }
                seen.insert(id);
            }
        }
        let doc = reference_markdown(&cmd);
        for s in SETTINGS {
            if s.flag {
                assert!(seen.contains(s.id), "setting {} has no flag", s.id);
                assert!(
                    doc.contains(&s.doc.replace('|', "\\|")),
                    "{}: doc line missing",
                    s.id
                );
            } else {
                let key = s.key.shown().unwrap();
                assert!(
                    doc.contains(&format!("### `{key}`")),
                    "{key} not documented"
                );
            }
        }
    }

    /// A typed flag, the file and the defaults all reach the settings through the one routine.
    #[test]
    fn a_typed_flag_beats_the_file_and_defaults_fill_the_rest() {
        let cmd = crate::cli::Cli::command();
        let m = cmd
            .try_get_matches_from(["bulwark", "sbom", "x.json", "--max-sbom-size", "1M"])
            .unwrap();
        let (_, sub) = m.subcommand().unwrap();
        let loaded = Loaded {
            file: ConfigFile::parse(
                "max-sbom-size: 5M\nno-vuln: true\n",
                "bulwark.yaml",
                Path::new("."),
            )
            .unwrap(),
        };
        let s = loaded.settings(sub).unwrap();
        assert_eq!(s.uint("max_sbom_size"), Some(1 << 20));
        assert!(s.bool("no_vuln"));
        assert_eq!(s.uint("max_layer_size"), Some(64 << 30));
    }
}
