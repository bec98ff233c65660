//! Non-OSV feeds: CISA KEV, FIRST EPSS, Alpine secdb and the Debian security tracker.

use std::collections::BTreeMap;

use bulwark_version::{compare, Scheme};
use serde_json::Value;

use crate::model::{Advisory, Affected, AffectedStatus, Range, Skips};
use bulwark_types::{EpssScore, KevEntry};

pub(crate) fn is_kev(v: &Value) -> bool {
    v.get("vulnerabilities").is_some_and(Value::is_array)
        && (v.get("catalogVersion").is_some() || v.get("title").is_some())
}

pub(crate) fn parse_kev(v: &Value, skips: &mut Skips) -> Vec<KevEntry> {
    let s = |e: &Value, k: &str| e.get(k).and_then(Value::as_str).map(str::to_string);
    let mut out = Vec::new();
    for e in v
        .get("vulnerabilities")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(cve) = s(e, "cveID").filter(|c| c.starts_with("CVE-")) else {
            skips.add("KEV: entry without a cveID");
            continue;
        };
        out.push(KevEntry {
            cve,
            date_added: s(e, "dateAdded"),
            due_date: s(e, "dueDate"),
            vendor: s(e, "vendorProject"),
            product: s(e, "product"),
            name: s(e, "vulnerabilityName"),
            ransomware: s(e, "knownRansomwareCampaignUse"),
        });
    }
    out
}

/// EPSS CSV: an optional `#model_version:…,score_date:…` line, a `cve,epss,percentile` header,
/// then rows (`,` or `;` separated).
pub(crate) fn parse_epss(text: &str, skips: &mut Skips) -> Vec<EpssScore> {
    let mut date = None;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            for part in comment.split(',') {
                if let Some(d) = part.trim().strip_prefix("score_date:") {
                    date = Some(d.get(..10).unwrap_or(d).to_string());
                }
            }
            continue;
        }
        let mut cols = line.split([',', ';']);
        let (Some(cve), Some(score), Some(pct)) = (cols.next(), cols.next(), cols.next()) else {
            skips.add("EPSS: row with fewer than 3 columns");
            continue;
        };
        if cve.eq_ignore_ascii_case("cve") {
            continue;
        }
        let (Ok(score), Ok(percentile)) = (score.trim().parse::<f64>(), pct.trim().parse::<f64>())
        else {
            skips.add("EPSS: unparsable score or percentile");
            continue;
        };
        if !cve.starts_with("CVE-")
            || !(0.0..=1.0).contains(&score)
            || !(0.0..=1.0).contains(&percentile)
        {
            skips.add("EPSS: bad CVE id or value out of range");
            continue;
        }
        out.push(EpssScore {
            cve: cve.trim().to_string(),
            score,
            percentile,
            date: None,
        });
    }
    for s in &mut out {
        s.date.clone_from(&date);
    }
    out
}

pub(crate) fn is_alpine_secdb(v: &Value) -> bool {
    v.get("packages").is_some_and(Value::is_array) && v.get("distroversion").is_some()
}

