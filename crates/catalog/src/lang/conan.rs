//! Conan (C and C++): what the Conan 1 cache installed (`conaninfo.txt` of a binary package:
//! the package its cache path `data/<name>/<version>/<user>/<channel>/package/<id>/` names, and
//! its `[full_requires]`, the exact references it was built against) and what a project
//! locks (`conan.lock`: Conan 1's `graph_lock.nodes[].ref`, Conan 2's `requires`,
//! `build_requires` and `python_requires` lists).
//!
//! A reference is `name/version[@user/channel][#recipe_revision][:package_id[#package_revision]]`;
//! the purl is `pkg:conan/name@version` with the `user`, `channel` and `rrev` qualifiers the purl
//! spec defines. Conan 2's `conaninfo.txt` lists its requirements by compatibility mode
//! (`zlib/1.3.Z`), not exactly: those entries are skipped. Build requirements are marked
//! `dev`. OSV's `ConanCenter` feed matches them.

use bulwark_analyze::PackageRecord;
use bulwark_types::Ecosystem;
use serde_json::Value;

use super::format::{
    components, file_name, plausible_name, plausible_version, Format, FormatAnalyzer,
};

pub(crate) fn analyzer() -> FormatAnalyzer {
    FormatAnalyzer {
        id: "conan",
        version: 1,
        formats: &[
            Format {
                what: "conaninfo.txt",
                matches: |p| file_name(p) == "conaninfo.txt",
                parse: parse_conaninfo,
                installed: true,
            },
            Format {
                what: "conanfile.txt",
                matches: |p| file_name(p) == "conanfile.txt",
                parse: |_, text| parse_conanfile_txt(text),
                installed: false,
            },
            Format {
                what: "conan.lock",
                matches: |p| file_name(p) == "conan.lock",
                parse: |_, text| parse_conan_lock(text),
                installed: false,
            },
        ],
    }
}

/// A package from a Conan reference; `None` when it is not one (a consumer `conanfile.py`, a
/// version range, a compatibility mode such as `1.3.Z`).
fn reference(text: &str) -> Option<PackageRecord> {
    let text = text.trim();
    // `:package_id#prev` is the binary, not the recipe.
    let recipe = text.split(':').next().unwrap_or(text);
    let (recipe, rrev) = match recipe.split_once('#') {
        // Conan 2 appends `%timestamp` to the revision.
        Some((r, rev)) => (r, rev.split('%').next().unwrap_or("")),
        None => (recipe, ""),
    };
    let (name_version, user_channel) = match recipe.split_once('@') {
        Some((nv, uc)) => (nv, Some(uc)),
        None => (recipe, None),
    };
    let (name, version) = name_version.split_once('/')?;
    if version.starts_with('[')
        || !plausible_name(name)
        || !plausible_version(version)
        || version.contains('/')
        || version
            .split('.')
            .any(|part| matches!(part, "X" | "Y" | "Z"))
    {
        return None;
    }
    let (user, channel) = match user_channel.and_then(|uc| uc.split_once('/')) {
        // `_/_` is Conan's spelling of "none".
        Some((u, c)) if u != "_" => (u, c),
        _ => ("", ""),
    };
    Some(
        PackageRecord::new(Ecosystem::Conan, name, version)
            .qualifier("user", user)
            .qualifier("channel", channel)
            .qualifier("rrev", rrev),
    )
}

/// A project's `conanfile.txt`: the exact references of `[requires]`, and of
/// `[tool_requires]`/`[build_requires]` (marked `dev`); version ranges (`zlib/[>=1.2 <2]`) are
/// left out.
fn parse_conanfile_txt(text: &str) -> Result<Vec<PackageRecord>, String> {
    let mut section = "";
    let mut sections = 0;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            if !name.contains(['/', ' ', '<', '>', '=']) {
                section = name;
                sections += 1;
                continue;
            }
        }
        let dev = match section {
            "requires" => false,
            "tool_requires" | "build_requires" => true,
            _ => continue,
        };
        if let Some(mut r) = reference(line) {
            r.dev = dev;
            out.push(r);
        }
    }
    if sections == 0 {
        return Err("no `[section]` headers; is this a Conan conanfile.txt?".into());
    }
    Ok(out)
}

