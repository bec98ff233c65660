//! Matching installed packages against the store.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};

use bulwark_types::{
    CvssInfo, Ecosystem, EpssScore, FindingPackage, FindingStatus, KevEntry, MatchOutcome,
    OsFamily, OsRelease, Package, Priority, Severity, SeveritySource,
    VulnerabilityFinding as Finding,
};
use bulwark_version::{compare, in_osv_range, Scheme};

use crate::cvss::{base_score_v3, base_score_v4, severity_for_score};
use crate::error::Result;
use crate::feeds::debian_release;
use crate::osv::normalize_name;
use crate::store::{AdvisoryRow, Store};

/// Knobs for [`match_packages`].
#[derive(Debug, Clone, Default)]
pub struct MatchOptions {
    /// Also report flaws a distribution says do not affect its package (status `not-affected`).
    pub include_not_affected: bool,
}

/// The OSV ecosystem a language package is matched in; `None` for OS packages.
pub fn language_ecosystem(eco: Ecosystem) -> Option<&'static str> {
    eco.osv_name()
}

fn major(v: &str) -> &str {
    v.split('.').next().unwrap_or(v)
}

fn major_minor(v: &str) -> Option<String> {
    let mut it = v.split('.');
    let (a, b) = (it.next()?, it.next()?);
    let b: String = b.chars().take_while(char::is_ascii_digit).collect();
    (!a.is_empty() && !b.is_empty()).then(|| format!("{a}.{b}"))
}

/// The distribution advisory ecosystem for the OS (`Debian:12`, `Ubuntu:22.04:LTS`,
/// `Alpine:v3.19`, `Rocky Linux:9`...) and whether it is a prefix (Red Hat's ecosystems carry
/// the product stream: `Red Hat:enterprise_linux:9::appstream`).
pub fn os_ecosystem(os: &OsRelease) -> std::result::Result<(String, bool), String> {
    let vid = os
        .version_id
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty());
    let need = |what: &str| {
        format!(
            "{} has no VERSION_ID: cannot pick the {what} advisory release",
            os.id
        )
    };
    let family = if os.family == OsFamily::Distroless || os.family == OsFamily::Other {
        OsFamily::from_os_release_id(&os.id)
    } else {
        os.family
    };
    let exact = |s: String| Ok((s, false));
    match family {
        OsFamily::Debian => match vid {
            Some(v) => exact(format!("Debian:{}", major(v))),
            None => match os.version_codename.as_deref().and_then(debian_release) {
                Some(r) => exact(format!("Debian:{r}")),
                None => Err(need("Debian")),
            },
        },
        OsFamily::Ubuntu => {
            let v = vid.ok_or_else(|| need("Ubuntu"))?;
            let lts = v.ends_with(".04") && major(v).parse::<u32>().is_ok_and(|m| m % 2 == 0);
            exact(if lts {
                format!("Ubuntu:{v}:LTS")
            } else {
                format!("Ubuntu:{v}")
            })
        }
        OsFamily::Alpine => {
            let v = vid.ok_or_else(|| need("Alpine"))?;
            let mm = major_minor(v)
                .ok_or_else(|| format!("Alpine VERSION_ID {v:?} is not MAJOR.MINOR[.PATCH]"))?;
            exact(format!("Alpine:v{mm}"))
        }
        OsFamily::Wolfi => exact("Wolfi".into()),
        OsFamily::Chainguard => exact("Chainguard".into()),
        OsFamily::Rocky => exact(format!(
            "Rocky Linux:{}",
            major(vid.ok_or_else(|| need("Rocky Linux"))?)
        )),
        OsFamily::Alma => exact(format!(
            "AlmaLinux:{}",
            major(vid.ok_or_else(|| need("AlmaLinux"))?)
        )),
        OsFamily::Rhel => Ok((
            format!(
                "Red Hat:enterprise_linux:{}",
                major(vid.ok_or_else(|| need("Red Hat"))?)
            ),
            true,
        )),
        OsFamily::Suse => {
            let v = vid.ok_or_else(|| need("SUSE"))?;
            match os.id.as_str() {
                "opensuse-leap" => exact(format!("openSUSE:Leap {v}")),
                "opensuse-tumbleweed" => exact("openSUSE:Tumbleweed".into()),
                _ => {
                    let (maj, sp) = v.split_once('.').unwrap_or((v, "0"));
                    exact(if sp == "0" {
                        format!("SUSE:Linux Enterprise Server {maj}")
                    } else {
                        format!("SUSE:Linux Enterprise Server {maj} SP{sp}")
                    })
                }
            }
        }
        OsFamily::Photon => exact(format!(
            "Photon OS:{}",
            vid.ok_or_else(|| need("Photon OS"))?
        )),
        // OSV files CBL-Mariner's advisories as `Mariner:2.0` and its successor's as
        // `Azure Linux:3.0`; os-release `VERSION_ID` is that `2.0`/`3.0`.
        OsFamily::Mariner => {
            let v = vid.ok_or_else(|| need("Azure Linux"))?;
            let release = major_minor(v).unwrap_or_else(|| format!("{}.0", major(v)));
            exact(if os.id == "azurelinux" {
                format!("Azure Linux:{release}")
            } else {
                format!("Mariner:{release}")
            })
        }
        _ => Err(format!(
            "no advisory source for {} packages (unsupported distribution)",
            os.id
        )),
    }
}

