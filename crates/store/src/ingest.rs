//! One upload, one transaction: asset, version, components with their match keys (the reverse
//! index), findings and the events their changes make.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write as _;

use bulwark_types::{Misconfiguration, OsRelease, Package, Severity, VulnerabilityFinding};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::auth::{audit, ensure_team};
use crate::driver::{params, Conn, Row, Value};
use crate::{new_uuid, now_ms, Principal, Result, Scope, Store, StoreError};

/// An advisory lookup key of a component: the advisory ecosystem and package name it is
/// matched under (`Debian:12` + the source package), and whether the ecosystem is a prefix of
/// the advisory ecosystems it covers (Red Hat's streams). `bulwark_vulndb::match_keys` makes
/// these.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MatchKeyInput {
    pub ecosystem: String,
    pub name: String,
    pub prefix: bool,
}

/// One SBOM component and its match keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentInput {
    /// Stored without its `files` list (not needed to rematch, and large).
    pub package: Package,
    pub match_keys: Vec<MatchKeyInput>,
}

/// One finding, on the component at index `component` of [`IngestDocument::components`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingInput {
    pub component: usize,
    pub finding: VulnerabilityFinding,
}

/// Which image labels name the team and the owner of an asset (the server's configuration).
/// The first key present wins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnershipLabels {
    pub team_keys: Vec<String>,
    pub owner_keys: Vec<String>,
}

impl Default for OwnershipLabels {
    fn default() -> Self {
        OwnershipLabels {
            team_keys: vec!["team".into()],
            owner_keys: vec![
                "owner".into(),
                "org.opencontainers.image.authors".into(),
                "org.opencontainers.image.vendor".into(),
            ],
        }
    }
}

/// An upload, ready to store.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IngestDocument {
    /// The asset (image repository, Dependency-Track project) name; unique.
    pub asset: String,
    /// The version key, unique per asset: the image digest or the DT project version.
    pub version_key: String,
    /// A human label (a tag, `latest`).
    pub label: Option<String>,
    /// Where it came from (`bulwark-report`, `cyclonedx`, `spdx`, `dependency-track`, `harbor`).
    pub source_kind: String,
    pub os: Option<OsRelease>,
    /// Image labels (OCI annotations), stored on the asset.
    pub labels: BTreeMap<String, String>,
    /// CI metadata (commit, branch, pipeline URL), stored on the version.
    pub ci: Option<serde_json::Value>,
    /// An explicit team (the upload's project); wins over labels.
    pub team: Option<String>,
    /// An explicit owner; wins over labels.
    pub owner: Option<String>,
    /// Which labels name the team and the owner.
    pub ownership: OwnershipLabels,
    /// See [`idempotency_key`]: a retried upload with the same key changes nothing.
    pub idempotency_key: Option<String>,
    pub components: Vec<ComponentInput>,
    pub findings: Vec<FindingInput>,
    /// The misconfigurations a bulwark report carried (`None`: the upload ran no
    /// misconfiguration checks, as an SBOM; the version is then not assessed for compliance).
    /// At most [`MAX_MISCONFIGS_PER_VERSION`] are kept.
    #[serde(default)]
    pub misconfigurations: Option<Vec<bulwark_types::Misconfiguration>>,
}

/// The idempotency key of an upload: the SHA-256 of its exact bytes plus what names it (asset
/// and version), so a retried request is recognised.
pub fn idempotency_key(asset: &str, version_key: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    for part in [asset.as_bytes(), b"\0", version_key.as_bytes(), b"\0", body] {
        h.update(part);
    }
    hex::encode(h.finalize())
}

/// What an ingest did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngestOutcome {
    pub asset_id: i64,
    pub asset_uuid: String,
    pub version_id: i64,
    pub version_uuid: String,
    pub new_asset: bool,
    pub new_version: bool,
    /// The version existed with other components, now replaced.
    pub components_replaced: bool,
    /// The idempotency key was seen before: nothing but `last_seen` changed.
    pub duplicate: bool,
    pub component_count: usize,
    /// Open findings of the version after the ingest.
    pub open_findings: usize,
    /// New, changed and resolved findings, in the order recorded.
    pub events: Vec<FindingEvent>,
}

/// What happened to a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// First seen (or seen again after being resolved).
    New,
    /// Severity, KEV, EPSS or the fixed versions changed.
    Changed,
    /// No longer present.
    Resolved,
}