fn parse_conan_lock(text: &str) -> Result<Vec<PackageRecord>, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let mut out = Vec::new();
    if let Some(nodes) = doc.get("graph_lock").and_then(|g| g.get("nodes")) {
        // Conan 1: `{"0": {"ref": ...}, "1": ...}`; node 0 is the consumer (a path, no ref).
        let Some(nodes) = nodes.as_object() else {
            return Err("`graph_lock.nodes` is not an object".into());
        };
        for node in nodes.values() {
            let Some(r) = node.get("ref").and_then(Value::as_str) else {
                continue;
            };
            if let Some(mut record) = reference(r) {
                record.dev = node.get("context").and_then(Value::as_str) == Some("build");
                out.push(record);
            }
        }
        return Ok(out);
    }
    let lists = [
        ("requires", false),
        ("build_requires", true),
        ("python_requires", true),
    ];
    if !lists.iter().any(|(key, _)| doc.get(key).is_some()) {
        return Err("neither `graph_lock.nodes` (Conan 1) nor `requires` (Conan 2); is this a Conan lockfile?".into());
    }
    for (key, dev) in lists {
        for r in doc
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if let Some(mut record) = reference(r) {
                record.dev = dev;
                out.push(record);
            }
        }
    }
    Ok(out)
}

/// The binary package a Conan 1 cache path holds:
/// `…/data/<name>/<version>/<user>/<channel>/package/<package id>/conaninfo.txt`.
fn cached_package(path: &str) -> Option<PackageRecord> {
    let c = components(path);
    let n = c.len();
    if n < 8 || c[n - 3] != "package" || c[n - 8] != "data" {
        return None;
    }
    let (name, version, user, channel) = (c[n - 7], c[n - 6], c[n - 5], c[n - 4]);
    reference(&format!("{name}/{version}@{user}/{channel}"))
}