/// Where the matcher looks a package up: an advisory ecosystem and a normalised package name.
/// A server keeps a reverse index of these keys to find the stored packages an advisory
/// change can affect.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct MatchKey {
    /// The advisory ecosystem (`PyPI`, `Debian:12`), or its start when `prefix` is set.
    pub ecosystem: String,
    /// The package name as advisories name it (normalised; the source package for Debian,
    /// Ubuntu and Alpine).
    pub name: String,
    /// `ecosystem` is a prefix: every advisory ecosystem starting with it applies (Red Hat's
    /// `Red Hat:enterprise_linux:9::appstream` for `Red Hat:enterprise_linux:9`).
    pub prefix: bool,
}

impl MatchKey {
    /// Whether an advisory's affected entry `(ecosystem, name)` is looked up through this key.
    pub fn covers(&self, ecosystem: &str, name: &str) -> bool {
        self.name == name
            && if self.prefix {
                ecosystem.starts_with(&self.ecosystem)
            } else {
                ecosystem == self.ecosystem
            }
    }
}

/// The keys [`try_match`] looks `pkg` up under, given the image's OS. An error says why the
/// package cannot be matched at all (it goes to `unmatched`).
pub fn match_keys(
    os: Option<&OsRelease>,
    pkg: &Package,
) -> std::result::Result<Vec<MatchKey>, String> {
    target(os, pkg).map(|t| t.keys)
}

struct Target {
    /// Every key the package is looked up under; today one per package.
    keys: Vec<MatchKey>,
    version: String,
    scheme: Scheme,
}