impl EventKind {
    /// `new`, `changed` or `resolved`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::New => "new",
            EventKind::Changed => "changed",
            EventKind::Resolved => "resolved",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<EventKind> {
        match s {
            "new" => Some(EventKind::New),
            "changed" => Some(EventKind::Changed),
            "resolved" => Some(EventKind::Resolved),
            _ => None,
        }
    }
}

/// A recorded change of a finding: what notifications and "new this week" read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingEvent {
    pub id: i64,
    pub kind: EventKind,
    pub at: i64,
    pub finding_id: i64,
    pub asset_id: i64,
    pub asset_name: String,
    pub team_id: Option<i64>,
    pub version_id: i64,
    pub vuln_id: String,
    pub aliases: Vec<String>,
    pub purl: String,
    pub package_name: String,
    pub package_version: String,
    pub severity: Severity,
    pub kev: bool,
    pub epss: Option<f64>,
    pub fixable: bool,
    /// What changed, for `changed` events (`{"severity": ["low", "high"]}`).
    pub detail: serde_json::Value,
}

/// Rows per multi-row INSERT: keeps a statement under both backends' parameter limits
/// (SQLite 32,766, PostgreSQL 65,535) while cutting round trips a hundredfold.
const MAX_PARAMS_PER_INSERT: usize = 2_000;

/// `INSERT INTO … (cols) VALUES ($1,…),(…) tail` over `rows` (each `width` values) in
/// chunks; returns every row the `tail` (a RETURNING) gives.
pub(crate) fn insert_rows(
    c: &mut dyn Conn,
    head: &str,
    width: usize,
    values: &[Value],
    tail: &str,
) -> Result<Vec<Row>> {
    let per_chunk = (MAX_PARAMS_PER_INSERT / width).max(1) * width;
    let mut out = Vec::new();
    for chunk in values.chunks(per_chunk) {
        let mut sql = String::with_capacity(head.len() + chunk.len() * 6 + tail.len());
        sql.push_str(head);
        for (r, _) in chunk.chunks(width).enumerate() {
            sql.push_str(if r == 0 { " (" } else { ", (" });
            for col in 0..width {
                if col > 0 {
                    sql.push(',');
                }
                let _ = write!(Fmt(&mut sql), "${}", r * width + col + 1);
            }
            sql.push(')');
        }
        sql.push(' ');
        sql.push_str(tail);
        if tail.is_empty() {
            c.execute(&sql, chunk)?;
        } else {
            out.extend(c.query(&sql, chunk)?);
        }
    }
    Ok(out)
}

/// `write!` into a `String` without the fmt::Write import clash with io::Write.
struct Fmt<'a>(&'a mut String);
impl std::io::Write for Fmt<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.push_str(&String::from_utf8_lossy(buf));
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A hasher that `serde_json::to_writer` can write into: hashing without building strings.
struct HashWriter<'a>(&'a mut Sha256);
impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn stored_package(p: &Package) -> Package {
    Package {
        files: Vec::new(),
        ..p.clone()
    }
}

fn content_key(components: &[ComponentInput]) -> Result<String> {
    let mut h = Sha256::new();
    for comp in components {
        let mut w = HashWriter(&mut h);
        serde_json::to_writer(&mut w, &stored_package(&comp.package))
            .and_then(|()| serde_json::to_writer(&mut w, &comp.match_keys))
            .map_err(|e| StoreError::Invalid(format!("component not serialisable: {e}")))?;
        let _ = w.write(b"\n");
    }
    Ok(hex::encode(h.finalize()))
}

pub(crate) fn severity_rank(s: Severity) -> i64 {
    match s {
        Severity::Unknown => 0,
        Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High => 3,
        Severity::Critical => 4,
    }
}

pub(crate) fn parse_severity(s: &str) -> Severity {
    s.parse().unwrap_or(Severity::Unknown)
}

