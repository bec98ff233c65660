//! OCaml: what opam installed in a switch, from the switch's state file
//! (`<switch>/.opam-switch/switch-state`, for a global switch `~/.opam/<name>/` and a local one
//! `<project>/_opam/`), whose `installed: [...]` lists `"name.version"` strings.
//!
//! The purl is `pkg:opam/name@version`; OSV's `opam` feed (the OCaml security advisories)
//! matches it. opam package names hold no `.`, so the version is what follows the first one.
//! The per-package `.opam-switch/packages/<name>.<version>/opam` copies describe the same
//! packages and are not read again.

use bulwark_analyze::PackageRecord;
use bulwark_types::Ecosystem;

use super::format::{components, plausible_name, plausible_version, Format, FormatAnalyzer};

pub(crate) fn analyzer() -> FormatAnalyzer {
    FormatAnalyzer {
        id: "opam",
        version: 1,
        formats: &[Format {
            what: "opam switch-state",
            matches: |p| {
                let c = components(p);
                c.len() >= 2 && c[c.len() - 2] == ".opam-switch" && c[c.len() - 1] == "switch-state"
            },
            parse: |_, text| parse_switch_state(text),
            installed: true,
        }],
    }
}

/// The strings of the list that follows `field:` at the start of a line (it may span lines).
fn string_list<'a>(text: &'a str, field: &str) -> Option<Vec<&'a str>> {
    let start = text
        .match_indices(field)
        .find(|(i, _)| *i == 0 || text.as_bytes()[i - 1] == b'\n')?
        .0;
    let rest = text[start + field.len()..].trim_start();
    let rest = rest.strip_prefix('[')?;
    let end = rest.find(']')?;
    Some(rest[..end].split('"').skip(1).step_by(2).collect())
}

fn parse_switch_state(text: &str) -> Result<Vec<PackageRecord>, String> {
    let Some(installed) = string_list(text, "installed:") else {
        if text.contains("opam-version") {
            // A switch with nothing installed yet.
            return Ok(Vec::new());
        }
        return Err("no `installed: [...]` list; is this an opam switch-state?".into());
    };
    let mut out = Vec::new();
    for entry in installed {
        let Some((name, version)) = entry.split_once('.') else {
            continue;
        };
        if !plausible_name(name) || !plausible_version(version) {
            continue;
        }
        out.push(PackageRecord::new(Ecosystem::Opam, name, version));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::format::testing::{assert_malformed, assert_packages};

    // Written from opam.ocaml.org/doc/Manual.html#switch-state (the file format: `installed`,
    // `roots`, `compiler` lists of `"name.version"` package atoms).
    #[test]
    fn switch_state() {
        let state = "opam-version: \"2.0\"
compiler: [\"ocaml-base-compiler.5.1.1\" \"ocaml.5.1.1\"]
roots: [\"dune.3.12.2\" \"ocaml-base-compiler.5.1.1\"]
installed: [
  \"base-threads.base\"
  \"dune.3.12.2\"
  \"ocaml.5.1.1\"
  \"ocaml-base-compiler.5.1.1\"
  \"ocaml-config.3\"
]
";
        let want = [
            ("base-threads", "base", "pkg:opam/base-threads@base"),
            ("dune", "3.12.2", "pkg:opam/dune@3.12.2"),
            ("ocaml", "5.1.1", "pkg:opam/ocaml@5.1.1"),
            (
                "ocaml-base-compiler",
                "5.1.1",
                "pkg:opam/ocaml-base-compiler@5.1.1",
            ),
            ("ocaml-config", "3", "pkg:opam/ocaml-config@3"),
        ];
        assert_packages(
            "home/opam/.opam/default/.opam-switch/switch-state",
            state,
            &want,
        );
        assert_packages("src/app/_opam/.opam-switch/switch-state", state, &want);
    }

    #[test]
    fn malformed_switch_state() {
        assert_malformed(".opam-switch/switch-state", "garbage\n");
        assert_malformed(".opam-switch/switch-state", "installed: \"dune.3\"\n");
    }
}
