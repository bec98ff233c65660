//! OSV JSON (<https://ossf.github.io/osv-schema/>) into [`Advisory`].

use bulwark_types::Ecosystem;
use bulwark_version::{compare, Scheme};
use serde::Deserialize;
use serde_json::Value;

use crate::model::{Advisory, Affected, AffectedStatus, Range, SeverityVector, Skips};

/// A package name as the store keys it, by the ecosystem table ([`Ecosystem::normalize_name`]):
/// PEP 503 for PyPI, lowercase for NuGet and Packagist
/// (both case-insensitive registries), everything else as written (npm, Go module paths, Maven
/// `group:artifact`, crates.io, distro source package names).
pub fn normalize_name(ecosystem: &str, name: &str) -> String {
    match Ecosystem::from_osv_name(ecosystem) {
        Some(eco) => eco.normalize_name(name),
        None => name.trim().to_string(),
    }
}

#[derive(Deserialize)]
struct RawOsv {
    id: Option<String>,
    #[serde(default)]
    aliases: Vec<String>,
    summary: Option<String>,
    details: Option<String>,
    published: Option<String>,
    modified: Option<String>,
    withdrawn: Option<String>,
    #[serde(default)]
    severity: Vec<SeverityVector>,
    #[serde(default)]
    affected: Vec<RawAffected>,
    #[serde(default)]
    references: Vec<RawRef>,
    #[serde(default)]
    database_specific: Value,
}

#[derive(Deserialize)]
struct RawRef {
    url: Option<String>,
}

#[derive(Deserialize)]
struct RawAffected {
    package: Option<RawPackage>,
    #[serde(default)]
    ranges: Vec<RawRange>,
    #[serde(default)]
    versions: Vec<String>,
    #[serde(default)]
    severity: Vec<SeverityVector>,
}

#[derive(Deserialize)]
struct RawPackage {
    ecosystem: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
struct RawRange {
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    events: Vec<serde_json::Map<String, Value>>,
}

/// Parses one OSV document (an object, or an array of objects). Broken records are counted in
/// `skips` and left out.
pub(crate) fn parse_osv(bytes: &[u8], skips: &mut Skips) -> Vec<Advisory> {
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(_) => {
            skips.add("OSV: invalid JSON");
            return Vec::new();
        }
    };
    parse_osv_value(value, skips)
}

/// Whether a JSON document looks like OSV (an object with `id` plus `affected`/`modified`, or
/// an array of them).
pub(crate) fn looks_like_osv(v: &Value) -> bool {
    let one = |o: &Value| {
        o.get("affected").is_some() || (o.get("id").is_some() && o.get("modified").is_some())
    };
    match v {
        Value::Array(items) => items.first().is_some_and(one),
        other => one(other),
    }
}

pub(crate) fn parse_osv_value(value: Value, skips: &mut Skips) -> Vec<Advisory> {
    let items = match value {
        Value::Array(items) => items,
        other => vec![other],
    };
    items
        .into_iter()
        .filter_map(|item| convert(item, skips))
        .collect()
}