/// Inserts a version's components and their match keys; returns the ids by ordinal.
pub(crate) fn insert_components(
    c: &mut dyn Conn,
    version_id: i64,
    components: &[ComponentInput],
) -> Result<Vec<i64>> {
    const WIDTH: usize = 10;
    let mut ids = vec![0i64; components.len()];
    // Chunked here too, so only one chunk of parameters is held at a time.
    let rows_per_chunk = MAX_PARAMS_PER_INSERT / WIDTH;
    for (chunk_no, chunk) in components.chunks(rows_per_chunk).enumerate() {
        let base = chunk_no * rows_per_chunk;
        let mut values = Vec::with_capacity(chunk.len() * WIDTH);
        for (i, comp) in chunk.iter().enumerate() {
            let p = &comp.package;
            let json = serde_json::to_string(&stored_package(p))
                .map_err(|e| StoreError::Invalid(format!("component not serialisable: {e}")))?;
            values.extend(params![
                version_id,
                i64::try_from(base + i).unwrap_or(i64::MAX),
                p.ecosystem.to_string(),
                p.name.as_str(),
                p.version.as_str(),
                p.purl.to_string(),
                p.source.as_ref().map(|s| s.name.as_str()),
                i64::try_from(p.layer.index).unwrap_or(i64::MAX),
                p.evidence.as_str(),
                json,
            ]);
        }
        let rows = insert_rows(
            c,
            "INSERT INTO components (version_id, ordinal, ecosystem, name, version, purl, source_name, layer_index, evidence, package) VALUES",
            WIDTH,
            &values,
            "RETURNING id, ordinal",
        )?;
        for r in rows {
            let ordinal = usize::try_from(r.i64(1)?).unwrap_or(usize::MAX);
            if let Some(slot) = ids.get_mut(ordinal) {
                *slot = r.i64(0)?;
            }
        }
        let mut keys = Vec::new();
        for (i, comp) in chunk.iter().enumerate() {
            let id = ids[base + i];
            let mut seen = HashSet::new();
            for k in &comp.match_keys {
                if seen.insert(k) {
                    keys.extend(params![id, k.ecosystem.as_str(), k.name.as_str(), k.prefix]);
                }
            }
        }
        insert_rows(
            c,
            "INSERT INTO component_keys (component_id, ecosystem, name, prefix) VALUES",
            4,
            &keys,
            "",
        )?;
    }
    Ok(ids)
}

/// A finding as it should be after an ingest or a rematch.
pub(crate) struct Desired<'a> {
    pub component_id: Option<i64>,
    pub finding: &'a VulnerabilityFinding,
}

/// Whose findings a sync may touch.
pub(crate) enum SyncScope<'a> {
    /// The whole version (an upload).
    Version,
    /// Only findings on these components (a rematch).
    Components(&'a HashSet<i64>),
}

pub(crate) struct AssetCtx<'a> {
    pub asset_id: i64,
    pub asset_name: &'a str,
    pub team_id: Option<i64>,
    pub version_id: i64,
}

struct Existing {
    id: i64,
    state: String,
    severity: String,
    kev: bool,
    epss: Option<f64>,
    fixed: String,
    component_id: Option<i64>,
    aliases: String,
    package_name: String,
    package_version: String,
    in_scope: bool,
}

/// EPSS moves a little every day; smaller moves update the row without an event.
const EPSS_EVENT_DELTA: f64 = 0.01;

