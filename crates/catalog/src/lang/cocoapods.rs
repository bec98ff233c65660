//! CocoaPods: what `pod install` installed (`Pods/Manifest.lock`, the copy of the lock it
//! writes beside the installed pods) and what a project pins (`Podfile.lock`). Both are YAML
//! whose `PODS` list holds `Name (1.2.3)`, alone or as a key over its dependencies.
//!
//! A subspec (`Firebase/Core`) is part of its pod: it collapses to `Firebase`, listed once
//! (purl spec: `pkg:cocoapods/Name@version`, subspecs would be a subpath). No OSV feed covers
//! CocoaPods.

use std::collections::BTreeMap;

use bulwark_analyze::PackageRecord;
use bulwark_types::Ecosystem;
use serde_json::Value;

use super::format::{
    components, file_name, plausible_name, plausible_version, yaml, Format, FormatAnalyzer,
};

pub(crate) fn analyzer() -> FormatAnalyzer {
    FormatAnalyzer {
        id: "cocoapods",
        version: 1,
        formats: &[
            Format {
                what: "Pods/Manifest.lock",
                matches: |p| {
                    let c = components(p);
                    c.len() >= 2 && c[c.len() - 2] == "Pods" && c[c.len() - 1] == "Manifest.lock"
                },
                parse: |_, text| parse_podfile_lock(text),
                installed: true,
            },
            Format {
                what: "Podfile.lock",
                matches: |p| file_name(p) == "Podfile.lock",
                parse: |_, text| parse_podfile_lock(text),
                installed: false,
            },
        ],
    }
}

fn parse_podfile_lock(text: &str) -> Result<Vec<PackageRecord>, String> {
    let doc: Value = yaml(text)?;
    let Some(pods) = doc.get("PODS") else {
        return Err("no `PODS` list; is this a CocoaPods lock?".into());
    };
    let Some(pods) = pods.as_array() else {
        return Err("`PODS` is not a list".into());
    };
    // pod → (version, dependencies), subspecs folded in.
    let mut found: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    let mut unreadable = 0usize;
    for entry in pods {
        let (spec, deps) = match entry {
            Value::String(s) => (s.as_str(), None),
            Value::Object(map) if map.len() == 1 => match map.iter().next() {
                Some((k, v)) => (k.as_str(), v.as_array()),
                None => continue,
            },
            _ => {
                unreadable += 1;
                continue;
            }
        };
        let Some((name, version)) = split_spec(spec) else {
            unreadable += 1;
            continue;
        };
        let pod = pod_of(name);
        if !plausible_name(pod) || !plausible_version(version) {
            unreadable += 1;
            continue;
        }
        let slot = found
            .entry(pod.to_string())
            .or_insert_with(|| (version.to_string(), Vec::new()));
        for dep in deps.into_iter().flatten().filter_map(Value::as_str) {
            let dep = pod_of(dep.split(" (").next().unwrap_or(dep).trim());
            if dep != pod && !slot.1.iter().any(|d| d == dep) {
                slot.1.push(dep.to_string());
            }
        }
    }
    if found.is_empty() && unreadable > 0 {
        return Err(format!(
            "none of the {unreadable} `PODS` entries reads as `Name (version)`"
        ));
    }
    Ok(found
        .into_iter()
        .map(|(name, (version, deps))| {
            let mut r = PackageRecord::new(Ecosystem::CocoaPods, name, version);
            r.dependencies = deps;
            r
        })
        .collect())
}

/// `Name (1.2.3)` → (`Name`, `1.2.3`).
fn split_spec(spec: &str) -> Option<(&str, &str)> {
    let (name, rest) = spec.trim().split_once(" (")?;
    let version = rest.strip_suffix(')')?;
    Some((name.trim(), version.trim()))
}

fn pod_of(name: &str) -> &str {
    name.split('/').next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::super::format::testing::{assert_malformed, assert_packages, scan};
    use bulwark_types::Evidence;

    // Written from the format CocoaPods documents and writes (guides.cocoapods.org,
    // "Using Pods": the Podfile.lock; Core's Lockfile#to_yaml).
    const LOCK: &str = "PODS:
  - Alamofire (5.6.1)
  - Firebase/Analytics (8.15.0):
    - Firebase/Core
  - Firebase/Core (8.15.0):
    - FirebaseAnalytics (~> 8.15.0)
  - FirebaseAnalytics (8.15.0)

DEPENDENCIES:
  - Alamofire (~> 5.6)
  - Firebase/Analytics

SPEC REPOS:
  trunk:
    - Alamofire
    - Firebase
    - FirebaseAnalytics

SPEC CHECKSUMS:
  Alamofire: 87bd8c952f9a4454320fce00d9cc3de57bcadaf5

PODFILE CHECKSUM: 4a2b8a2d7e5a7c6f1e3f0b9d8c7a6b5e4d3c2b1a

COCOAPODS: 1.11.3
";

    #[test]
    fn podfile_lock_and_installed_manifest() {
        let want = [
            ("Alamofire", "5.6.1", "pkg:cocoapods/Alamofire@5.6.1"),
            ("Firebase", "8.15.0", "pkg:cocoapods/Firebase@8.15.0"),
            (
                "FirebaseAnalytics",
                "8.15.0",
                "pkg:cocoapods/FirebaseAnalytics@8.15.0",
            ),
        ];
        assert_packages("ios/Podfile.lock", LOCK, &want);
        assert_packages("ios/Pods/Manifest.lock", LOCK, &want);
        assert!(scan("ios/Pods/Manifest.lock", LOCK)
            .evidence
            .iter()
            .all(|e| *e == Evidence::Installed));
        assert!(scan("ios/Podfile.lock", LOCK)
            .evidence
            .iter()
            .all(|e| *e == Evidence::Declared));
        assert!(scan("Manifest.lock", LOCK).packages.is_empty());
    }

    #[test]
    fn malformed_podfile_lock() {
        assert_malformed("Podfile.lock", "PODS: [unclosed\n");
        assert_malformed("Podfile.lock", "COCOAPODS: 1.11.3\n");
        assert_malformed(
            "Podfile.lock",
            "PODS:\n  - \"foo,bar&&x (1.0)\"\n  - NoVersion\n",
        );
    }
}
