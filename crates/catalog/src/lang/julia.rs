//! Julia: what Pkg resolved for an environment (`Manifest.toml`, and the versioned
//! `Manifest-v1.11.toml`), in both formats: v1 (Julia ≤ 1.6, one top-level `[[Name]]` array per
//! package) and v2 (`manifest_format = "2.0"`, `[[deps.Name]]`).
//!
//! Choices:
//! * The purl is `pkg:julia/Name@version?uuid=…` (the purl spec's julia type requires the
//!   UUID: two registries may hold the same name). OSV's `Julia` feed matches them.
//! * Entries without a `version` are standard libraries of older Julias, bundled with Julia
//!   itself and versioned by it: left out. Newer manifests give stdlibs a version; they are
//!   reported.

use bulwark_analyze::PackageRecord;
use bulwark_types::Ecosystem;

use super::format::{file_name, plausible_name, plausible_version, Format, FormatAnalyzer};

pub(crate) fn analyzer() -> FormatAnalyzer {
    FormatAnalyzer {
        id: "julia",
        version: 1,
        formats: &[Format {
            what: "Julia Manifest.toml",
            matches: |p| {
                let n = file_name(p);
                n == "Manifest.toml"
                    || n == "JuliaManifest.toml"
                    || (n.starts_with("Manifest-v") && n.ends_with(".toml"))
            },
            parse: |_, text| parse_manifest(text),
            installed: false,
        }],
    }
}

fn parse_manifest(text: &str) -> Result<Vec<PackageRecord>, String> {
    let doc: toml::Table = text.parse().map_err(|e| format!("not valid TOML: {e}"))?;
    let v2 = doc.contains_key("manifest_format");
    let deps = if v2 {
        match doc.get("deps") {
            Some(toml::Value::Table(t)) => t.clone(),
            Some(_) => return Err("`deps` is not a table".into()),
            None => toml::Table::new(),
        }
    } else {
        doc.clone()
    };
    let mut out = Vec::new();
    let mut entries = 0;
    for (name, value) in &deps {
        let Some(list) = value.as_array() else {
            // v1's top level holds only package arrays.
            continue;
        };
        for entry in list.iter().filter_map(|e| e.as_table()) {
            let Some(uuid) = entry.get("uuid").and_then(|u| u.as_str()) else {
                continue;
            };
            entries += 1;
            let Some(version) = entry.get("version").and_then(|v| v.as_str()) else {
                continue;
            };
            if !plausible_name(name) || !plausible_version(version) {
                continue;
            }
            let mut r = PackageRecord::new(Ecosystem::Julia, name, version).qualifier("uuid", uuid);
            r.dependencies = match entry.get("deps") {
                Some(toml::Value::Array(d)) => d
                    .iter()
                    .filter_map(|d| d.as_str().map(str::to_string))
                    .collect(),
                Some(toml::Value::Table(d)) => d.keys().cloned().collect(),
                _ => Vec::new(),
            };
            out.push(r);
        }
    }
    if entries == 0 && !v2 && !deps.is_empty() {
        return Err(
            "no `[[Name]]` package entries with a `uuid`; is this a Julia manifest?".into(),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::format::testing::{assert_malformed, assert_packages};

    // Written from pkgdocs.julialang.org/v1/toml-files/#Manifest.toml (both formats).
    #[test]
    fn manifest_v1_and_v2() {
        let v1 = r#"# This file is machine-generated - editing it directly is not advised

[[Adapt]]
deps = ["LinearAlgebra"]
git-tree-sha1 = "af92965fb30777147966f58acb05da51c5616b5f"
uuid = "79e6a3ab-5dfb-504d-930d-738a2a938a0e"
version = "3.3.3"

[[LinearAlgebra]]
deps = ["Libdl"]
uuid = "37e2e46d-f89d-539d-b4ee-838fcccc9c8e"
"#;
        assert_packages(
            "proj/Manifest.toml",
            v1,
            &[(
                "Adapt",
                "3.3.3",
                "pkg:julia/Adapt@3.3.3?uuid=79e6a3ab-5dfb-504d-930d-738a2a938a0e",
            )],
        );
        let v2 = r#"# This file is machine-generated - editing it directly is not advised

julia_version = "1.10.0"
manifest_format = "2.0"
project_hash = "2a1f0c3e"

[[deps.CSV]]
deps = ["CodecZlib", "Dates"]
git-tree-sha1 = "679e69c611fff422038e9e21e270c4197d49d918"
uuid = "336ed68f-0bac-5ca0-87d4-7b16caf5d00b"
version = "0.10.12"

[[deps.Dates]]
deps = ["Printf"]
uuid = "ade2ca70-3891-5945-98fb-dc099432e06a"

[[deps.Statistics]]
deps = ["LinearAlgebra", "SparseArrays"]
uuid = "10745b16-79ce-11e8-11f9-7d13ad32a3b2"
version = "1.10.0"
"#;
        assert_packages(
            "proj/Manifest.toml",
            v2,
            &[
                (
                    "CSV",
                    "0.10.12",
                    "pkg:julia/CSV@0.10.12?uuid=336ed68f-0bac-5ca0-87d4-7b16caf5d00b",
                ),
                (
                    "Statistics",
                    "1.10.0",
                    "pkg:julia/Statistics@1.10.0?uuid=10745b16-79ce-11e8-11f9-7d13ad32a3b2",
                ),
            ],
        );
    }

    #[test]
    fn malformed_manifest() {
        assert_malformed("Manifest.toml", "[[deps.CSV]\n");
        assert_malformed("Manifest.toml", "manifest_format = \"2.0\"\ndeps = 3\n");
        assert_malformed("Manifest.toml", "[package]\nname = \"x\"\n");
    }
}