/// Brings the version's findings to `desired` within `scope`: inserts new ones, updates
/// changed ones, resolves missing ones, and records an event for each.
pub(crate) fn sync_findings(
    c: &mut dyn Conn,
    ctx: &AssetCtx<'_>,
    scope: SyncScope<'_>,
    desired: &[Desired<'_>],
    now: i64,
) -> Result<(Vec<FindingEvent>, usize)> {
    let rows = c.query(
        "SELECT id, vuln_id, purl, state, severity, kev, epss, fixed_versions, component_id, aliases, package_name, package_version \
         FROM findings WHERE version_id = $1",
        &params![ctx.version_id],
    )?;
    let mut existing: HashMap<(String, String), Existing> = HashMap::with_capacity(rows.len());
    // Every finding of the version is here, so a desired finding that matches one outside the
    // scope (two components with one purl) updates that row instead of inserting a duplicate;
    // only findings inside the scope can be resolved.
    for r in rows {
        let e = Existing {
            id: r.i64(0)?,
            state: r.text(3)?,
            severity: r.text(4)?,
            kev: r.bool(5)?,
            epss: r.opt_f64(6)?,
            fixed: r.text(7)?,
            component_id: r.opt_i64(8)?,
            aliases: r.text(9)?,
            package_name: r.text(10)?,
            package_version: r.text(11)?,
            in_scope: false,
        };
        let e = Existing {
            in_scope: match scope {
                SyncScope::Version => true,
                SyncScope::Components(set) => e.component_id.is_some_and(|id| set.contains(&id)),
            },
            ..e
        };
        existing.insert((r.text(1)?, r.text(2)?), e);
    }

    let mut events: Vec<(EventKind, i64, &VulnerabilityFinding, serde_json::Value)> = Vec::new();
    let mut seen: HashSet<(String, String)> = HashSet::with_capacity(desired.len());
    let mut inserts: Vec<Value> = Vec::new();
    let mut inserted_findings: Vec<&VulnerabilityFinding> = Vec::new();
    const WIDTH: usize = 20;
    for d in desired {
        let f = d.finding;
        let purl = f.package.purl.to_string();
        let key = (f.id.clone(), purl.clone());
        if !seen.insert(key.clone()) {
            continue;
        }
        let fixed = serde_json::to_string(&f.fixed_versions).unwrap_or_else(|_| "[]".into());
        let epss = f.epss.as_ref().map(|e| e.score);
        let kev = f.kev.is_some();
        let json = serde_json::to_string(f)
            .map_err(|e| StoreError::Invalid(format!("finding not serialisable: {e}")))?;
        let aliases = serde_json::to_string(&f.ids).unwrap_or_else(|_| "[]".into());
        let cvss = f.cvss.as_ref().and_then(|c| c.base_score);
        match existing.get(&key) {
            None => {
                inserts.extend(params![
                    ctx.version_id,
                    ctx.asset_id,
                    d.component_id,
                    f.id.as_str(),
                    aliases,
                    purl,
                    f.package.name.as_str(),
                    f.installed_version.as_str(),
                    f.severity.as_str(),
                    severity_rank(f.severity),
                    cvss,
                    epss,
                    kev,
                    !f.fixed_versions.is_empty(),
                    fixed,
                    json,
                    "open",
                    now,
                    now,
                    Value::Null,
                ]);
                inserted_findings.push(f);
            }
            Some(e) => {
                let mut detail = serde_json::Map::new();
                if e.severity != f.severity.as_str() {
                    detail.insert(
                        "severity".into(),
                        serde_json::json!([e.severity, f.severity]),
                    );
                }
                if e.kev != kev {
                    detail.insert("kev".into(), serde_json::json!([e.kev, kev]));
                }
                if e.fixed != fixed {
                    detail.insert(
                        "fixed_versions".into(),
                        serde_json::json!([
                            serde_json::from_str::<serde_json::Value>(&e.fixed).unwrap_or_default(),
                            f.fixed_versions
                        ]),
                    );
                }
                let epss_moved = match (e.epss, epss) {
                    (Some(a), Some(b)) => (a - b).abs() >= EPSS_EVENT_DELTA,
                    (None, None) => false,
                    _ => true,
                };
                if epss_moved {
                    detail.insert("epss".into(), serde_json::json!([e.epss, epss]));
                }
                let reopened = e.state != "open";
                let any_change = reopened
                    || !detail.is_empty()
                    || e.epss != epss
                    || e.component_id != d.component_id
                    || e.aliases != aliases
                    || e.package_name != f.package.name
                    || e.package_version != f.installed_version;
                if any_change {
                    c.execute(
                        "UPDATE findings SET component_id = $2, aliases = $3, package_name = $4, package_version = $5, \
                         severity = $6, severity_rank = $7, cvss_score = $8, epss = $9, kev = $10, fixable = $11, \
                         fixed_versions = $12, finding = $13, state = 'open', resolved_at = NULL, \
                         last_changed = CASE WHEN $14 = 1 THEN $15 ELSE last_changed END WHERE id = $1",
                        &params![
                            e.id,
                            d.component_id,
                            aliases,
                            f.package.name.as_str(),
                            f.installed_version.as_str(),
                            f.severity.as_str(),
                            severity_rank(f.severity),
                            cvss,
                            epss,
                            kev,
                            !f.fixed_versions.is_empty(),
                            fixed,
                            json,
                            reopened || !detail.is_empty(),
                            now,
                        ],
                    )?;
                }
                if reopened {
                    events.push((
                        EventKind::New,
                        e.id,
                        f,
                        serde_json::json!({ "reopened": true }),
                    ));
                } else if !detail.is_empty() {
                    events.push((
                        EventKind::Changed,
                        e.id,
                        f,
                        serde_json::Value::Object(detail),
                    ));
                }
            }
        }
    }
    let new_rows = insert_rows(
        c,
        "INSERT INTO findings (version_id, asset_id, component_id, vuln_id, aliases, purl, package_name, package_version, \
         severity, severity_rank, cvss_score, epss, kev, fixable, fixed_versions, finding, state, first_seen, last_changed, \
         resolved_at) VALUES",
        WIDTH,
        &inserts,
        "RETURNING id, vuln_id, purl",
    )?;
    let mut new_ids: HashMap<(String, String), i64> = HashMap::with_capacity(new_rows.len());
    for r in new_rows {
        new_ids.insert((r.text(1)?, r.text(2)?), r.i64(0)?);
    }
    for f in inserted_findings {
        let key = (f.id.clone(), f.package.purl.to_string());
        let id = *new_ids.get(&key).ok_or_else(|| StoreError::Corrupt {
            backend: c.backend().name(),
            target: String::new(),
            what: format!("inserted finding {} on {} not returned", key.0, key.1),
        })?;
        events.push((EventKind::New, id, f, serde_json::json!({})));
    }
    // Resolved: in scope, open, and not desired any more. Open outside the scope: untouched.
    let mut resolved: Vec<(i64, &Existing, String, String)> = Vec::new();
    let mut open_outside_scope = 0usize;
    for ((vuln, purl), e) in &existing {
        let key = (vuln.clone(), purl.clone());
        if e.state != "open" || seen.contains(&key) {
            continue;
        }
        if e.in_scope {
            resolved.push((e.id, e, key.0, key.1));
        } else {
            open_outside_scope += 1;
        }
    }
    let open_now = seen.len();
    resolved.sort_by_key(|r| r.0);
    for (id, _, _, _) in &resolved {
        c.execute(
            "UPDATE findings SET state = 'resolved', resolved_at = $2, last_changed = $2 WHERE id = $1",
            &params![*id, now],
        )?;
    }

    // Events: one multi-row insert, then the full records.
    let mut ev_values = Vec::new();
    let mut records = Vec::new();
    for (kind, finding_id, f, detail) in &events {
        ev_values.extend(params![
            *finding_id,
            ctx.version_id,
            ctx.asset_id,
            kind.as_str(),
            detail.to_string(),
            now
        ]);
        records.push(FindingEvent {
            id: 0,
            kind: *kind,
            at: now,
            finding_id: *finding_id,
            asset_id: ctx.asset_id,
            asset_name: ctx.asset_name.to_string(),
            team_id: ctx.team_id,
            version_id: ctx.version_id,
            vuln_id: f.id.clone(),
            aliases: f.ids.clone(),
            purl: f.package.purl.to_string(),
            package_name: f.package.name.clone(),
            package_version: f.installed_version.clone(),
            severity: f.severity,
            kev: f.kev.is_some(),
            epss: f.epss.as_ref().map(|e| e.score),
            fixable: !f.fixed_versions.is_empty(),
            detail: detail.clone(),
        });
    }
    for (id, e, vuln, purl) in &resolved {
        ev_values.extend(params![
            *id,
            ctx.version_id,
            ctx.asset_id,
            "resolved",
            "{}",
            now
        ]);
        records.push(FindingEvent {
            id: 0,
            kind: EventKind::Resolved,
            at: now,
            finding_id: *id,
            asset_id: ctx.asset_id,
            asset_name: ctx.asset_name.to_string(),
            team_id: ctx.team_id,
            version_id: ctx.version_id,
            vuln_id: vuln.clone(),
            aliases: serde_json::from_str(&e.aliases).unwrap_or_default(),
            purl: purl.clone(),
            package_name: e.package_name.clone(),
            package_version: e.package_version.clone(),
            severity: parse_severity(&e.severity),
            kev: e.kev,
            epss: e.epss,
            fixable: e.fixed != "[]",
            detail: serde_json::json!({}),
        });
    }
    let ids = insert_rows(
        c,
        "INSERT INTO finding_events (finding_id, version_id, asset_id, kind, detail, at) VALUES",
        6,
        &ev_values,
        "RETURNING id, finding_id",
    )?;
    let mut by_finding: HashMap<i64, i64> = HashMap::with_capacity(ids.len());
    for r in ids {
        by_finding.insert(r.i64(1)?, r.i64(0)?);
    }
    for rec in &mut records {
        rec.id = by_finding.get(&rec.finding_id).copied().unwrap_or(0);
    }
    records.sort_by_key(|r| r.id);
    Ok((records, open_now + open_outside_scope))
}

/// ` FOR UPDATE` on PostgreSQL (row locks); nothing on SQLite, whose one writer holds the
/// whole database.
pub(crate) fn for_update(c: &dyn Conn) -> &'static str {
    match c.backend() {
        crate::Backend::Postgres => " FOR UPDATE",
        crate::Backend::Sqlite => "",
    }
}

