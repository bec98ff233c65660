//! Issue 18: packages of the ecosystems added then (Hex, Pub, SwiftURL, Hackage, CRAN,
//! ConanCenter, Julia, opam) match OSV advisories filed under those ecosystems' names, through
//! each one's version scheme. The advisories are tiny ones written here (ids `BULWARK-TEST-*`),
//! in OSV's schema (ossf.github.io/osv-schema), one per ecosystem.

mod common;

use bulwark_types::Ecosystem;
use bulwark_vulndb::{import_paths, match_packages, MatchOptions, NoProgress, Store};
use common::*;

/// (OSV ecosystem, package name, introduced, fixed).
const ADVISORIES: &[(&str, &str, &str, &str)] = &[
    ("Hex", "plug", "0", "1.3.5"),
    ("Pub", "http", "0", "0.13.3"),
    ("SwiftURL", "github.com/apple/swift-nio", "2.0.0", "2.29.1"),
    ("Hackage", "aeson", "0", "2.0.1.0"),
    ("CRAN", "commonmark", "0", "1.8"),
    ("ConanCenter", "zlib", "0", "1.2.12"),
    ("Julia", "HTTP", "0", "1.10.1"),
    ("opam", "cohttp", "0", "5.1.1"),
];

fn advisory(i: usize, ecosystem: &str, name: &str, introduced: &str, fixed: &str) -> String {
    serde_json::json!({
        "schema_version": "1.6.0",
        "id": format!("BULWARK-TEST-{i}"),
        "modified": "2026-01-01T00:00:00Z",
        "published": "2026-01-01T00:00:00Z",
        "summary": format!("test advisory for {name}"),
        "affected": [{
            "package": {"ecosystem": ecosystem, "name": name},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": introduced}, {"fixed": fixed}]}]
        }]
    })
    .to_string()
}

#[test]
fn issue_18_new_ecosystems_match_their_osv_feeds() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("osv");
    std::fs::create_dir_all(&feed).unwrap();
    for (i, (eco, name, introduced, fixed)) in ADVISORIES.iter().enumerate() {
        std::fs::write(
            feed.join(format!("BULWARK-TEST-{i}.json")),
            advisory(i, eco, name, introduced, fixed),
        )
        .unwrap();
    }
    let db = dir.path().join("db");
    import_paths(&db, &[feed], &NoProgress).unwrap();
    let store = Store::open(&db).unwrap();
    // (ecosystem, name, a version inside the range, the fixed one, a later one).
    let cases = [
        (Ecosystem::Hex, "plug", "1.3.4", "1.3.5", "1.10.0"),
        (Ecosystem::Pub, "http", "0.13.2", "0.13.3", "1.1.0"),
        (
            Ecosystem::Swift,
            "github.com/apple/swift-nio",
            "2.29.0",
            "2.29.1",
            "2.40.0",
        ),
        (Ecosystem::Hackage, "aeson", "2.0.0.0", "2.0.1.0", "2.1.2.1"),
        (Ecosystem::Cran, "commonmark", "1.7", "1.8", "1.9.0"),
        (Ecosystem::Conan, "zlib", "1.2.11", "1.2.12", "1.3.1"),
        (Ecosystem::Julia, "HTTP", "1.10.0", "1.10.1", "1.10.8"),
        (Ecosystem::Opam, "cohttp", "5.0.0", "5.1.1", "5.3.0"),
    ];
    for (i, (eco, name, vulnerable, fixed, later)) in cases.into_iter().enumerate() {
        let id = format!("BULWARK-TEST-{i}");
        let found = |version: &str| {
            let o = match_packages(
                &store,
                None,
                &[pkg(eco, name, version)],
                &MatchOptions::default(),
            );
            o.findings.iter().any(|f| f.ids.contains(&id) || f.id == id)
        };
        assert!(
            found(vulnerable),
            "{eco} {name} {vulnerable} should match {id}"
        );
        assert!(!found(fixed), "{eco} {name} {fixed} is the fixed version");
        assert!(
            !found(later),
            "{eco} {name} {later} is past the fix (version order)"
        );
    }
    // A name is looked up only in its own ecosystem.
    let o = match_packages(
        &store,
        None,
        &[pkg(Ecosystem::Npm, "plug", "1.0.0")],
        &MatchOptions::default(),
    );
    assert!(o.findings.is_empty());
}