/// Alpine secdb: `secfixes` maps a fixed version to ids; `"0"` marks ids that do not affect the
/// package. Ecosystem `Alpine:<distroversion>`, keyed on the origin (source) package.
pub(crate) fn parse_alpine(v: &Value, skips: &mut Skips) -> Vec<Advisory> {
    let Some(release) = v.get("distroversion").and_then(Value::as_str) else {
        return Vec::new();
    };
    let release = if release.starts_with('v') {
        release.to_string()
    } else {
        format!("v{release}")
    };
    let ecosystem = format!("Alpine:{release}");
    let mut by_id: BTreeMap<String, Advisory> = BTreeMap::new();
    for p in v
        .get("packages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let pkg = p.get("pkg").unwrap_or(p);
        let Some(name) = pkg.get("name").and_then(Value::as_str) else {
            skips.add("Alpine: package without a name");
            continue;
        };
        let Some(secfixes) = pkg.get("secfixes").and_then(Value::as_object) else {
            continue;
        };
        for (version, ids) in secfixes {
            let not_affected = version.trim() == "0";
            if !not_affected && compare(Scheme::Apk, version, version).is_err() {
                skips.add("Alpine: unparsable fixed version");
                continue;
            }
            for id in ids
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                let mut tokens = id.split_whitespace();
                let Some(primary) = tokens.next() else {
                    skips.add("Alpine: empty id");
                    continue;
                };
                let adv = by_id
                    .entry(primary.to_string())
                    .or_insert_with(|| Advisory {
                        id: primary.to_string(),
                        ..Advisory::default()
                    });
                for alias in tokens {
                    if !adv.aliases.iter().any(|a| a == alias) {
                        adv.aliases.push(alias.to_string());
                    }
                }
                adv.affected.push(Affected {
                    ecosystem: ecosystem.clone(),
                    name: name.to_string(),
                    status: if not_affected {
                        AffectedStatus::NotAffected
                    } else {
                        AffectedStatus::Affected
                    },
                    ranges: if not_affected {
                        Vec::new()
                    } else {
                        vec![Range::fixed_at(version)]
                    },
                    versions: Vec::new(),
                    note: not_affected.then(|| "secfixes \"0\": not affected".to_string()),
                });
            }
        }
    }
    by_id.into_values().collect()
}

/// Debian release codenames and their OSV ecosystem suffix.
pub fn debian_release(codename: &str) -> Option<&'static str> {
    Some(match codename {
        "jessie" => "8",
        "stretch" => "9",
        "buster" => "10",
        "bullseye" => "11",
        "bookworm" => "12",
        "trixie" => "13",
        "forky" => "14",
        "sid" => "unstable",
        _ => return None,
    })
}

/// Releases that inherit the unstable (`- pkg version`) line when they have none of their own.
const DEFAULT_RELEASES: [&str; 5] = ["buster", "bullseye", "bookworm", "trixie", "sid"];

#[derive(Debug, Clone)]
enum DebState {
    Fixed(String),
    Unfixed(Option<String>),
    NotAffected(Option<String>),
    Removed,
}

fn parse_state(rest: &str) -> Option<(String, DebState, Option<String>)> {
    // `pkg version|<tag> (notes)`
    let rest = rest.trim();
    let (pkg, tail) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let tail = tail.trim();
    let (value, notes) = match tail.find('(') {
        Some(i) => (
            tail[..i].trim(),
            Some(tail[i + 1..].trim_end_matches(')').trim().to_string()),
        ),
        None => (tail, None),
    };
    let urgency = notes.as_deref().and_then(|n| {
        n.split(';')
            .map(str::trim)
            .find(|t| matches!(*t, "unimportant" | "low" | "medium" | "high"))
            .map(str::to_string)
    });
    let state = match value {
        "<unfixed>" => DebState::Unfixed(None),
        "<no-dsa>" | "<ignored>" | "<postponed>" | "<end-of-life>" => {
            let tag = value.trim_matches(['<', '>']);
            DebState::Unfixed(Some(match &notes {
                Some(n) if urgency.is_none() => format!("{tag}: {n}"),
                _ => tag.to_string(),
            }))
        }
        "<not-affected>" => DebState::NotAffected(notes.clone()),
        "<removed>" | "<itp>" | "<undetermined>" => DebState::Removed,
        v if !v.is_empty() && !v.starts_with('<') => DebState::Fixed(v.to_string()),
        _ => return None,
    };
    Some((pkg.to_string(), state, urgency))
}

