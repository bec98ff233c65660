//! Swift packages: what SwiftPM resolved, `Package.resolved` (format v1, `object.pins`; v2
//! and v3, `pins`), the same file inside an Xcode project
//! (`*.xcodeproj/project.xcworkspace/xcshareddata/swiftpm/Package.resolved`).
//!
//! Choices:
//! * The package is named by its repository URL without scheme or `.git`
//!   (`github.com/apple/swift-nio`): OSV's `SwiftURL` names packages so, and the purl is
//!   `pkg:swift/github.com/apple/swift-nio@2.40.0` (purl spec: namespace is host and path).
//! * A pin without a version (a branch or a revision) is reported at its revision.
//! * Local packages (a path, no URL) and registry pins without a URL are left out: nothing
//!   identifies them outside the machine that built.

use bulwark_analyze::PackageRecord;
use bulwark_types::Ecosystem;
use serde::Deserialize;

use super::format::{file_name, Format, FormatAnalyzer};

pub(crate) fn analyzer() -> FormatAnalyzer {
    FormatAnalyzer {
        id: "swift",
        version: 1,
        formats: &[Format {
            what: "Package.resolved",
            // `.package.resolved` is the name SwiftPM 5.0–5.1 gave it in some project layouts.
            matches: |p| matches!(file_name(p), "Package.resolved" | ".package.resolved"),
            parse: |_, text| parse_package_resolved(text),
            installed: false,
        }],
    }
}

#[derive(Deserialize)]
struct Resolved {
    #[serde(default)]
    version: Option<u64>,
    #[serde(default)]
    object: Option<Pins>,
    #[serde(default)]
    pins: Option<Vec<Pin>>,
}

