//! `changes_between`: what changed between two advisory stores, as packages and CVE ids.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bulwark_vulndb::{
    changes_between, import_paths, snapshot_store, Error, NoProgress, Store, DB_FILE,
};
use common::*;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// A store built from `inputs`, then a copy of it that later imports turn into the "new" one.
fn store_pair(root: &Path, inputs: &[PathBuf]) -> (PathBuf, PathBuf) {
    let old = root.join("old");
    let new = root.join("new");
    import_paths(&old, inputs, &NoProgress).unwrap();
    std::fs::create_dir_all(&new).unwrap();
    std::fs::copy(old.join(DB_FILE), new.join(DB_FILE)).unwrap();
    (old, new)
}

fn pairs(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    list.iter()
        .map(|(e, n)| (e.to_string(), n.to_string()))
        .collect()
}

/// A working copy of the PyPI advisories, the KEV subset and the EPSS subset.
fn inputs(root: &Path) -> Vec<PathBuf> {
    let pypi = root.join("in/PyPI");
    copy_dir(&data().join("osv/PyPI"), &pypi);
    let kev = root.join("in/kev.json");
    std::fs::copy(
        data().join("kev/known_exploited_vulnerabilities.subset.json"),
        &kev,
    )
    .unwrap();
    let epss = root.join("in/epss.csv");
    std::fs::copy(data().join("epss/epss.subset.csv"), &epss).unwrap();
    vec![pypi, kev, epss]
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn identical_stores_give_no_changes_quickly() {
    let tmp = tempfile::tempdir().unwrap();
    let ins = inputs(tmp.path());
    let (old, new) = store_pair(tmp.path(), &ins);
    let started = Instant::now();
    let changes = changes_between(&old, &new).unwrap();
    assert!(changes.is_empty(), "{changes:?}");
    assert_eq!(changes, changes_between(&old, &old).unwrap());
    // The fingerprint answers without reading an advisory.
    assert!(started.elapsed() < Duration::from_secs(2));
    let (a, b) = (Store::open(&old).unwrap(), Store::open(&new).unwrap());
    assert_eq!(a.fingerprint().unwrap(), b.fingerprint().unwrap());
}

#[test]
fn reimporting_unchanged_data_changes_the_fingerprint_but_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let ins = inputs(tmp.path());
    let (old, new) = store_pair(tmp.path(), &ins);
    // Row ids and fetch times differ after a rebuild; the content does not.
    import_paths(&new, &ins, &NoProgress).unwrap();
    let (a, b) = (Store::open(&old).unwrap(), Store::open(&new).unwrap());
    assert_ne!(a.fingerprint().unwrap(), b.fingerprint().unwrap());
    let changes = changes_between(&old, &new).unwrap();
    assert!(changes.is_empty(), "{changes:?}");
}

#[test]
fn a_missing_old_store_means_everything_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let ins = inputs(tmp.path());
    let (_, new) = store_pair(tmp.path(), &ins);
    let changes = changes_between(&tmp.path().join("nothing-here"), &new).unwrap();
    assert!(changes.everything && !changes.is_empty());
    // A missing new store is the caller's mistake, said as such.
    assert!(matches!(
        changes_between(&new, &tmp.path().join("nothing-here")),
        Err(Error::NotFound(_))
    ));
}

#[test]
fn a_store_of_another_schema_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let ins = inputs(tmp.path());
    let (old, new) = store_pair(tmp.path(), &ins);
    let conn = rusqlite::Connection::open(old.join(DB_FILE)).unwrap();
    conn.execute(
        "UPDATE meta SET value = '0' WHERE key = 'schema_version'",
        [],
    )
    .unwrap();
    drop(conn);
    let err = changes_between(&old, &new).unwrap_err();
    assert!(
        matches!(err, Error::SchemaMismatch { found: 0, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("schema version 0"), "{err}");
}

#[test]
fn modified_added_removed_and_withdrawn_advisories_name_their_packages() {
    let tmp = tempfile::tempdir().unwrap();
    let ins = inputs(tmp.path());
    let (old, new) = store_pair(tmp.path(), &ins);
    let pypi = &ins[0];
    // Modified: a fixed version moves (requests).
    edit(
        &pypi.join("PYSEC-2014-13.json"),
        "\"fixed\": \"2.3.0\"",
        "\"fixed\": \"2.3.1\"",
    );
    import_paths(&new, &ins, &NoProgress).unwrap();
    let changes = changes_between(&old, &new).unwrap();
    assert_eq!(
        (changes.modified, changes.added, changes.removed),
        (1, 0, 0)
    );
    assert_eq!(changes.packages, pairs(&[("PyPI", "requests")]));
    assert!(changes.cves.is_empty() && !changes.everything);

    // Added (a new package name), removed (a whole file) and withdrawn.
    let added = std::fs::read_to_string(pypi.join("PYSEC-2014-13.json"))
        .unwrap()
        .replace("PYSEC-2014-13", "PYSEC-2099-1")
        .replace("\"name\": \"requests\"", "\"name\": \"Brand_New\"");
    std::fs::write(pypi.join("PYSEC-2099-1.json"), added).unwrap();
    let removed = std::fs::read_dir(pypi)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .contains("\"name\": \"urllib3\"")
        })
        .unwrap();
    std::fs::remove_file(&removed).unwrap();
    let withdrawn = std::fs::read_dir(pypi)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .contains("\"name\": \"jinja2\"")
        })
        .unwrap();
    edit(
        &withdrawn,
        "{",
        "{\n  \"withdrawn\": \"2025-01-01T00:00:00Z\",",
    );
    import_paths(&new, &ins, &NoProgress).unwrap();
    let changes = changes_between(&old, &new).unwrap();
    assert_eq!(
        (changes.modified, changes.added, changes.removed),
        (2, 1, 1),
        "{changes:?}"
    );
    // Names are stored normalised (PEP 503 for PyPI).
    assert_eq!(
        changes.packages,
        pairs(&[
            ("PyPI", "brand-new"),
            ("PyPI", "jinja2"),
            ("PyPI", "requests"),
            ("PyPI", "urllib3")
        ])
    );
}