fn push_state(adv: &mut Advisory, codename: &str, pkg: &str, state: &DebState, skips: &mut Skips) {
    let Some(rel) = debian_release(codename) else {
        return;
    };
    let ecosystem = format!("Debian:{rel}");
    let (status, ranges, note) = match state {
        DebState::Fixed(v) => {
            if compare(Scheme::Dpkg, v, v).is_err() {
                skips.add("Debian: unparsable fixed version");
                return;
            }
            (AffectedStatus::Affected, vec![Range::fixed_at(v)], None)
        }
        DebState::Unfixed(note) => (
            AffectedStatus::Affected,
            vec![Range::unfixed()],
            note.clone(),
        ),
        DebState::NotAffected(note) => (AffectedStatus::NotAffected, Vec::new(), note.clone()),
        DebState::Removed => return,
    };
    adv.affected.push(Affected {
        ecosystem,
        name: pkg.to_string(),
        status,
        ranges,
        versions: Vec::new(),
        note,
    });
}

/// Whether text looks like a Debian tracker list (`data/CVE/list`, `data/DSA/list`, `data/DLA/list`).
pub(crate) fn is_debian_list(text: &str) -> bool {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    (first.starts_with("CVE-")
        && first
            .split_whitespace()
            .next()
            .is_some_and(|t| t[4..].contains('-')))
        || (first.starts_with('[')
            && (first.contains("] DSA-") || first.contains("] DLA-") || first.contains("] DTSA-")))
}

struct Entry<'a> {
    header: &'a str,
    body: Vec<&'a str>,
}

fn entries(text: &str) -> Vec<Entry<'_>> {
    let mut out: Vec<Entry> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(e) = out.last_mut() {
                e.body.push(line.trim());
            }
        } else {
            out.push(Entry {
                header: line,
                body: Vec::new(),
            });
        }
    }
    out
}

/// `data/CVE/list`: one advisory per CVE; each release gets its own line's state or, failing
/// that, the unstable line's (the tracker's own rule).
pub(crate) fn parse_debian_cve_list(text: &str, skips: &mut Skips) -> Vec<Advisory> {
    let mut out = Vec::new();
    for e in entries(text) {
        let mut head = e.header.splitn(2, char::is_whitespace);
        let id = head.next().unwrap_or("").to_string();
        if !id.starts_with("CVE-") {
            skips.add("Debian: entry header is not a CVE id");
            continue;
        }
        let desc = head
            .next()
            .map(|d| {
                d.trim()
                    .trim_start_matches(['(', '['])
                    .trim_end_matches([')', ']'])
                    .trim()
                    .to_string()
            })
            .filter(|d| !d.is_empty());
        let mut adv = Advisory {
            id: id.clone(),
            summary: desc,
            ..Advisory::default()
        };
        // package -> (sid state, per-release states)
        let mut pkgs: BTreeMap<String, (Option<DebState>, BTreeMap<String, DebState>)> =
            BTreeMap::new();
        let mut urgency = None;
        for line in &e.body {
            if let Some(refs) = line.strip_prefix('{') {
                for r in refs.trim_end_matches('}').split_whitespace() {
                    adv.aliases.push(r.to_string());
                }
            } else if let Some(rest) = line.strip_prefix("- ") {
                match parse_state(rest) {
                    Some((pkg, st, u)) => {
                        urgency = urgency.or(u);
                        pkgs.entry(pkg).or_default().0 = Some(st);
                    }
                    None => skips.add("Debian: unreadable package line"),
                }
            } else if let Some(rest) = line.strip_prefix('[') {
                let Some((codename, rest)) = rest.split_once(']') else {
                    continue;
                };
                let Some(rest) = rest.trim().strip_prefix("- ") else {
                    continue;
                };
                if debian_release(codename).is_none() {
                    if codename != "experimental" {
                        skips.add("Debian: unknown release codename");
                    }
                    continue;
                }
                match parse_state(rest) {
                    Some((pkg, st, _)) => {
                        pkgs.entry(pkg)
                            .or_default()
                            .1
                            .insert(codename.to_string(), st);
                    }
                    None => skips.add("Debian: unreadable package line"),
                }
            }
        }
        if pkgs.is_empty() {
            skips.add("Debian: entry without a Debian package (NOT-FOR-US, RESERVED, REJECTED…)");
            continue;
        }
        for (pkg, (sid, releases)) in &pkgs {
            let mut codenames: Vec<&str> = DEFAULT_RELEASES.to_vec();
            for c in releases.keys() {
                if !codenames.contains(&c.as_str()) {
                    codenames.push(c);
                }
            }
            for c in codenames {
                let state = match (releases.get(c), c, sid) {
                    (Some(st), _, _) => st.clone(),
                    (None, _, Some(st)) => st.clone(),
                    (None, _, None) => continue,
                };
                push_state(&mut adv, c, pkg, &state, skips);
            }
        }
        adv.source_severity = urgency;
        if adv.affected.is_empty() {
            skips.add("Debian: no release state to record");
            continue;
        }
        out.push(adv);
    }
    out
}