fn target(os: Option<&OsRelease>, pkg: &Package) -> std::result::Result<Target, String> {
    if !pkg.ecosystem.has_advisories() {
        return Err(format!(
            "no advisory source for {} packages (no OSV ecosystem covers them)",
            pkg.ecosystem
        ));
    }
    // GitHub Actions advisories are filed by tag; a workflow pinned to a commit names no tag,
    // and comparing a commit hash with version ranges would be noise.
    if pkg.ecosystem == Ecosystem::GitHubActions
        && pkg.version.len() == 40
        && pkg.version.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(
            "pinned to a commit; GitHub Actions advisories name tags, so it cannot be matched"
                .into(),
        );
    }
    if let Some(eco) = language_ecosystem(pkg.ecosystem) {
        let raw = if pkg.ecosystem == Ecosystem::Maven && !pkg.name.contains(':') {
            match &pkg.purl.namespace {
                Some(ns) => format!("{ns}:{}", pkg.name),
                None => return Err("Maven package without a group id".into()),
            }
        } else {
            pkg.name.clone()
        };
        let scheme = Scheme::for_osv_ecosystem(eco).expect("known ecosystem");
        return Ok(Target {
            keys: vec![MatchKey {
                ecosystem: eco.to_string(),
                prefix: false,
                name: normalize_name(eco, &raw),
            }],
            version: pkg.version.clone(),
            scheme,
        });
    }
    // A purl's own `distro` qualifier decides when it names another release than `os` (an
    // SBOM of several images); an image's packages carry its own OS, so nothing changes there.
    let own_distro = pkg
        .purl
        .qualifiers
        .get("distro")
        .filter(|d| os.is_none_or(|o| o.purl_distro() != **d))
        .map(|d| OsRelease::from_purl_distro(d, "purl"));
    let os = own_distro.as_ref().or(os).ok_or(
        "OS package but the image's OS is unknown: cannot pick a distribution advisory ecosystem",
    )?;
    let (ecosystem, prefix) = os_ecosystem(os)?;
    let scheme = Scheme::for_osv_ecosystem(&ecosystem)
        .ok_or_else(|| format!("no version scheme for {ecosystem}"))?;
    if scheme != pkg.ecosystem.version_scheme() {
        return Err(format!(
            "{} package on {ecosystem}: package type does not match the distribution",
            pkg.ecosystem
        ));
    }
    let by_source = pkg.ecosystem.info().keyed_by_source;
    let (name, version) = match (&pkg.source, by_source) {
        (Some(src), true) if !src.name.is_empty() => {
            let v = if src.version.trim().is_empty() {
                &pkg.version
            } else {
                &src.version
            };
            (src.name.clone(), v.clone())
        }
        _ => (pkg.name.clone(), pkg.version.clone()),
    };
    Ok(Target {
        keys: vec![MatchKey {
            ecosystem,
            prefix,
            name,
        }],
        version,
        scheme,
    })
}

struct Eval {
    rid: i64,
    affected: bool,
    not_affected_row: bool,
    fix_known: bool,
    fixed_above: Vec<String>,
    note: Option<String>,
    ecosystem: String,
}

fn evaluate(t: &Target, row: &crate::store::AffectedRow) -> Eval {
    let mut ev = Eval {
        rid: row.advisory,
        affected: false,
        not_affected_row: row.status == "not-affected",
        fix_known: false,
        fixed_above: Vec::new(),
        note: row.note.clone(),
        ecosystem: row.ecosystem.clone(),
    };
    if ev.not_affected_row {
        return ev;
    }
    let scheme = Scheme::for_osv_ecosystem(&row.ecosystem).unwrap_or(t.scheme);
    let bare = t.version.strip_prefix('v').unwrap_or(&t.version);
    if !row.versions.is_empty()
        && row.versions.split('\n').any(|v| {
            v == t.version || (scheme == Scheme::Go && v.strip_prefix('v').unwrap_or(v) == bare)
        })
    {
        ev.affected = true;
    }
    for range in &row.ranges {
        let Some(rs) = Scheme::for_osv_range(&range.kind, &row.ecosystem) else {
            continue;
        };
        if in_osv_range(rs, &t.version, &range.to_events()) == Ok(true) {
            ev.affected = true;
        }
        for f in range.fixed_versions() {
            ev.fix_known = true;
            if compare(rs, f, &t.version) == Ok(Ordering::Greater)
                && !ev.fixed_above.iter().any(|x| x == f)
            {
                ev.fixed_above.push(f.to_string());
            }
        }
    }
    ev
}

/// Ids of fix announcements that may cover several flaws.
fn is_bundle_id(id: &str) -> bool {
    [
        "DSA-", "DLA-", "DTSA-", "RHSA-", "RHBA-", "USN-", "ALAS", "ALSA-", "RLSA-", "SUSE-SU-",
    ]
    .iter()
    .any(|p| id.starts_with(p))
}