fn first_label<'a>(labels: &'a BTreeMap<String, String>, keys: &[String]) -> Option<&'a str> {
    keys.iter()
        .filter_map(|k| labels.get(k))
        .map(|v| v.trim())
        .find(|v| !v.is_empty())
}

fn check_document(doc: &IngestDocument) -> Result<()> {
    if doc.asset.trim().is_empty() || doc.asset.len() > 1_000 {
        return Err(StoreError::Invalid(
            "the asset name must be 1 to 1,000 characters".into(),
        ));
    }
    if doc.version_key.trim().is_empty() || doc.version_key.len() > 1_000 {
        return Err(StoreError::Invalid(
            "the version key (image digest or project version) must be 1 to 1,000 characters"
                .into(),
        ));
    }
    if let Some(bad) = doc
        .findings
        .iter()
        .find(|f| f.component >= doc.components.len())
    {
        return Err(StoreError::Invalid(format!(
            "finding {} names component {} but the document has {}",
            bad.finding.id,
            bad.component,
            doc.components.len()
        )));
    }
    Ok(())
}

impl Store {
    /// Stores an upload in one transaction (see the crate docs). Needs the upload scope; a
    /// team-limited principal may only write its team's assets.
    pub fn ingest(&self, who: &Principal, doc: &IngestDocument) -> Result<IngestOutcome> {
        who.require(Scope::Upload)?;
        check_document(doc)?;
        let content = content_key(&doc.components)?;
        self.engine.write(|c| ingest_in(c, who, doc, &content))
    }
}