/// Affected-package records one DSA/DLA entry may expand to (its CVEs times its release
/// lines); real entries have at most a few hundred.
const MAX_DSA_RECORDS: usize = 10_000;

/// `data/DSA/list` / `data/DLA/list`: `[date] DSA-n-m pkg - title`, `{CVE…}`, `[release] - pkg
/// version`. One advisory per CVE (the DSA id as alias) so it merges with the CVE list; an
/// entry without CVEs becomes an advisory under its own id.
pub(crate) fn parse_debian_dsa_list(text: &str, skips: &mut Skips) -> Vec<Advisory> {
    let mut out = Vec::new();
    for e in entries(text) {
        let Some((date_text, rest)) = e.header.strip_prefix('[').and_then(|h| h.split_once(']'))
        else {
            skips.add("Debian: DSA/DLA header without a date");
            continue;
        };
        let date = parse_dsa_date(date_text.trim());
        let rest = rest.trim();
        let Some(dsa) = rest.split_whitespace().next().filter(|d| d.contains('-')) else {
            skips.add("Debian: DSA/DLA header without an id");
            continue;
        };
        let mut cves = Vec::new();
        let mut affected = Advisory::default();
        for line in &e.body {
            if let Some(refs) = line.strip_prefix('{') {
                cves.extend(
                    refs.trim_end_matches('}')
                        .split_whitespace()
                        .map(str::to_string),
                );
            } else if let Some(r) = line.strip_prefix('[') {
                let Some((codename, r)) = r.split_once(']') else {
                    continue;
                };
                let Some(r) = r.trim().strip_prefix("- ") else {
                    continue;
                };
                if debian_release(codename).is_none() {
                    continue;
                }
                match parse_state(r) {
                    Some((pkg, st, _)) => push_state(&mut affected, codename, &pkg, &st, skips),
                    None => skips.add("Debian: unreadable package line"),
                }
            }
        }
        if affected.affected.is_empty() {
            skips.add("Debian: DSA/DLA without a supported release line");
            continue;
        }
        let ids: Vec<String> = if cves.is_empty() {
            vec![dsa.to_string()]
        } else {
            cves.clone()
        };
        // Each CVE gets a copy of every release line: a hostile list with thousands of both
        // in one entry would make millions of records.
        if ids.len().saturating_mul(affected.affected.len()) > MAX_DSA_RECORDS {
            skips.add("Debian: DSA/DLA entry with implausibly many CVEs times release lines");
            continue;
        }
        for id in ids {
            let mut aliases = vec![dsa.to_string()];
            if id == dsa {
                aliases.clear();
            }
            out.push(Advisory {
                id,
                aliases,
                summary: Some(rest.to_string()),
                published: date.clone(),
                references: vec![format!("https://security-tracker.debian.org/tracker/{dsa}")],
                affected: affected.affected.clone(),
                ..Advisory::default()
            });
        }
    }
    out
}

