//! vcpkg (C and C++): what vcpkg installed (`<installed root>/vcpkg/status`, dpkg-like stanzas
//! it keeps for the ports of one installed tree) and what a manifest pins (`vcpkg.json`'s
//! `overrides`).
//!
//! Choices:
//! * The purl is `pkg:vcpkg/name@version?port_version=N&triplet=T`, the type registered in
//!   purl-spec#885 (2026): `port_version` is left out when 0, the triplet is the stanza's
//!   `Architecture`. No OSV feed covers vcpkg yet.
//! * Only `Status: install ok installed` port stanzas count; feature stanzas (`Feature: ...`)
//!   are parts of their port. vcpkg appends changes to `vcpkg/updates/*` before folding them
//!   into `status`; those pending files are not read.
//! * `vcpkg.json` names dependencies with at most a minimum (`version>=`); the version comes from
//!   the registry baseline, which is not in the image. Only `overrides` (exact versions) are
//!   reported, as declared; the manifest's own `name` is the project, not a dependency.

use bulwark_analyze::PackageRecord;
use bulwark_types::Ecosystem;
use serde_json::Value;

use super::format::{
    components, file_name, plausible_name, plausible_version, Format, FormatAnalyzer,
};

pub(crate) fn analyzer() -> FormatAnalyzer {
    FormatAnalyzer {
        id: "vcpkg",
        version: 1,
        formats: &[
            Format {
                what: "vcpkg/status",
                matches: |p| {
                    let c = components(p);
                    c.len() >= 2 && c[c.len() - 2] == "vcpkg" && c[c.len() - 1] == "status"
                },
                parse: |_, text| parse_status(text),
                installed: true,
            },
            Format {
                what: "vcpkg.json",
                matches: |p| file_name(p) == "vcpkg.json",
                parse: |_, text| parse_manifest(text),
                installed: false,
            },
        ],
    }
}

fn parse_status(text: &str) -> Result<Vec<PackageRecord>, String> {
    let stanzas = crate::control_stanzas(text);
    let mut out = Vec::new();
    let mut recognised = 0;
    for stanza in &stanzas {
        let get = |k: &str| {
            stanza
                .iter()
                .find(|(f, _)| f.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.as_str())
        };
        let Some(name) = get("Package") else {
            continue;
        };
        recognised += 1;
        if get("Feature").is_some() || get("Status") != Some("install ok installed") {
            continue;
        }
        let Some(version) = get("Version") else {
            continue;
        };
        if !plausible_name(name) || !plausible_version(version) {
            continue;
        }
        let port_version = get("Port-Version").filter(|v| *v != "0").unwrap_or("");
        let mut r = PackageRecord::new(Ecosystem::Vcpkg, name, version)
            .qualifier("port_version", port_version)
            .qualifier("triplet", get("Architecture").unwrap_or(""));
        r.arch = get("Architecture").map(str::to_string);
        r.dependencies = get("Depends")
            .unwrap_or("")
            .split(',')
            .map(|d| d.trim().split(':').next().unwrap_or("").to_string())
            .filter(|d| !d.is_empty())
            .collect();
        out.push(r);
    }
    if recognised == 0 && !text.trim().is_empty() {
        return Err("no `Package:` stanzas; is this vcpkg's status database?".into());
    }
    Ok(out)
}

fn parse_manifest(text: &str) -> Result<Vec<PackageRecord>, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let Some(doc) = doc.as_object() else {
        return Err("not a JSON object; is this a vcpkg manifest?".into());
    };
    let mut out = Vec::new();
    for o in doc
        .get("overrides")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(name) = o.get("name").and_then(Value::as_str) else {
            continue;
        };
        let version = [
            "version",
            "version-semver",
            "version-date",
            "version-string",
        ]
        .iter()
        .find_map(|k| o.get(*k).and_then(Value::as_str));
        let Some(version) = version else { continue };
        if !plausible_name(name) || !plausible_version(version) {
            continue;
        }
        let port_version = o
            .get("port-version")
            .and_then(Value::as_u64)
            .filter(|v| *v != 0)
            .map(|v| v.to_string())
            .unwrap_or_default();
        out.push(
            PackageRecord::new(Ecosystem::Vcpkg, name, version)
                .qualifier("port_version", port_version),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::format::testing::{assert_malformed, assert_packages};

    // Written from learn.microsoft.com/en-us/vcpkg/reference/vcpkg-json (manifest, overrides)
    // and the status database vcpkg writes (src/vcpkg/statusparagraph.cpp: `Package`,
    // `Version`, `Port-Version`, `Architecture`, `Feature`, `Status`).
    #[test]
    fn installed_status() {
        let status = "Package: zlib
Version: 1.3.1
Architecture: x64-linux
Multi-Arch: same
Abi: 6a2b8c
Status: install ok installed

Package: fmt
Version: 10.2.1
Port-Version: 2
Depends: vcpkg-cmake, vcpkg-cmake-config
Architecture: x64-linux
Multi-Arch: same
Abi: 1d2e3f
Status: install ok installed

Package: curl
Feature: ssl
Depends: openssl
Architecture: x64-linux
Multi-Arch: same
Status: install ok installed

Package: openssl
Version: 3.2.0
Architecture: x64-linux
Status: purge ok not-installed
";
        assert_packages(
            "src/app/vcpkg_installed/vcpkg/status",
            status,
            &[
                ("zlib", "1.3.1", "pkg:vcpkg/zlib@1.3.1?triplet=x64-linux"),
                (
                    "fmt",
                    "10.2.1",
                    "pkg:vcpkg/fmt@10.2.1?port_version=2&triplet=x64-linux",
                ),
            ],
        );
    }

    #[test]
    fn manifest_overrides() {
        let manifest = r#"{
  "name": "my-app",
  "version": "0.1.0",
  "builtin-baseline": "3426db05b996481ca31e95fff3734cf23e0f51bc",
  "dependencies": ["fmt", {"name": "zlib", "version>=": "1.2.13"}],
  "overrides": [{"name": "fmt", "version": "10.1.1", "port-version": 1}, {"name": "zlib", "version": "1.3"}]
}"#;
        assert_packages(
            "src/app/vcpkg.json",
            manifest,
            &[
                ("fmt", "10.1.1", "pkg:vcpkg/fmt@10.1.1?port_version=1"),
                ("zlib", "1.3", "pkg:vcpkg/zlib@1.3"),
            ],
        );
    }

    #[test]
    fn malformed_vcpkg_files() {
        assert_malformed("installed/vcpkg/status", "this is not\na status file\n");
        assert_malformed("vcpkg.json", "{\"dependencies\": [");
        assert_malformed("vcpkg.json", "[\"fmt\"]");
    }
}