fn id_rank(id: &str) -> (u8, &str) {
    let r = if id.starts_with("CVE-") {
        0
    } else if id.starts_with("GHSA-") {
        1
    } else {
        2
    };
    (r, id)
}

fn source_rating(s: &str) -> Option<(Severity, SeveritySource)> {
    let lower = s.to_ascii_lowercase();
    if lower == "unimportant" {
        return Some((Severity::Low, SeveritySource::DebianUrgency));
    }
    let sev: Severity = lower.parse().ok()?;
    let label = if matches!(lower.as_str(), "low" | "medium" | "high") && s == lower {
        SeveritySource::DebianUrgency
    } else {
        SeveritySource::SourceRating
    };
    Some((sev, label))
}

fn stand_in(sev: Severity) -> f64 {
    match sev {
        Severity::Critical => 9.5,
        Severity::High => 8.0,
        Severity::Medium => 5.5,
        Severity::Low => 2.0,
        Severity::Unknown => 0.0,
    }
}

fn ordinal(pct: u32) -> String {
    let suffix = match (pct % 10, pct % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{pct}{suffix}")
}

/// Matches `packages` against the store. Language packages are looked up only in their own
/// ecosystem; OS packages in the distribution's (the one their purl's `distro` qualifier
/// names, else `os`), through their source package for Debian, Ubuntu and Alpine. Advisories that name each other (aliases) become one
/// finding. Store read errors are returned; per-package problems go to `unmatched`.
pub fn match_packages(
    store: &Store,
    os: Option<&OsRelease>,
    packages: &[Package],
    opts: &MatchOptions,
) -> MatchOutcome {
    match try_match(store, os, packages, opts) {
        Ok(o) => o,
        Err(e) => {
            // A broken store: nothing could be checked.
            MatchOutcome {
                findings: Vec::new(),
                unmatched: packages
                    .iter()
                    .map(|p| (p.purl.clone(), e.to_string()))
                    .collect(),
            }
        }
    }
}

/// Like [`match_packages`] but returning store errors instead of folding them into `unmatched`.
pub fn try_match(
    store: &Store,
    os: Option<&OsRelease>,
    packages: &[Package],
    opts: &MatchOptions,
) -> Result<MatchOutcome> {
    let mut out = MatchOutcome::default();
    let mut findings = Vec::new();
    match_each(
        store,
        os,
        packages.iter().enumerate(),
        opts,
        &mut |_, finding| findings.push(finding),
        &mut |_, purl, reason| out.unmatched.push((purl.clone(), reason)),
    )?;
    out.findings = findings;
    out.findings.sort_by(|a, b| a.priority_cmp(b));
    Ok(out)
}

/// Findings of some packages of an inventory, by their index in it: what a rematch
/// re-evaluates when an advisory change touches only those packages.
#[derive(Debug, Clone, Default)]
pub struct IndexedMatch {
    /// Findings per package index, in priority order; packages without findings are absent.
    pub findings: std::collections::BTreeMap<usize, Vec<Finding>>,
    /// Packages that could not be matched, with why.
    pub unmatched: std::collections::BTreeMap<usize, String>,
}

/// Matches only `packages[i]` for each `i` in `indices` (indices past the end are ignored),
/// with the same result per package as [`try_match`] on the whole list.
pub fn try_match_indexed(
    store: &Store,
    os: Option<&OsRelease>,
    packages: &[Package],
    indices: &[usize],
    opts: &MatchOptions,
) -> Result<IndexedMatch> {
    let mut out = IndexedMatch::default();
    let mut findings: std::collections::BTreeMap<usize, Vec<Finding>> = Default::default();
    match_each(
        store,
        os,
        indices
            .iter()
            .filter_map(|&i| packages.get(i).map(|p| (i, p))),
        opts,
        &mut |i, finding| findings.entry(i).or_default().push(finding),
        &mut |i, _, reason| {
            out.unmatched.insert(i, reason);
        },
    )?;
    for list in findings.values_mut() {
        list.sort_by(|a, b| a.priority_cmp(b));
    }
    out.findings = findings;
    Ok(out)
}

type Emit<'a> = &'a mut dyn FnMut(usize, Finding);
type Unmatched<'a> = &'a mut dyn FnMut(usize, &bulwark_types::Purl, String);

fn match_each<'p>(
    store: &Store,
    os: Option<&OsRelease>,
    packages: impl Iterator<Item = (usize, &'p Package)>,
    opts: &MatchOptions,
    emit: Emit<'_>,
    unmatched: Unmatched<'_>,
) -> Result<()> {
    let mut cache: HashMap<i64, AdvisoryRow> = HashMap::new();
    // The same package often appears many times (node_modules copies, several layers).
    let mut row_cache: HashMap<MatchKey, Vec<crate::store::AffectedRow>> = HashMap::new();
    let mut kev_cache: HashMap<String, Option<KevEntry>> = HashMap::new();
    let mut epss_cache: HashMap<String, Option<EpssScore>> = HashMap::new();
    for (index, pkg) in packages {
        let t = match target(os, pkg) {
            Ok(t) => t,
            Err(reason) => {
                unmatched(index, &pkg.purl, reason);
                continue;
            }
        };
        if let Err(e) = compare(t.scheme, &t.version, &t.version) {
            unmatched(
                index,
                &pkg.purl,
                format!("installed version cannot be compared: {e}"),
            );
            continue;
        }
        for key in &t.keys {
            if !row_cache.contains_key(key) {
                let rows = store.affected_for(&key.name, &key.ecosystem, key.prefix)?;
                row_cache.insert(key.clone(), rows);
            }
            let rows = &row_cache[key];
            if rows.is_empty() {
                continue;
            }
            let mut evals = Vec::new();
            for row in rows {
                if let std::collections::hash_map::Entry::Vacant(slot) = cache.entry(row.advisory) {
                    slot.insert(store.advisory(row.advisory)?);
                }
                if cache[&row.advisory].withdrawn.is_some() {
                    continue;
                }
                evals.push(evaluate(&t, row));
            }
            // Union advisories whose ids/aliases overlap.
            let mut group_of_key: HashMap<String, usize> = HashMap::new();
            let mut parent: Vec<usize> = Vec::new();
            fn find(p: &mut [usize], mut x: usize) -> usize {
                while p[x] != x {
                    p[x] = p[p[x]];
                    x = p[x];
                }
                x
            }
            let mut eval_group = Vec::with_capacity(evals.len());
            for ev in &evals {
                let adv = &cache[&ev.rid];
                let g = parent.len();
                parent.push(g);
                // Fix bundles (a DSA listing five CVEs) are aliases of each CVE but must not merge
                // those CVEs into one finding: they only link records by id.
                let keys =
                    std::iter::once(&adv.id).chain(adv.aliases.iter().filter(|a| !is_bundle_id(a)));
                for key in keys {
                    match group_of_key.get(key) {
                        Some(&other) => {
                            let (a, b) = (find(&mut parent, other), find(&mut parent, g));
                            if a != b {
                                parent[b] = a;
                            }
                        }
                        None => {
                            group_of_key.insert(key.clone(), g);
                        }
                    }
                }
                eval_group.push(g);
            }
            let mut groups: HashMap<usize, Vec<&Eval>> = HashMap::new();
            for (ev, g) in evals.iter().zip(eval_group) {
                let root = find(&mut parent, g);
                groups.entry(root).or_default().push(ev);
            }
            let mut roots: Vec<usize> = groups.keys().copied().collect();
            roots.sort_unstable();
            for root in roots {
                let members = &groups[&root];
                let affected: Vec<&&Eval> = members.iter().filter(|e| e.affected).collect();
                let status;
                if affected.is_empty() {
                    if opts.include_not_affected && members.iter().any(|e| e.not_affected_row) {
                        status = FindingStatus::NotAffected;
                    } else {
                        continue;
                    }
                } else {
                    // A record that knows the fix (and says this version has it) beats records that
                    // only know the flaw is unfixed (the Debian CVE list vs the DSA list).
                    let fixed_here = members
                        .iter()
                        .any(|e| !e.affected && !e.not_affected_row && e.fix_known);
                    // For a distribution, a release's own fix (a DSA/DLA line) is authoritative:
                    // the CVE list's version for a release without its own line is inherited from
                    // unstable and is only a later build of the same fix.
                    if fixed_here
                        && (pkg.ecosystem.is_os() || affected.iter().all(|e| !e.fix_known))
                    {
                        continue;
                    }
                    status = if affected.iter().any(|e| !e.fixed_above.is_empty()) {
                        FindingStatus::Fixed
                    } else {
                        FindingStatus::Unfixed
                    };
                }
                let relevant: Vec<&Eval> = if status == FindingStatus::NotAffected {
                    members
                        .iter()
                        .copied()
                        .filter(|e| e.not_affected_row)
                        .collect()
                } else {
                    affected.iter().map(|e| **e).collect()
                };
                let advs: Vec<&AdvisoryRow> = members.iter().map(|e| &cache[&e.rid]).collect();
                let mut ids: BTreeSet<String> = BTreeSet::new();
                for a in &advs {
                    ids.insert(a.id.clone());
                    ids.extend(a.aliases.iter().cloned());
                }
                let primary = ids
                    .iter()
                    .min_by(|a, b| id_rank(a).cmp(&id_rank(b)))
                    .cloned()
                    .unwrap_or_default();
                let mut all_ids = vec![primary.clone()];
                all_ids.extend(ids.iter().filter(|i| **i != primary).cloned());

                let mut fixed: Vec<String> = Vec::new();
                for e in &relevant {
                    for f in &e.fixed_above {
                        if !fixed.contains(f) {
                            fixed.push(f.clone());
                        }
                    }
                }
                fixed.sort_by(|a, b| compare(t.scheme, a, b).unwrap_or(Ordering::Equal));
                let status_note = relevant.iter().find_map(|e| e.note.clone());

                // Severity: computed CVSS v3 first, then the sources' own ratings.
                let mut cvss: Option<CvssInfo> = None;
                let mut v4: Option<CvssInfo> = None;
                for a in &advs {
                    for s in &a.severity {
                        if s.kind.starts_with("CVSS_V3") {
                            if let Some(c) = base_score_v3(&s.score) {
                                if cvss
                                    .as_ref()
                                    .and_then(|x| x.base_score)
                                    .is_none_or(|best| c.base_score > best)
                                {
                                    cvss = Some(CvssInfo {
                                        version: format!("3.{}", c.minor),
                                        vector: s.score.clone(),
                                        base_score: Some(c.base_score),
                                    });
                                }
                            }
                        } else if s.kind == "CVSS_V4" {
                            let score = base_score_v4(&s.score).ok();
                            let better = match (&v4, score) {
                                (None, _) => true,
                                (Some(x), Some(new)) => x.base_score.is_none_or(|best| new > best),
                                (Some(_), None) => false,
                            };
                            if better {
                                v4 = Some(CvssInfo {
                                    version: "4.0".into(),
                                    vector: s.score.clone(),
                                    base_score: score,
                                });
                            }
                        }
                    }
                }
                let rated = advs
                    .iter()
                    .filter_map(|a| a.source_severity.as_deref().and_then(source_rating))
                    .max_by_key(|(s, _)| *s);
                // A scored v4.0 vector counts only when no v3 vector was scored.
                let computed = cvss
                    .as_ref()
                    .or(v4.as_ref().filter(|c| c.base_score.is_some()));
                let (severity, severity_source, score) = match (computed, rated) {
                    (Some(c), _) => {
                        let s = c.base_score.unwrap_or(0.0);
                        // The matcher only builds CvssInfo for versions 3.0, 3.1 and 4.0.
                        let source =
                            SeveritySource::cvss(&c.version).unwrap_or(SeveritySource::None);
                        (severity_for_score(s), source, s)
                    }
                    (None, Some((sev, label))) => (sev, label, stand_in(sev)),
                    (None, None) => (Severity::Unknown, SeveritySource::None, 0.0),
                };
                let cvss = cvss.or(v4);

                let mut kev = None;
                let mut epss: Option<EpssScore> = None;
                for id in all_ids.iter().filter(|i| i.starts_with("CVE-")) {
                    let k = kev_cache
                        .entry(id.clone())
                        .or_insert_with(|| store.kev(id).ok().flatten());
                    if kev.is_none() {
                        kev.clone_from(k);
                    }
                    let e = epss_cache
                        .entry(id.clone())
                        .or_insert_with(|| store.epss(id).ok().flatten());
                    if let Some(e) = e {
                        if epss.as_ref().is_none_or(|best| e.score > best.score) {
                            epss = Some(e.clone());
                        }
                    }
                }
                let mut reasons = Vec::new();
                if let Some(k) = &kev {
                    reasons.push(match &k.due_date {
                        Some(d) => format!("in CISA KEV (due {d})"),
                        None => "in CISA KEV".to_string(),
                    });
                }
                if let Some(e) = &epss {
                    reasons.push(format!(
                        "EPSS {:.2} ({} percentile)",
                        e.score,
                        ordinal((e.percentile * 100.0).floor() as u32)
                    ));
                }
                match (&cvss, severity) {
                    (
                        Some(CvssInfo {
                            base_score: Some(s),
                            version,
                            ..
                        }),
                        sev,
                    ) if version.starts_with('3') || version.starts_with('4') => {
                        reasons.push(format!("CVSS {s:.1} {sev}"))
                    }
                    (_, Severity::Unknown) => reasons.push("severity unknown".into()),
                    (_, sev) => reasons.push(format!("{severity_source} {sev}")),
                }
                let primary_adv = advs.iter().find(|a| a.id == primary).or(advs.first());
                let title = primary_adv
                    .and_then(|a| a.summary.clone())
                    .or_else(|| advs.iter().find_map(|a| a.summary.clone()))
                    .or_else(|| {
                        advs.iter().find_map(|a| {
                            a.details
                                .as_deref()
                                .map(|d| d.lines().next().unwrap_or("").chars().take(160).collect())
                        })
                    })
                    .filter(|s: &String| !s.is_empty());
                let mut references: Vec<String> = Vec::new();
                for a in &advs {
                    for r in &a.references {
                        if references.len() < 10 && !references.contains(r) {
                            references.push(r.clone());
                        }
                    }
                }
                let ecosystem = relevant
                    .first()
                    .map(|e| e.ecosystem.clone())
                    .unwrap_or_else(|| key.ecosystem.clone());
                emit(
                    index,
                    Finding {
                        id: primary,
                        ids: all_ids,
                        package: FindingPackage {
                            name: pkg.name.clone(),
                            version: pkg.version.clone(),
                            purl: pkg.purl.clone(),
                            ecosystem: pkg.ecosystem,
                            layer_index: pkg.layer.index,
                            layer_created_by: pkg.layer.created_by.clone(),
                            advisory_ecosystem: ecosystem,
                            advisory_name: key.name.clone(),
                        },
                        installed_version: t.version.clone(),
                        fixed_versions: fixed,
                        status,
                        status_note,
                        severity,
                        severity_source,
                        cvss,
                        priority: Priority {
                            kev: kev.is_some(),
                            epss: epss.as_ref().map(|e| e.score),
                            score,
                            reason: reasons.join("; "),
                        },
                        in_use: None,
                        reachability: None,
                        epss,
                        kev,
                        title,
                        references,
                    },
                );
            }
        }
    }
    Ok(())
}