fn parse_dsa_date(s: &str) -> Option<String> {
    // `14 Feb 2023`
    let mut it = s.split_whitespace();
    let (d, m, y) = (it.next()?, it.next()?, it.next()?);
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m = months.iter().position(|x| *x == m)? + 1;
    Some(format!("{y}-{m:02}-{:02}", d.parse::<u32>().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the fuzz campaign (target `advisory_text`): a header whose first character is
    /// not one byte, or whose `]` comes first, was sliced mid-character or backwards (a panic).
    #[test]
    fn fuzz_dsa_header_without_a_leading_bracket_is_skipped_not_a_panic() {
        for header in [
            "\u{fffd}[buster] - dpkg 1.19.8",
            "] DSA-1-1 x - y",
            "[] DSA-1-1",
        ] {
            let text = format!("{header}\n\t{{CVE-2022-1664}}\n\t[buster] - dpkg 1.19.8\n");
            let mut skips = Skips::default();
            let _ = parse_debian_dsa_list(&text, &mut skips);
        }
    }

    /// Found by the fuzz campaign: one entry with ~2,000 CVEs and ~2,600 release lines became
    /// 5 million records (26 s, 500 MiB, from an 85 KB file).
    #[test]
    fn fuzz_dsa_entry_with_too_many_cves_times_releases_is_skipped() {
        let mut text = String::from("[05 Jul 2024] DSA-5726-1 krb5 - security update\n");
        for i in 0..2000 {
            text.push_str(&format!("\t{{CVE-2024-{i:05}}}\n"));
        }
        for _ in 0..2000 {
            text.push_str("\t[bookworm] - krb5 1.20.1-2+deb12u2\n");
        }
        let mut skips = Skips::default();
        let started = std::time::Instant::now();
        let advisories = parse_debian_dsa_list(&text, &mut skips);
        assert!(advisories.is_empty());
        assert_eq!(skips.total(), 1);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn debian_cve_entry() {
        let text = "CVE-2024-22365 (linux-pam before 1.6.0 ...)\n\t{DLA-4306-1}\n\t[experimental] - pam 1.5.3-2\n\t- pam 1.5.3-4 (bug #1061097)\n\t[bookworm] - pam <no-dsa> (Minor issue)\n\t[buster] - pam <no-dsa> (Minor issue)\n\tNOTE: x\nCVE-2024-3094\n\t- xz-utils 5.6.1+really5.4.5-1\n\t[bookworm] - xz-utils <not-affected> (Vulnerable code not present)\n";
        let mut skips = Skips::default();
        let advs = parse_debian_cve_list(text, &mut skips);
        assert_eq!(advs.len(), 2);
        let pam = &advs[0];
        assert_eq!(pam.aliases, vec!["DLA-4306-1"]);
        let bookworm = pam
            .affected
            .iter()
            .find(|a| a.ecosystem == "Debian:12")
            .unwrap();
        assert_eq!(bookworm.ranges, vec![Range::unfixed()]);
        assert_eq!(bookworm.note.as_deref(), Some("no-dsa: Minor issue"));
        let bullseye = pam
            .affected
            .iter()
            .find(|a| a.ecosystem == "Debian:11")
            .unwrap();
        assert_eq!(bullseye.ranges, vec![Range::fixed_at("1.5.3-4")]);
        let xz = advs[1]
            .affected
            .iter()
            .find(|a| a.ecosystem == "Debian:12")
            .unwrap();
        assert_eq!(xz.status, AffectedStatus::NotAffected);
    }

    #[test]
    fn epss_with_model_line() {
        let mut skips = Skips::default();
        let s = parse_epss("#model_version:v2023.03.01,score_date:2024-01-02T00:00:00+0000\ncve,epss,percentile\nCVE-2021-44228,0.97,0.99\nbad\nCVE-1,x,y\n", &mut skips);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].date.as_deref(), Some("2024-01-02"));
        assert_eq!(skips.total(), 2);
    }
}