fn convert(item: Value, skips: &mut Skips) -> Option<Advisory> {
    let raw: RawOsv = match serde_json::from_value(item) {
        Ok(r) => r,
        Err(_) => {
            skips.add("OSV: record does not follow the schema");
            return None;
        }
    };
    let Some(id) = raw.id.filter(|s| !s.trim().is_empty()) else {
        skips.add("OSV: missing id");
        return None;
    };
    let mut severity = raw.severity;
    let mut affected = Vec::new();
    let had_affected = !raw.affected.is_empty();
    for a in raw.affected {
        for s in a.severity {
            if !severity.contains(&s) {
                severity.push(s);
            }
        }
        let Some(pkg) = a.package else {
            skips.add("OSV: affected entry without package");
            continue;
        };
        let (Some(eco), Some(name)) = (pkg.ecosystem, pkg.name) else {
            skips.add("OSV: package without ecosystem or name");
            continue;
        };
        let Some(scheme) = Scheme::for_osv_ecosystem(&eco) else {
            skips.add(format!(
                "OSV: unknown or unversioned ecosystem {:?}",
                eco.split(':').next().unwrap_or("")
            ));
            continue;
        };
        let mut ranges = Vec::new();
        let mut git_only = false;
        let mut bad = None;
        for r in a.ranges {
            let kind = r.kind.unwrap_or_default();
            let Some(rscheme) = Scheme::for_osv_range(&kind, &eco) else {
                git_only = true;
                continue;
            };
            let mut events = Vec::new();
            let mut range_ok = true;
            for ev in &r.events {
                for (k, v) in ev {
                    let short = match k.as_str() {
                        "introduced" => "i",
                        "fixed" => "f",
                        "last_affected" => "l",
                        "limit" => "m",
                        _ => continue,
                    };
                    let Some(v) = v.as_str() else { continue };
                    let special = (short == "i" && v == "0") || (short == "m" && v == "*");
                    if !special && compare(rscheme, v, v).is_err() {
                        // Dropping just the event could turn "fixed in X" into "never fixed".
                        bad = Some("OSV: unparsable version in a range");
                        range_ok = false;
                    }
                    events.push((short.to_string(), v.to_string()));
                }
            }
            if !range_ok {
                continue;
            }
            if !events.iter().any(|(k, _)| k == "i") {
                bad = Some("OSV: range without an introduced event");
                continue;
            }
            ranges.push(Range { kind, events });
        }
        // Kept even next to ranges: OSV says a version listed here is affected whatever the
        // ranges say (PYSEC lists versions derived from GIT ranges too).
        let versions: Vec<String> = a
            .versions
            .into_iter()
            .filter(|v| !v.contains('\n') && compare(scheme, v, v).is_ok())
            .collect();
        if ranges.is_empty() && versions.is_empty() {
            skips.add(match bad {
                Some(reason) => reason,
                None if git_only => "OSV: only GIT ranges (commit hashes cannot be matched)",
                None => "OSV: affected entry without ranges or versions",
            });
            continue;
        }
        if let Some(reason) = bad {
            skips.add(reason);
        }
        affected.push(Affected {
            name: normalize_name(&eco, &name),
            ecosystem: eco,
            status: AffectedStatus::Affected,
            ranges,
            versions,
            note: None,
        });
    }
    if affected.is_empty() {
        if !had_affected {
            skips.add("OSV: no affected packages");
        }
        return None;
    }
    let source_severity = raw
        .database_specific
        .get("severity")
        .and_then(Value::as_str)
        .map(str::to_string);
    Some(Advisory {
        id,
        aliases: raw.aliases,
        summary: raw.summary,
        details: raw.details.map(|d| truncate(d, 2000)),
        published: raw.published,
        modified: raw.modified,
        withdrawn: raw.withdrawn,
        severity,
        source_severity,
        references: raw
            .references
            .into_iter()
            .filter_map(|r| r.url)
            .take(20)
            .collect(),
        affected,
    })
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503() {
        assert_eq!(normalize_name("PyPI", "Jinja2"), "jinja2");
        assert_eq!(normalize_name("PyPI", "zope.interface"), "zope-interface");
        assert_eq!(normalize_name("PyPI", "Foo__Bar-.baz"), "foo-bar-baz");
        assert_eq!(normalize_name("npm", "Axios"), "Axios");
        assert_eq!(
            normalize_name("Maven", "org.apache.logging.log4j:log4j-core"),
            "org.apache.logging.log4j:log4j-core"
        );
    }

    #[test]
    fn skips_counted() {
        let mut skips = Skips::default();
        let doc = br#"[{"id":"X-1","affected":[{"package":{"ecosystem":"Nope","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]},
            {"affected":[]},
            {"id":"X-2","affected":[{"package":{"ecosystem":"PyPI","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":[{"fixed":"1.0"}]}]}]},
            {"id":"X-3","affected":[{"package":{"ecosystem":"PyPI","name":"A_b"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.0"}]}]}]}]"#;
        let out = parse_osv(doc, &mut skips);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].affected[0].name, "a-b");
        assert!(skips.0.contains_key("OSV: missing id"));
        assert!(skips
            .0
            .contains_key("OSV: range without an introduced event"));
        assert!(skips.0.keys().any(|k| k.contains("unknown")));
    }
}