fn parse_conaninfo(path: &str, text: &str) -> Result<Vec<PackageRecord>, String> {
    let mut section = "";
    let mut sections = 0;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name;
            sections += 1;
            continue;
        }
        if section == "full_requires" || section == "requires" {
            out.extend(reference(line));
        }
    }
    if sections == 0 {
        return Err("no `[section]` headers; is this a Conan conaninfo.txt?".into());
    }
    out.extend(cached_package(path));
    // One requirement can be in both sections.
    out.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    out.dedup_by(|a, b| a.name == b.name && a.version == b.version);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::format::testing::{assert_malformed, assert_packages};

    // Written from Conan's documentation: docs.conan.io/1/versioning/lockfiles.html (v1,
    // lock version 0.4), docs.conan.io/2/tutorial/versioning/lockfiles.html (v2, 0.5), and
    // docs.conan.io/1/reference/config_files/conaninfo.txt... (`[full_requires]`).
    #[test]
    fn conan_lock_v1_and_v2() {
        let v1 = r#"{
 "graph_lock": {
  "nodes": {
   "0": {"path": "conanfile.txt", "requires": ["1", "2"], "context": "host"},
   "1": {"ref": "zlib/1.2.11#0df3fb6fd3a4f1c5a1fcd3c6e2a2e0f5", "options": "shared=False", "package_id": "6af9cc7cb931c5ad942174fd7838eb655717c709", "prev": "0", "context": "host"},
   "2": {"ref": "openssl/1.1.1k@mycompany/stable", "context": "host"},
   "3": {"ref": "cmake/3.21.3", "context": "build"}
  },
  "revisions_enabled": true
 },
 "version": "0.4",
 "profile_host": "[settings]\nos=Linux\n"
}"#;
        assert_packages(
            "build/conan.lock",
            v1,
            &[
                (
                    "zlib",
                    "1.2.11",
                    "pkg:conan/zlib@1.2.11?rrev=0df3fb6fd3a4f1c5a1fcd3c6e2a2e0f5",
                ),
                (
                    "openssl",
                    "1.1.1k",
                    "pkg:conan/openssl@1.1.1k?channel=stable&user=mycompany",
                ),
                ("cmake", "3.21.3", "pkg:conan/cmake@3.21.3"),
            ],
        );
        let v2 = r#"{
    "version": "0.5",
    "requires": [
        "zlib/1.3.1#f52e03ae3d251dec704634230cd806a2%1708593606.497",
        "fmt/10.2.1#9199a7a0611866dea5c8849a77467b25%1708541640.227"
    ],
    "build_requires": ["cmake/3.28.1#92f79424d7b65b12a84a2180866c3a78%1703069453.263"],
    "python_requires": [],
    "config_requires": []
}"#;
        assert_packages(
            "conan.lock",
            v2,
            &[
                (
                    "zlib",
                    "1.3.1",
                    "pkg:conan/zlib@1.3.1?rrev=f52e03ae3d251dec704634230cd806a2",
                ),
                (
                    "fmt",
                    "10.2.1",
                    "pkg:conan/fmt@10.2.1?rrev=9199a7a0611866dea5c8849a77467b25",
                ),
                (
                    "cmake",
                    "3.28.1",
                    "pkg:conan/cmake@3.28.1?rrev=92f79424d7b65b12a84a2180866c3a78",
                ),
            ],
        );
    }

    #[test]
    fn conaninfo() {
        let v1 = "[settings]\n    arch=x86_64\n    os=Linux\n\n[requires]\n    zlib/1.Y.Z\n\n[options]\n    shared=False\n\n[full_requires]\n    bzip2/1.0.8:da606cf731e334010b0bf6e85a2a6f891b9f36b0\n    zlib/1.2.11@_/_#0df3fb6fd3a4f1c5a1fcd3c6e2a2e0f5:6af9cc7cb931c5ad942174fd7838eb655717c709\n\n[recipe_hash]\n    6ad5a8a2b3a5c1e4b2d1f0e9c8b7a6d5\n";
        assert_packages(
            "root/.conan/data/boost/1.76.0/_/_/package/abc/conaninfo.txt",
            v1,
            &[
                ("boost", "1.76.0", "pkg:conan/boost@1.76.0"),
                ("bzip2", "1.0.8", "pkg:conan/bzip2@1.0.8"),
                (
                    "zlib",
                    "1.2.11",
                    "pkg:conan/zlib@1.2.11?rrev=0df3fb6fd3a4f1c5a1fcd3c6e2a2e0f5",
                ),
            ],
        );
        // A package without requirements is still the package its cache path names.
        assert_packages(
            "root/.conan/data/zlib/1.2.11/conan/stable/package/6af9cc7c/conaninfo.txt",
            "[settings]\n    os=Linux\n\n[requires]\n\n[full_requires]\n\n",
            &[(
                "zlib",
                "1.2.11",
                "pkg:conan/zlib@1.2.11?channel=stable&user=conan",
            )],
        );
    }

    // docs.conan.io/2/reference/conanfile_txt.html
    #[test]
    fn conanfile_txt() {
        let txt = "[requires]\nzlib/1.3.1\nboost/[>=1.80 <2.0]\nopenssl/3.2.0@myorg/stable # pinned\n\n[tool_requires]\ncmake/3.28.1\n\n[generators]\nCMakeDeps\n\n[options]\nzlib/*:shared=True\n";
        assert_packages(
            "app/conanfile.txt",
            txt,
            &[
                ("zlib", "1.3.1", "pkg:conan/zlib@1.3.1"),
                (
                    "openssl",
                    "3.2.0",
                    "pkg:conan/openssl@3.2.0?channel=stable&user=myorg",
                ),
                ("cmake", "3.28.1", "pkg:conan/cmake@3.28.1"),
            ],
        );
    }

    #[test]
    fn malformed_conan_files() {
        assert_malformed("conanfile.txt", "zlib/1.3.1\n");
        assert_malformed("conan.lock", "{\"version\": \"0.5\"");
        assert_malformed("conan.lock", "{\"version\": \"0.5\"}");
        assert_malformed("conan.lock", "{\"graph_lock\": {\"nodes\": [1]}}");
        assert_malformed("conaninfo.txt", "zlib/1.2.11\nnot an ini file\n");
    }
}