#[derive(Deserialize)]
struct Pins {
    pins: Vec<Pin>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Pin {
    /// v2 and v3.
    #[serde(default)]
    location: Option<String>,
    /// v1.
    #[serde(default, rename = "repositoryURL")]
    repository_url: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    state: State,
}

#[derive(Deserialize)]
struct State {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    revision: Option<String>,
}

fn parse_package_resolved(text: &str) -> Result<Vec<PackageRecord>, String> {
    let doc: Resolved = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let pins = match (doc.object, doc.pins) {
        (Some(object), _) => object.pins,
        (None, Some(pins)) => pins,
        (None, None) => {
            return Err(format!(
                "no `pins` (format version {}); is this a SwiftPM Package.resolved?",
                doc.version.map_or("unknown".to_string(), |v| v.to_string())
            ))
        }
    };
    let mut out = Vec::new();
    for pin in pins {
        if matches!(
            pin.kind.as_deref(),
            Some("localSourceControl" | "fileSystem")
        ) {
            continue;
        }
        let Some(name) = pin
            .location
            .or(pin.repository_url)
            .as_deref()
            .and_then(repository_name)
        else {
            continue;
        };
        let Some(version) = pin.state.version.or(pin.state.revision) else {
            continue;
        };
        if version.trim().is_empty() {
            continue;
        }
        out.push(PackageRecord::new(Ecosystem::Swift, name, version.trim()));
    }
    Ok(out)
}

/// `https://github.com/apple/swift-nio.git`, `git@github.com:apple/swift-nio.git` and
/// `ssh://git@github.com/apple/swift-nio` → `github.com/apple/swift-nio`; `None` for a path.
pub(crate) fn repository_name(url: &str) -> Option<String> {
    let url = url.trim();
    let rest = if let Some((_, rest)) = url.split_once("://") {
        rest.to_string()
    } else if let Some((user_host, path)) = url.split_once(':') {
        // scp-like `git@host:owner/repo`
        if user_host.contains('/') {
            return None;
        }
        format!("{user_host}/{path}")
    } else {
        return None;
    };
    let rest = rest.rsplit_once('@').map_or(rest.as_str(), |(_, r)| r);
    let rest = rest.trim_end_matches('/');
    let rest = rest.strip_suffix(".git").unwrap_or(rest);
    let (host, path) = rest.split_once('/')?;
    if host.is_empty() || path.is_empty() || path.split('/').any(str::is_empty) {
        return None;
    }
    Some(format!("{}/{path}", host.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::super::format::testing::{assert_malformed, assert_packages};

    // Written from SwiftPM's sources of the format (swift-package-manager,
    // Sources/PackageGraph/PinsStore.swift and Workspace/ResolvedFileWatcher): v1 nests the
    // pins under `object` with `package`/`repositoryURL`, v2 and v3 use
    // `identity`/`kind`/`location`.
    #[test]
    fn package_resolved_v1_v2_v3() {
        let v1 = r#"{
  "object": {
    "pins": [
      {"package": "Alamofire", "repositoryURL": "https://github.com/Alamofire/Alamofire.git",
       "state": {"branch": null, "revision": "354dda32d89fc8cd4f5c46487f64957d355f53d8", "version": "5.6.1"}},
      {"package": "Nuke", "repositoryURL": "git@github.com:kean/Nuke.git",
       "state": {"branch": "main", "revision": "f4bd5d1e9c2fd1fdf1e4c5d3a7c8fd1a3e4b0a11", "version": null}}
    ]
  },
  "version": 1
}"#;
        assert_packages(
            "src/App/Package.resolved",
            v1,
            &[
                (
                    "github.com/Alamofire/Alamofire",
                    "5.6.1",
                    "pkg:swift/github.com/Alamofire/Alamofire@5.6.1",
                ),
                (
                    "github.com/kean/Nuke",
                    "f4bd5d1e9c2fd1fdf1e4c5d3a7c8fd1a3e4b0a11",
                    "pkg:swift/github.com/kean/Nuke@f4bd5d1e9c2fd1fdf1e4c5d3a7c8fd1a3e4b0a11",
                ),
            ],
        );
        let v2 = r#"{
  "pins" : [
    {"identity" : "swift-nio", "kind" : "remoteSourceControl", "location" : "https://github.com/apple/swift-nio.git",
     "state" : {"revision" : "a1f9d2a3b1c4e5f60718293a4b5c6d7e8f901234", "version" : "2.40.0"}},
    {"identity" : "localdep", "kind" : "localSourceControl", "location" : "/Users/me/localdep",
     "state" : {"revision" : "0000000000000000000000000000000000000001"}}
  ],
  "version" : 2
}"#;
        assert_packages(
            "App.xcodeproj/project.xcworkspace/xcshareddata/swiftpm/Package.resolved",
            v2,
            &[(
                "github.com/apple/swift-nio",
                "2.40.0",
                "pkg:swift/github.com/apple/swift-nio@2.40.0",
            )],
        );
        let v3 = r#"{"originHash" : "1f2e", "pins" : [{"identity" : "swift-log", "kind" : "remoteSourceControl",
  "location" : "https://github.com/apple/swift-log", "state" : {"revision" : "e97a6fcb1ab07462881ac165fdbb37f067e205d5", "version" : "1.5.4"}}], "version" : 3}"#;
        assert_packages(
            ".package.resolved",
            v3,
            &[(
                "github.com/apple/swift-log",
                "1.5.4",
                "pkg:swift/github.com/apple/swift-log@1.5.4",
            )],
        );
    }

    #[test]
    fn malformed_package_resolved() {
        assert_malformed("Package.resolved", "{\"pins\": [");
        assert_malformed("Package.resolved", "{\"version\": 2}");
        assert_malformed("Package.resolved", "[1, 2]");
    }

    #[test]
    fn repository_names() {
        use super::repository_name as r;
        assert_eq!(
            r("ssh://git@GitHub.com/a/b.git/").as_deref(),
            Some("github.com/a/b")
        );
        assert_eq!(r("/Users/me/dep"), None);
        assert_eq!(r("https://github.com/"), None);
        assert_eq!(r("https://github.com//x"), None);
    }
}