#[test]
fn kev_and_epss_changes_name_cves_and_the_packages_aliasing_them() {
    let tmp = tempfile::tempdir().unwrap();
    let ins = inputs(tmp.path());
    let (old, new) = store_pair(tmp.path(), &ins);
    // A CVE a requests advisory aliases, with an EPSS score in the subset.
    let epss_text = std::fs::read_to_string(&ins[2]).unwrap();
    let advisory: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(ins[0].join("PYSEC-2014-13.json")).unwrap())
            .unwrap();
    let cve = advisory["aliases"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a.as_str())
        .find(|a| epss_text.contains(&format!("{a},")))
        .expect("an aliased CVE with an EPSS score")
        .to_string();
    let line = epss_text
        .lines()
        .find(|l| l.starts_with(&format!("{cve},")))
        .unwrap()
        .to_string();
    edit(&ins[2], &line, &format!("{cve},0.912340000,0.999990000"));
    // A KEV entry leaves the catalogue.
    edit(
        &ins[1],
        "\"cveID\": \"CVE-2014-0160\"",
        "\"cveID\": \"CVE-1900-0001\"",
    );
    import_paths(&new, &ins, &NoProgress).unwrap();
    let changes = changes_between(&old, &new).unwrap();
    assert!(changes.packages.is_empty(), "{changes:?}");
    let expected: BTreeSet<String> = [cve.as_str(), "CVE-2014-0160", "CVE-1900-0001"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(changes.cves, expected);
    let store = Store::open(&new).unwrap();
    let affected = store
        .packages_aliasing(changes.cves.iter().map(String::as_str))
        .unwrap();
    assert!(affected.contains(&("PyPI".to_string(), "requests".to_string())));
    // An advisory's own id reaches it too.
    let by_id = store.packages_aliasing(["PYSEC-2014-13"]).unwrap();
    assert_eq!(by_id, pairs(&[("PyPI", "requests")]));
}

#[test]
fn a_snapshot_taken_before_an_update_diffs_against_the_updated_store() {
    let tmp = tempfile::tempdir().unwrap();
    let ins = inputs(tmp.path());
    let store = tmp.path().join("store");
    let before = tmp.path().join("before");
    import_paths(&store, &ins, &NoProgress).unwrap();
    snapshot_store(&store, &before).unwrap();
    assert!(changes_between(&before, &store).unwrap().is_empty());
    edit(
        &ins[0].join("PYSEC-2014-13.json"),
        "\"fixed\": \"2.3.0\"",
        "\"fixed\": \"2.3.1\"",
    );
    // The update renames a new file into place; the snapshot keeps the old one.
    import_paths(&store, &ins, &NoProgress).unwrap();
    let changes = changes_between(&before, &store).unwrap();
    assert_eq!(changes.packages, pairs(&[("PyPI", "requests")]));
    // Taken again, it follows the store.
    snapshot_store(&store, &before).unwrap();
    assert!(changes_between(&before, &store).unwrap().is_empty());
    assert!(matches!(
        snapshot_store(&tmp.path().join("none"), &before),
        Err(Error::NotFound(_))
    ));
}

/// The measurement for the report: the full shared advisory data, one advisory modified.
/// `cargo test -p bulwark-vulndb --test diff -- --ignored --nocapture`
#[test]
#[ignore = "needs the shared advisory data beside the checkout (or BULWARK_SHARED_ADVISORIES); prints timings"]
fn diff_of_the_full_shared_data() {
    let shared = std::env::var_os("BULWARK_SHARED_ADVISORIES")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/advisories")
        });
    let shared = shared.as_path();
    if !shared.is_dir() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let osv = tmp.path().join("osv");
    copy_dir(&shared.join("osv"), &osv);
    let mut ins = vec![
        osv.clone(),
        shared.join("alpine/secdb/v3.22/main.subset.json"),
        shared.join("alpine/secdb-legacy/v3.11/main.json"),
        shared.join("alpine/secdb-legacy/v3.11/community.json"),
        shared.join("kev/known_exploited_vulnerabilities.json"),
        shared.join("epss/epss-subset.csv"),
    ];
    for list in [
        "CVE-list.excerpt",
        "DSA-list.excerpt-2022-2024",
        "DSA-list.minbase-python3.until-2023-04",
        "DLA-list.minbase-python3.until-2023-04",
    ] {
        ins.push(shared.join("debian/security-tracker").join(list));
    }
    let (old, new) = store_pair(tmp.path(), &ins);
    edit(
        &osv.join("PyPI/PYSEC-2014-13.json"),
        "\"fixed\": \"2.3.0\"",
        "\"fixed\": \"2.3.1\"",
    );
    import_paths(&new, &ins, &NoProgress).unwrap();
    let meta = Store::open(&new).unwrap().metadata().unwrap();
    let started = Instant::now();
    let changes = changes_between(&old, &new).unwrap();
    let took = started.elapsed();
    println!(
        "full shared data ({} advisories, {} affected, {} KEV, {} EPSS, {} bytes): diff with one advisory modified in {took:?}: {changes:?}",
        meta.advisories, meta.affected, meta.kev, meta.epss, meta.size_bytes
    );
    assert_eq!(changes.packages, pairs(&[("PyPI", "requests")]));
    let started = Instant::now();
    assert!(changes_between(&new, &new).unwrap().is_empty());
    println!("identical stores: {:?}", started.elapsed());
}
