mod common;

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use bulwark_vulndb::{check_age, import_paths, AgePolicy, Error, NoProgress, Store, StoreBuilder};
use common::*;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn import_counts_skips_and_fast_open() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("in");
    copy_dir(&data().join("osv/PyPI"), &src);
    std::fs::write(
        src.join("broken-1.json"),
        br#"{"modified":"2024-01-01T00:00:00Z","affected":[]}"#,
    )
    .unwrap();
    std::fs::write(
        src.join("broken-2.json"),
        br#"{"id":"X-2","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"NoSuchEco","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}"#,
    )
    .unwrap();
    std::fs::write(
        src.join("broken-3.json"),
        br#"{"id":"X-3","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"!!"}]}]}]}"#,
    )
    .unwrap();
    std::fs::write(src.join("truncated.json"), b"{\"id\": ").unwrap();
    std::fs::write(src.join("README.md"), b"not data").unwrap();
    let db = tmp.path().join("db");
    let summary = import_paths(&db, std::slice::from_ref(&src), &NoProgress).unwrap();
    assert_eq!(summary.sources.len(), 1);
    let s = &summary.sources[0];
    assert_eq!(s.counts.advisories, 21, "{summary:#?}");
    let skipped = summary.skipped();
    assert_eq!(skipped.0.get("OSV: missing id"), Some(&1), "{skipped:?}");
    assert_eq!(skipped.0.get("invalid JSON file"), Some(&1), "{skipped:?}");
    assert!(
        skipped.0.contains_key("OSV: unparsable version in a range"),
        "{skipped:?}"
    );
    assert!(
        skipped.0.keys().any(|k| k.contains("NoSuchEco")),
        "{skipped:?}"
    );
    assert_eq!(summary.ignored_files.len(), 1);

    let t = Instant::now();
    let store = Store::open(&db).unwrap();
    let meta = store.metadata().unwrap();
    assert!(t.elapsed().as_millis() < 50, "open took {:?}", t.elapsed());
    assert_eq!(meta.advisories, 21);
    assert_eq!(meta.sources[0].advisories, 21);
    assert!(check_age(
        &meta,
        time::OffsetDateTime::now_utc(),
        &AgePolicy::default()
    )
    .unwrap()
    .is_none());

    // Re-importing the same path replaces its source rather than duplicating it.
    import_paths(&db, &[src], &NoProgress).unwrap();
    assert_eq!(Store::open(&db).unwrap().metadata().unwrap().advisories, 21);
}

#[test]
fn failed_or_killed_import_keeps_old_store() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db");
    import_paths(&db, &[data().join("osv/PyPI")], &NoProgress).unwrap();
    let before = Store::open(&db).unwrap().metadata().unwrap();
    assert_eq!(before.advisories, 21);

    // Fails midway: the npm directory is written into the new copy, then a path is missing.
    let err = import_paths(
        &db,
        &[data().join("osv/npm"), tmp.path().join("missing")],
        &NoProgress,
    )
    .unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err}");
    // A corrupt zip aborts too.
    let zip = tmp.path().join("bad.zip");
    std::fs::write(&zip, b"PK\x03\x04 definitely not a zip").unwrap();
    let err = import_paths(&db, &[data().join("osv/npm"), zip], &NoProgress).unwrap_err();
    assert!(matches!(err, Error::Corrupt { .. }), "{err}");

    // Killed: the builder never commits nor cleans up.
    let builder = StoreBuilder::begin(&db, true).unwrap();
    std::mem::forget(builder);

    let after = Store::open(&db).unwrap().metadata().unwrap();
    assert_eq!(after.advisories, before.advisories);
    assert_eq!(after.affected, before.affected);
    assert_eq!(after.updated_at, before.updated_at);
    assert_eq!(after.sources, before.sources);

    // The next build removes its stale temp directories and succeeds.
    import_paths(&db, &[data().join("osv/npm")], &NoProgress).unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".db.tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(
        Store::open(&db).unwrap().metadata().unwrap().advisories,
        21 + 17
    );
}

#[test]
fn kev_epss_plain_and_gz() {
    let tmp = tempfile::tempdir().unwrap();
    let gz = tmp.path().join("epss_scores-2024-01-02.csv.gz");
    let body = std::fs::read_to_string(data().join("epss/epss.subset.csv")).unwrap();
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(
        format!("#model_version:v2023.03.01,score_date:2024-01-02T00:00:00+0000\n{body}")
            .as_bytes(),
    )
    .unwrap();
    enc.finish().unwrap();
    let db = tmp.path().join("db");
    let summary = import_paths(
        &db,
        &[
            data().join("kev/known_exploited_vulnerabilities.subset.json"),
            gz,
        ],
        &NoProgress,
    )
    .unwrap();
    let store = Store::open(&db).unwrap();
    let meta = store.metadata().unwrap();
    assert_eq!(meta.kev, 9);
    assert_eq!(meta.epss, 1021, "{summary:#?}");
    let e = store.epss("CVE-2021-44228").unwrap().unwrap();
    assert_eq!(e.date.as_deref(), Some("2024-01-02"));
    assert!(store
        .kev("CVE-2021-44228")
        .unwrap()
        .unwrap()
        .due_date
        .is_some());
    // Plain CSV without the model line replaces the EPSS source.
    import_paths(&db, &[data().join("epss/epss.subset.csv")], &NoProgress).unwrap();
    let store = Store::open(&db).unwrap();
    assert_eq!(store.metadata().unwrap().epss, 1021);
    assert_eq!(store.epss("CVE-2021-44228").unwrap().unwrap().date, None);
}

#[test]
fn missing_store_and_age_limits() {
    let tmp = tempfile::tempdir().unwrap();
    let err = Store::open(&tmp.path().join("nope")).unwrap_err();
    assert!(err.to_string().contains("bulwark db update"), "{err}");
    let db = tmp.path().join("db");
    import_paths(&db, &[data().join("osv/crates.io")], &NoProgress).unwrap();
    let meta = Store::open(&db).unwrap().metadata().unwrap();
    let policy = AgePolicy {
        warn_after_days: 7,
        fail_after_days: 30,
    };
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(10);
    let w = check_age(&meta, later, &policy).unwrap().unwrap();
    assert_eq!(w.age_days, 10);
    let much_later = time::OffsetDateTime::now_utc() + time::Duration::days(31);
    assert!(matches!(
        check_age(&meta, much_later, &policy),
        Err(Error::TooOld { .. })
    ));
}

#[test]
fn unknown_explicit_file_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let f = tmp.path().join("notes.txt");
    std::fs::write(&f, "hello").unwrap();
    let err = import_paths(&tmp.path().join("db"), &[f], &NoProgress).unwrap_err();
    assert!(matches!(err, Error::UnknownFormat(_)), "{err}");
    assert!(!tmp.path().join("db").join("vulndb.sqlite").exists());
}