fn ingest_in(
    c: &mut dyn Conn,
    who: &Principal,
    doc: &IngestDocument,
    content: &str,
) -> Result<IngestOutcome> {
    let now = now_ms();
    // A retried upload: bump last_seen, change nothing else.
    if let Some(key) = &doc.idempotency_key {
        if let Some(r) = c.query_opt(
            "SELECT v.id, v.uuid, a.id, a.uuid, a.team_id, v.component_count FROM upload_keys k \
             JOIN versions v ON v.id = k.version_id JOIN assets a ON a.id = v.asset_id WHERE k.key = $1",
            &params![key],
        )? {
            if !who.sees_team(r.opt_i64(4)?) {
                return Err(StoreError::Forbidden(format!(
                    "asset {:?} belongs to another team",
                    doc.asset
                )));
            }
            let version_id = r.i64(0)?;
            c.execute(
                "UPDATE versions SET last_seen = $2 WHERE id = $1",
                &params![version_id, now],
            )?;
            let open = c
                .query_one(
                    "SELECT COUNT(*) FROM findings WHERE version_id = $1 AND state = 'open'",
                    &params![version_id],
                )?
                .i64(0)?;
            return Ok(IngestOutcome {
                asset_id: r.i64(2)?,
                asset_uuid: r.text(3)?,
                version_id,
                version_uuid: r.text(1)?,
                new_asset: false,
                new_version: false,
                components_replaced: false,
                duplicate: true,
                component_count: usize::try_from(r.i64(5)?).unwrap_or(0),
                open_findings: usize::try_from(open).unwrap_or(0),
                events: Vec::new(),
            });
        }
    }

    // Team: explicit, else a label, else the uploader's own team.
    let team_name = doc
        .team
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .or_else(|| first_label(&doc.labels, &doc.ownership.team_keys));
    let owner = doc
        .owner
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .or_else(|| first_label(&doc.labels, &doc.ownership.owner_keys));
    let mut team_id = match team_name {
        Some(t) => Some(ensure_team(c, t)?),
        None => who.team_id(),
    };
    if let (Some(mine), Some(t)) = (who.team_id(), team_id) {
        if mine != t {
            return Err(StoreError::Forbidden(format!(
                "{} may only upload for its own team, not {:?}",
                who.actor(),
                team_name.unwrap_or_default()
            )));
        }
    }
    let labels = serde_json::to_string(&doc.labels).unwrap_or_else(|_| "{}".into());

    // Insert the asset if absent, then lock its row: concurrent ingests of one asset (on
    // PostgreSQL) wait here and run one after the other, so the version, component and finding
    // upserts below never race. SQLite's single writer serialises them already.
    let fresh_uuid = new_uuid();
    let inserted = c.execute(
        "INSERT INTO assets (uuid, name, team_id, owner, labels, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (name) DO NOTHING",
        &params![
            fresh_uuid.as_str(),
            doc.asset.as_str(),
            team_id,
            owner,
            labels.as_str(),
            now
        ],
    )? == 1;
    let r = c.query_one(
        &format!(
            "SELECT id, uuid, team_id FROM assets WHERE name = $1{}",
            for_update(c)
        ),
        &params![doc.asset.as_str()],
    )?;
    let asset_id = r.i64(0)?;
    let asset_uuid = r.text(1)?;
    let new_asset = inserted && asset_uuid == fresh_uuid;
    if !new_asset {
        let current_team = r.opt_i64(2)?;
        if !who.sees_team(current_team) {
            return Err(StoreError::Forbidden(format!(
                "asset {:?} belongs to another team",
                doc.asset
            )));
        }
        if team_name.is_none() {
            team_id = current_team.or(team_id);
        }
        c.execute(
            "UPDATE assets SET team_id = $2, owner = COALESCE($3, owner), labels = $4, updated_at = $5 WHERE id = $1",
            &params![asset_id, team_id, owner, labels, now],
        )?;
    }

    let os = doc
        .os
        .as_ref()
        .map(|o| serde_json::to_string(o).unwrap_or_default());
    let ci = doc.ci.as_ref().map(|v| v.to_string());
    let count = i64::try_from(doc.components.len()).unwrap_or(i64::MAX);
    let version = c.query_opt(
        "SELECT id, uuid, content_key FROM versions WHERE asset_id = $1 AND version_key = $2",
        &params![asset_id, doc.version_key.as_str()],
    )?;
    let (version_id, version_uuid, new_version, replace) = match version {
        Some(r) => {
            let id = r.i64(0)?;
            let replace = r.text(2)? != content;
            c.execute(
                "UPDATE versions SET label = COALESCE($2, label), source_kind = $3, os = COALESCE($4, os), \
                 ci = COALESCE($5, ci), content_key = $6, component_count = $7, last_seen = $8 WHERE id = $1",
                &params![id, doc.label.as_deref(), doc.source_kind.as_str(), os, ci, content, count, now],
            )?;
            (id, r.text(1)?, false, replace)
        }
        None => {
            let uuid = new_uuid();
            let id = c
                .query_one(
                    "INSERT INTO versions (uuid, asset_id, version_key, label, source_kind, os, ci, content_key, \
                     component_count, first_seen, last_seen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
                    &params![
                        uuid.as_str(),
                        asset_id,
                        doc.version_key.as_str(),
                        doc.label.as_deref(),
                        doc.source_kind.as_str(),
                        os,
                        ci,
                        content,
                        count,
                        now
                    ],
                )?
                .i64(0)?;
            (id, uuid, true, false)
        }
    };

    let component_ids: Vec<Option<i64>> = if new_version || replace {
        if replace {
            c.execute(
                "DELETE FROM components WHERE version_id = $1",
                &params![version_id],
            )?;
        }
        insert_components(c, version_id, &doc.components)?
            .into_iter()
            .map(Some)
            .collect()
    } else {
        let mut ids = vec![None; doc.components.len()];
        for r in c.query(
            "SELECT id, ordinal FROM components WHERE version_id = $1",
            &params![version_id],
        )? {
            if let Some(slot) = usize::try_from(r.i64(1)?).ok().and_then(|o| ids.get_mut(o)) {
                *slot = Some(r.i64(0)?);
            }
        }
        ids
    };

    let desired: Vec<Desired<'_>> = doc
        .findings
        .iter()
        .map(|f| Desired {
            component_id: component_ids.get(f.component).copied().flatten(),
            finding: &f.finding,
        })
        .collect();
    let ctx = AssetCtx {
        asset_id,
        asset_name: &doc.asset,
        team_id,
        version_id,
    };
    let (events, open) = sync_findings(c, &ctx, SyncScope::Version, &desired, now)?;
    if let Some(misconfigs) = &doc.misconfigurations {
        replace_misconfigurations(c, version_id, misconfigs)?;
    }

    c.execute(
        "UPDATE assets SET latest_version_id = $2 WHERE id = $1",
        &params![asset_id, version_id],
    )?;
    crate::counts::refresh_asset_counts(c, asset_id)?;
    if let Some(key) = &doc.idempotency_key {
        c.execute(
            "INSERT INTO upload_keys (key, version_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
            &params![key.as_str(), version_id, now],
        )?;
    }
    audit(
        c,
        who,
        "ingest",
        &format!("version:{version_uuid}"),
        &serde_json::json!({
            "asset": doc.asset, "version": doc.version_key, "components": doc.components.len(),
            "findings": doc.findings.len(), "new_version": new_version, "replaced": replace,
        }),
    )?;
    Ok(IngestOutcome {
        asset_id,
        asset_uuid,
        version_id,
        version_uuid,
        new_asset,
        new_version,
        components_replaced: replace,
        duplicate: false,
        component_count: doc.components.len(),
        open_findings: open,
        events,
    })
}

