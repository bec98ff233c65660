//! Advisory data: files `bulwark db import` (and `update`, with downloaded bodies) reads, fed
//! through `bulwark_vulndb::import_paths` into a throwaway store; CVSS vectors and version
//! strings, which come from that data and from image metadata.

use bulwark_version::{RangeEvent, Scheme};

/// Imports `data` as a file called `name` (the name picks the format, as it does for
/// `bulwark db import`) into a store in a fresh temporary directory.
fn import_as(name: &str, data: &[u8]) {
    let Ok(dir) = tempfile::Builder::new().prefix("bulwark-fuzz-").tempdir() else {
        return;
    };
    let file = dir.path().join(name);
    if std::fs::write(&file, data).is_err() {
        return;
    }
    let store = dir.path().join("db");
    let _ = bulwark_vulndb::import_paths(&store, &[file], &bulwark_vulndb::NoProgress);
}

/// OSV, CISA KEV or Alpine secdb JSON (told apart by content).
pub(crate) fn advisory_json(data: &[u8]) {
    import_as("advisories.json", data)
}

/// A zip of OSV records (OSV's `all.zip`).
pub(crate) fn osv_zip(data: &[u8]) {
    import_as("all.zip", data)
}

/// Debian security tracker lists (`CVE/list`, `DSA/list`), EPSS CSV: text told apart by
/// content.
pub(crate) fn advisory_text(data: &[u8]) {
    import_as("list", data)
}

/// A gzip-compressed EPSS CSV, as FIRST publishes it.
pub(crate) fn epss_csv_gz(data: &[u8]) {
    import_as("epss_scores.csv.gz", data)
}

/// One CVSS vector per line, scored as v3 and v4.
pub(crate) fn cvss_vector(data: &[u8]) {
    for line in String::from_utf8_lossy(data).lines() {
        let _ = bulwark_vulndb::cvss::base_score_v3(line);
        let _ = bulwark_vulndb::cvss::score_v4(line);
    }
}

/// Events per range the `version` target builds. Real OSV ranges have a handful; beyond a few
/// hundred the target would measure its own loop over eleven schemes, not a parser (the
/// n log n ordering of many events has its own test in bulwark-version).
const MAX_RANGE_EVENTS: usize = 256;

/// First line a version, the others OSV range events (introduced, fixed, last_affected,
/// limit in turn), checked under every version scheme.
pub(crate) fn version(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.lines();
    let version = lines.next().unwrap_or("");
    let events: Vec<RangeEvent> = lines
        .take(MAX_RANGE_EVENTS)
        .enumerate()
        .map(|(i, v)| match i % 4 {
            0 => RangeEvent::Introduced(v.to_string()),
            1 => RangeEvent::Fixed(v.to_string()),
            2 => RangeEvent::LastAffected(v.to_string()),
            _ => RangeEvent::Limit(v.to_string()),
        })
        .collect();
    for scheme in Scheme::ALL {
        let _ = bulwark_version::parse_check(scheme, version);
        for event in &events {
            let other = match event {
                RangeEvent::Introduced(v)
                | RangeEvent::Fixed(v)
                | RangeEvent::LastAffected(v)
                | RangeEvent::Limit(v) => v,
            };
            let _ = bulwark_version::compare(scheme, version, other);
        }
        let _ = bulwark_version::in_osv_range(scheme, version, &events);
    }
}
