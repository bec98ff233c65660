//! OCaml: what opam installed in a switch, from the switch's state file
//! (`<switch>/.opam-switch/switch-state`, for a global switch `~/.opam/<name>/` and a local one
//! `<project>/_opam/`), whose `installed: [...]` lists `"name.version"` strings, and from the
//! copies of installed definitions (`.opam-switch/packages/<name>.<version>/opam`); and what a
//! project's `<name>.opam` file defines, when it gives a `version`.
//!
//! The purl is `pkg:opam/name@version`; OSV's `opam` feed (the OCaml security advisories)
//! matches it. opam package names hold no `.`, so the version is what follows the first one.
//! The switch-state and the per-package copies name the same packages; the image-wide merge
//! lists each once.

use bulwark_analyze::PackageRecord;
use bulwark_types::Ecosystem;

use super::format::{
    components, file_name, plausible_name, plausible_version, Format, FormatAnalyzer,
};

pub(crate) fn analyzer() -> FormatAnalyzer {
    FormatAnalyzer {
        id: "opam",
        version: 1,
        formats: &[
            Format {
                what: "opam switch-state",
                matches: |p| {
                    let c = components(p);
                    c.len() >= 2
                        && c[c.len() - 2] == ".opam-switch"
                        && c[c.len() - 1] == "switch-state"
                },
                parse: |_, text| parse_switch_state(text),
                installed: true,
            },
            Format {
                what: "installed opam file",
                matches: |p| installed_opam(p).is_some(),
                parse: parse_installed_opam,
                installed: true,
            },
            Format {
                what: "opam file",
                // Only `<name>.opam`: a file called just `opam` is as likely the opam executable.
                matches: |p| {
                    let n = file_name(p);
                    n.len() > ".opam".len() && n.ends_with(".opam") && installed_opam(p).is_none()
                },
                parse: parse_opam_file,
                installed: false,
            },
        ],
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

/// `(name, version)` of `…/.opam-switch/packages/<name>.<version>/opam`, the copy opam keeps
/// of each installed package's definition.
fn installed_opam(path: &str) -> Option<(&str, &str)> {
    let c = components(path);
    let n = c.len();
    if n < 4 || c[n - 1] != "opam" || c[n - 3] != "packages" || c[n - 4] != ".opam-switch" {
        return None;
    }
    c[n - 2].split_once('.')
}

fn parse_installed_opam(path: &str, text: &str) -> Result<Vec<PackageRecord>, String> {
    let Some((name, version)) = installed_opam(path) else {
        return Ok(Vec::new());
    };
    if !text.contains("opam-version") {
        return Err("no `opam-version:` field; is this an opam package definition?".into());
    }
    if !plausible_name(name) || !plausible_version(version) {
        return Err(format!(
            "{name:?} {version:?} is not an opam package name and version"
        ));
    }
    Ok(vec![PackageRecord::new(Ecosystem::Opam, name, version)])
}

/// A `field: "value"` line of an opam file.
fn opam_field<'a>(text: &'a str, field: &str) -> Option<&'a str> {
    text.lines().find_map(|l| {
        let v = l
            .strip_prefix(field)?
            .trim_start()
            .strip_prefix(':')?
            .trim();
        v.strip_prefix('"')?.split('"').next()
    })
}

/// A project's `<name>.opam`: the package it defines, when it says its version.
/// Its `depends` are constraints, not versions, and are not reported.
fn parse_opam_file(path: &str, text: &str) -> Result<Vec<PackageRecord>, String> {
    if !text.contains("opam-version") {
        return Err("no `opam-version:` field; is this an opam package definition?".into());
    }
    let stem = file_name(path)
        .strip_suffix(".opam")
        .filter(|s| !s.is_empty());
    let (Some(name), Some(version)) = (
        opam_field(text, "name").or(stem),
        opam_field(text, "version"),
    ) else {
        return Ok(Vec::new());
    };
    if !plausible_name(name) || !plausible_version(version) {
        return Err(format!(
            "{name:?} {version:?} is not an opam package name and version"
        ));
    }
    Ok(vec![PackageRecord::new(Ecosystem::Opam, name, version)])
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

    // opam.ocaml.org/doc/Manual.html#opam (the package definition format).
    #[test]
    fn opam_files() {
        let def = "opam-version: \"2.0\"\nname: \"yojson\"\nversion: \"2.1.2\"\nsynopsis: \"JSON\"\ndepends: [\"ocaml\" {>= \"4.08\"} \"dune\" {>= \"2.0\"}]\n";
        assert_packages(
            "root/.opam/default/.opam-switch/packages/yojson.2.1.2/opam",
            "opam-version: \"2.0\"\nsynopsis: \"JSON\"\n",
            &[("yojson", "2.1.2", "pkg:opam/yojson@2.1.2")],
        );
        assert_packages(
            "src/yojson/yojson.opam",
            def,
            &[("yojson", "2.1.2", "pkg:opam/yojson@2.1.2")],
        );
        assert_packages("usr/bin/opam", def, &[]);
        // Without a version (most development opam files): nothing to report.
        assert_packages(
            "src/app/app.opam",
            "opam-version: \"2.0\"\ndepends: [\"dune\"]\n",
            &[],
        );
    }

    #[test]
    fn malformed_switch_state() {
        assert_malformed("src/app/app.opam", "not an opam file\n");
        assert_malformed(".opam-switch/switch-state", "garbage\n");
        assert_malformed(".opam-switch/switch-state", "installed: \"dune.3\"\n");
    }
}