/// The most misconfigurations kept per version: a report with more (a host scan of a huge
/// tree) keeps the first ones, so one upload cannot grow the table without bound. The count
/// on the version stays the real one.
pub const MAX_MISCONFIGS_PER_VERSION: usize = 5_000;

/// `(framework, control)` pairs of a misconfiguration, deduplicated.
fn controls_of(m: &Misconfiguration) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = m
        .compliance
        .iter()
        .map(|c| (c.framework.as_str().to_string(), c.control.clone()))
        .collect();
    out.sort();
    out.dedup();
    out
}

fn place_of(m: &Misconfiguration) -> String {
    match m.location.line {
        Some(line) => format!("{}:{line}", m.location.path),
        None => m.location.path.clone(),
    }
}

/// Replaces a version's stored misconfigurations and the framework controls they fail
/// (migration 0004; read by the compliance page through `compliance.rs`).
pub(crate) fn replace_misconfigurations(
    c: &mut dyn Conn,
    version_id: i64,
    misconfigs: &[Misconfiguration],
) -> Result<()> {
    c.execute(
        "DELETE FROM version_misconfigs WHERE version_id = $1",
        &params![version_id],
    )?;
    c.execute(
        "DELETE FROM version_controls WHERE version_id = $1",
        &params![version_id],
    )?;
    c.execute(
        "UPDATE versions SET misconfig_count = $2 WHERE id = $1",
        &params![
            version_id,
            i64::try_from(misconfigs.len()).unwrap_or(i64::MAX)
        ],
    )?;
    let kept = &misconfigs[..misconfigs.len().min(MAX_MISCONFIGS_PER_VERSION)];
    let mut rows: Vec<Value> = Vec::with_capacity(kept.len() * 7);
    let mut controls: BTreeMap<(String, String), i64> = BTreeMap::new();
    for m in kept {
        let pairs = controls_of(m);
        let json: Vec<serde_json::Value> = pairs
            .iter()
            .map(|(f, c)| serde_json::json!({ "framework": f, "control": c }))
            .collect();
        rows.extend(params![
            version_id,
            m.check_id.as_str(),
            m.severity.as_str(),
            m.title.as_str(),
            m.message.as_str(),
            place_of(m),
            serde_json::Value::Array(json).to_string()
        ]);
        for pair in pairs {
            *controls.entry(pair).or_default() += 1;
        }
    }
    insert_rows(
        c,
        "INSERT INTO version_misconfigs (version_id, check_id, severity, title, message, place, compliance) VALUES",
        7,
        &rows,
        "",
    )?;
    let mut rows: Vec<Value> = Vec::with_capacity(controls.len() * 4);
    for ((framework, control), n) in controls {
        rows.extend(params![version_id, framework, control, n]);
    }
    insert_rows(
        c,
        "INSERT INTO version_controls (version_id, framework, control, findings) VALUES",
        4,
        &rows,
        "",
    )?;
    Ok(())
}
