//! What the API reads: the portfolio (assets with their latest version and counts), versions,
//! findings, affected assets of a vulnerability, metrics, events, the audit log and daily
//! snapshots. Every read is limited to the principal's team and paginated.

use std::collections::{BTreeMap, HashMap};

use bulwark_types::{OsRelease, Severity, VulnerabilityFinding};
use serde::{Deserialize, Serialize};

use crate::auth::TeamInfo;
use crate::counts::{bind, counts_for_versions, SeverityCounts, TRIAGE_JOIN};
use crate::driver::{params, vec_params, Row, Value};
use crate::ingest::{parse_severity, severity_rank, EventKind, FindingEvent};
use crate::triage::{visible_asset, TriageState};
use crate::{now_ms, Principal, Result, Scope, Store, StoreError};

/// A page request: at most [`Page::MAX_LIMIT`] items from `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    pub limit: u32,
    pub offset: u64,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            limit: 100,
            offset: 0,
        }
    }
}

impl Page {
    /// The largest page served, whatever is asked.
    pub const MAX_LIMIT: u32 = 1_000;

    /// A page of `limit` from `offset`.
    pub fn new(limit: u32, offset: u64) -> Page {
        Page { limit, offset }
    }

    pub(crate) fn limit(self) -> i64 {
        i64::from(self.limit.clamp(1, Page::MAX_LIMIT))
    }

    pub(crate) fn offset(self) -> i64 {
        i64::try_from(self.offset).unwrap_or(i64::MAX)
    }
}

/// One page of items and how many there are in all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: i64,
}

/// A version (an image digest or a project version) of an asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionSummary {
    pub id: i64,
    pub uuid: String,
    pub asset_id: i64,
    pub version_key: String,
    pub label: Option<String>,
    pub source_kind: String,
    pub os: Option<OsRelease>,
    pub ci: Option<serde_json::Value>,
    pub component_count: i64,
    pub first_seen: i64,
    pub last_seen: i64,
}

/// An asset as the portfolio shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetSummary {
    pub id: i64,
    pub uuid: String,
    pub name: String,
    pub team: Option<TeamInfo>,
    pub owner: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub latest_version: Option<VersionSummary>,
    /// Counts of the latest version.
    pub counts: SeverityCounts,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Which assets to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssetFilter {
    /// Case-insensitive substring of the name.
    pub name_contains: Option<String>,
    /// Only this team's (by name).
    pub team: Option<String>,
    /// Only this owner's.
    pub owner: Option<String>,
    pub sort: AssetSort,
}

/// A finding as the API lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingRow {
    pub id: i64,
    pub asset_id: i64,
    pub version_id: i64,
    pub component_id: Option<i64>,
    pub vuln_id: String,
    pub aliases: Vec<String>,
    pub purl: String,
    pub package_name: String,
    pub package_version: String,
    pub severity: Severity,
    pub cvss_score: Option<f64>,
    pub epss: Option<f64>,
    pub kev: bool,
    pub fixable: bool,
    pub fixed_versions: Vec<String>,
    /// `open` or `resolved`.
    pub state: String,
    pub first_seen: i64,
    pub last_changed: i64,
    pub resolved_at: Option<i64>,
    /// The inherited triage decision, if any.
    pub triage_state: Option<TriageState>,
    pub suppressed: bool,
    pub finding: VulnerabilityFinding,
}

/// Which findings to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingFilter {
    /// At least this severity.
    pub min_severity: Option<Severity>,
    pub kev: Option<bool>,
    pub fixable: Option<bool>,
    /// `open` or `resolved`; None: both.
    pub state: Option<String>,
    pub vuln_id: Option<String>,
    /// Include findings triaged as suppressed.
    pub include_suppressed: bool,
}

/// How to order the portfolio. Every order ends with the name, so pages are stable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssetSort {
    #[default]
    Name,
    /// Worst first: critical, then high, medium and low counts, descending.
    Severity,
    /// Most KEV-listed findings first (then severity).
    Kev,
    /// Most fixable findings first (then severity).
    Fixable,
    /// Most open findings first.
    Total,
    /// Most recently seen latest version first.
    LastSeen,
}

impl AssetSort {
    /// The query-string spellings, for error messages.
    pub const NAMES: &'static str = "name, severity, kev, fixable, total or last_seen";

    /// Parses `?sort=`.
    pub fn parse(s: &str) -> Option<AssetSort> {
        Some(match s {
            "name" => AssetSort::Name,
            "severity" => AssetSort::Severity,
            "kev" => AssetSort::Kev,
            "fixable" => AssetSort::Fixable,
            "total" => AssetSort::Total,
            "last_seen" => AssetSort::LastSeen,
            _ => return None,
        })
    }

    fn order_by(self) -> &'static str {
        match self {
            AssetSort::Name => "a.name",
            AssetSort::Severity => {
                "a.open_critical DESC, a.open_high DESC, a.open_medium DESC, a.open_low DESC, a.name"
            }
            AssetSort::Kev => "a.open_kev DESC, a.open_critical DESC, a.open_high DESC, a.name",
            AssetSort::Fixable => {
                "a.open_fixable DESC, a.open_critical DESC, a.open_high DESC, a.name"
            }
            AssetSort::Total => "a.open_total DESC, a.name",
            AssetSort::LastSeen => "v.last_seen DESC, a.name",
        }
    }
}

/// How to order findings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingSort {
    /// Most severe first (then KEV, EPSS, id).
    #[default]
    Severity,
    /// Newest first.
    FirstSeen,
    VulnId,
    Package,
}

/// Dependency-Track-style metrics of a version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersionMetrics {
    pub counts: SeverityCounts,
    pub components: i64,
    /// Components with at least one open, unsuppressed finding.
    pub vulnerable_components: i64,
    pub suppressed: i64,
    /// Open findings with a triage decision other than NOT_SET.
    pub audited: i64,
    pub resolved: i64,
    /// Dependency-Track's weighting: critical 10, high 5, medium 3, low 1, unassigned 5.
    pub inherited_risk_score: i64,
    pub first_seen: i64,
    pub last_seen: i64,
}

/// A version of an asset where a vulnerability is open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AffectedAsset {
    pub asset_id: i64,
    pub asset_uuid: String,
    pub asset_name: String,
    pub version_id: i64,
    pub version_uuid: String,
    pub version_key: String,
    pub purl: String,
    pub severity: Severity,
    /// The version is the asset's latest.
    pub latest: bool,
}

/// One audit log entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: serde_json::Value,
    pub at: i64,
}

/// One day's counts of one asset (or a team: the sum of its assets).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub asset_id: Option<i64>,
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub counts: SeverityCounts,
    /// Mean time from first seen to resolved, over every finding of the asset resolved so far.
    pub mttr_ms: Option<i64>,
}

const VERSION_COLUMNS: &str = "v.id, v.uuid, v.asset_id, v.version_key, v.label, v.source_kind, v.os, v.ci, v.component_count, v.first_seen, v.last_seen";

fn version_of(r: &Row, at: usize) -> Result<VersionSummary> {
    Ok(VersionSummary {
        id: r.i64(at)?,
        uuid: r.text(at + 1)?,
        asset_id: r.i64(at + 2)?,
        version_key: r.text(at + 3)?,
        label: r.opt_text(at + 4)?,
        source_kind: r.text(at + 5)?,
        os: r
            .opt_text(at + 6)?
            .and_then(|t| serde_json::from_str(&t).ok()),
        ci: r
            .opt_text(at + 7)?
            .and_then(|t| serde_json::from_str(&t).ok()),
        component_count: r.i64(at + 8)?,
        first_seen: r.i64(at + 9)?,
        last_seen: r.i64(at + 10)?,
    })
}

/// `LIKE` pattern matching `text` literally anywhere (with `ESCAPE '\'`).
fn contains_pattern(text: &str) -> String {
    let mut s = String::from("%");
    for ch in text.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(ch);
    }
    s.push('%');
    s
}

const ASSET_SELECT: &str = "SELECT a.id, a.uuid, a.name, a.team_id, teams.name, a.owner, a.labels, a.created_at, a.updated_at, \
     v.id, v.uuid, v.asset_id, v.version_key, v.label, v.source_kind, v.os, v.ci, v.component_count, v.first_seen, v.last_seen, \
     a.open_critical, a.open_high, a.open_medium, a.open_low, a.open_unknown, a.open_kev, a.open_fixable, a.open_total \
     FROM assets a LEFT JOIN teams ON teams.id = a.team_id LEFT JOIN versions v ON v.id = a.latest_version_id";

/// The first column of the kept counts in [`ASSET_SELECT`].
const ASSET_COUNTS_COLUMN: usize = 20;

fn assets_of(rows: Vec<Row>) -> Result<Vec<AssetSummary>> {
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(AssetSummary {
            id: r.i64(0)?,
            uuid: r.text(1)?,
            name: r.text(2)?,
            team: match r.opt_i64(3)? {
                Some(id) => Some(TeamInfo {
                    id,
                    name: r.text(4)?,
                }),
                None => None,
            },
            owner: r.opt_text(5)?,
            labels: serde_json::from_str(&r.text(6)?).unwrap_or_default(),
            latest_version: match r.opt_i64(9)? {
                Some(_) => Some(version_of(r, 9)?),
                None => None,
            },
            counts: {
                let n = |i: usize| r.i64(ASSET_COUNTS_COLUMN + i);
                SeverityCounts {
                    critical: n(0)?,
                    high: n(1)?,
                    medium: n(2)?,
                    low: n(3)?,
                    unknown: n(4)?,
                    kev: n(5)?,
                    fixable: n(6)?,
                    total: n(7)?,
                }
            },
            created_at: r.i64(7)?,
            updated_at: r.i64(8)?,
        });
    }
    Ok(out)
}

pub(crate) fn team_clause(who: &Principal, p: &mut Vec<Value>, column: &str) -> String {
    match who.team_id() {
        Some(t) => format!(" AND {column} = {}", bind(p, t)),
        None => String::new(),
    }
}

pub(crate) const FINDING_SELECT: &str = "SELECT f.id, f.asset_id, f.version_id, f.component_id, f.vuln_id, f.aliases, f.purl, f.package_name, \
     f.package_version, f.severity, f.cvss_score, f.epss, f.kev, f.fixable, f.fixed_versions, f.state, f.first_seen, \
     f.last_changed, f.resolved_at, t.state, COALESCE(t.suppressed, 0), f.finding";

pub(crate) fn finding_of(r: &Row) -> Result<FindingRow> {
    Ok(FindingRow {
        id: r.i64(0)?,
        asset_id: r.i64(1)?,
        version_id: r.i64(2)?,
        component_id: r.opt_i64(3)?,
        vuln_id: r.text(4)?,
        aliases: r.json(5)?,
        purl: r.text(6)?,
        package_name: r.text(7)?,
        package_version: r.text(8)?,
        severity: parse_severity(&r.text(9)?),
        cvss_score: r.opt_f64(10)?,
        epss: r.opt_f64(11)?,
        kev: r.bool(12)?,
        fixable: r.bool(13)?,
        fixed_versions: r.json(14)?,
        state: r.text(15)?,
        first_seen: r.i64(16)?,
        last_changed: r.i64(17)?,
        resolved_at: r.opt_i64(18)?,
        triage_state: r
            .opt_text(19)?
            .map(|s| TriageState::parse(&s))
            .transpose()?,
        suppressed: r.bool(20)?,
        finding: r.json(21)?,
    })
}

/// An event with what a notification says of it; rows read by [`event_of`].
pub(crate) const EVENT_SELECT: &str = "SELECT e.id, e.kind, e.at, e.finding_id, e.asset_id, a.name, a.team_id, e.version_id, f.vuln_id, f.aliases, \
     f.purl, f.package_name, f.package_version, f.severity, f.kev, f.epss, f.fixable, e.detail \
     FROM finding_events e JOIN findings f ON f.id = e.finding_id JOIN assets a ON a.id = e.asset_id";

pub(crate) fn event_of(r: &Row) -> Result<FindingEvent> {
    let kind = r.text(1)?;
    Ok(FindingEvent {
        id: r.i64(0)?,
        kind: EventKind::parse(&kind).ok_or_else(|| StoreError::Corrupt {
            backend: "store",
            target: String::new(),
            what: format!("event kind {kind:?}"),
        })?,
        at: r.i64(2)?,
        finding_id: r.i64(3)?,
        asset_id: r.i64(4)?,
        asset_name: r.text(5)?,
        team_id: r.opt_i64(6)?,
        version_id: r.i64(7)?,
        vuln_id: r.text(8)?,
        aliases: r.json(9)?,
        purl: r.text(10)?,
        package_name: r.text(11)?,
        package_version: r.text(12)?,
        severity: parse_severity(&r.text(13)?),
        kev: r.bool(14)?,
        epss: r.opt_f64(15)?,
        fixable: r.bool(16)?,
        detail: r.json(17)?,
    })
}

/// `YYYY-MM-DD` of a unix-millisecond time (UTC), by the civil-from-days algorithm.
pub fn day_of(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

impl Store {
    /// The portfolio: assets the principal may see, by name, with their latest version and
    /// its counts.
    pub fn list_assets(
        &self,
        who: &Principal,
        filter: &AssetFilter,
        page: Page,
    ) -> Result<crate::Paged<AssetSummary>> {
        who.require(Scope::Read)?;
        self.engine.read(|c| {
            let mut p = Vec::new();
            let mut filt = String::from(" WHERE 1 = 1");
            filt.push_str(&team_clause(who, &mut p, "a.team_id"));
            if let Some(n) = filter.name_contains.as_deref().filter(|n| !n.is_empty()) {
                filt.push_str(&format!(
                    " AND LOWER(a.name) LIKE {} ESCAPE '\\'",
                    bind(&mut p, contains_pattern(n))
                ));
            }
            if let Some(t) = &filter.team {
                filt.push_str(&format!(" AND teams.name = {}", bind(&mut p, t.as_str())));
            }
            if let Some(o) = &filter.owner {
                filt.push_str(&format!(" AND a.owner = {}", bind(&mut p, o.as_str())));
            }
            // The teams join only when a team name filters: counting 10k assets stays an index scan.
            let count_from = if filter.team.is_some() {
                "assets a LEFT JOIN teams ON teams.id = a.team_id"
            } else {
                "assets a"
            };
            let total = c
                .query_one(&format!("SELECT COUNT(*) FROM {count_from}{filt}"), &p)?
                .i64(0)?;
            let lim = bind(&mut p, page.limit());
            let off = bind(&mut p, page.offset());
            let rows = c.query(
                &format!(
                    "{ASSET_SELECT}{filt} ORDER BY {} LIMIT {lim} OFFSET {off}",
                    filter.sort.order_by()
                ),
                &p,
            )?;
            Ok(crate::Paged {
                items: assets_of(rows)?,
                total,
            })
        })
    }

    /// One asset by id, uuid or name (whichever `key` is), if the principal may see it.
    fn asset_where(
        &self,
        who: &Principal,
        column: &str,
        key: Value,
    ) -> Result<Option<AssetSummary>> {
        who.require(Scope::Read)?;
        self.engine.read(|c| {
            let mut p = vec![key];
            let team = team_clause(who, &mut p, "a.team_id");
            let rows = c.query(&format!("{ASSET_SELECT} WHERE {column} = $1{team}"), &p)?;
            Ok(assets_of(rows)?.into_iter().next())
        })
    }

    /// An asset by id.
    pub fn asset(&self, who: &Principal, id: i64) -> Result<Option<AssetSummary>> {
        self.asset_where(who, "a.id", id.into())
    }

    /// An asset by uuid.
    pub fn asset_by_uuid(&self, who: &Principal, uuid: &str) -> Result<Option<AssetSummary>> {
        self.asset_where(who, "a.uuid", uuid.into())
    }

    /// An asset by name.
    pub fn asset_by_name(&self, who: &Principal, name: &str) -> Result<Option<AssetSummary>> {
        self.asset_where(who, "a.name", name.into())
    }

    /// Sets an asset's team (created when missing; None clears it) and owner (admin).
    pub fn set_asset_ownership(
        &self,
        who: &Principal,
        asset_id: i64,
        team: Option<&str>,
        owner: Option<&str>,
    ) -> Result<()> {
        who.require(Scope::Admin)?;
        self.engine.write(|c| {
            visible_asset(c, who, asset_id)?;
            let team_id = team.map(|t| crate::auth::ensure_team(c, t)).transpose()?;
            if who.team_id().is_some() && team_id != who.team_id() {
                return Err(StoreError::Forbidden(format!(
                    "{} may not move an asset to another team",
                    who.actor()
                )));
            }
            c.execute(
                "UPDATE assets SET team_id = $2, owner = $3, updated_at = $4 WHERE id = $1",
                &params![asset_id, team_id, owner, now_ms()],
            )?;
            crate::auth::audit(
                c,
                who,
                "asset.ownership",
                &format!("asset:{asset_id}"),
                &serde_json::json!({ "team": team, "owner": owner }),
            )
        })
    }

    /// An asset's versions, most recently seen first.
    pub fn versions(
        &self,
        who: &Principal,
        asset_id: i64,
        page: Page,
    ) -> Result<crate::Paged<VersionSummary>> {
        who.require(Scope::Read)?;
        self.engine.read(|c| {
            visible_asset(c, who, asset_id)?;
            let total = c
                .query_one("SELECT COUNT(*) FROM versions WHERE asset_id = $1", &params![asset_id])?
                .i64(0)?;
            let rows = c.query(
                &format!("SELECT {VERSION_COLUMNS} FROM versions v WHERE v.asset_id = $1 ORDER BY v.last_seen DESC, v.id DESC LIMIT $2 OFFSET $3"),
                &params![asset_id, page.limit(), page.offset()],
            )?;
            Ok(crate::Paged {
                items: rows.iter().map(|r| version_of(r, 0)).collect::<Result<_>>()?,
                total,
            })
        })
    }

    /// A version by uuid.
    pub fn version_by_uuid(&self, who: &Principal, uuid: &str) -> Result<Option<VersionSummary>> {
        self.version_where(who, "v.uuid = $1", vec_params![uuid])
    }

    /// A version by id.
    pub fn version(&self, who: &Principal, id: i64) -> Result<Option<VersionSummary>> {
        self.version_where(who, "v.id = $1", vec_params![id])
    }

    /// A version of an asset by its key (digest or project version).
    pub fn version_by_key(
        &self,
        who: &Principal,
        asset_id: i64,
        key: &str,
    ) -> Result<Option<VersionSummary>> {
        self.version_where(
            who,
            "v.asset_id = $1 AND v.version_key = $2",
            vec_params![asset_id, key],
        )
    }

    /// The most recently seen version whose key is this image digest, in any asset the
    /// caller may see (the admission webhook's lookup: one digest, whatever asset it was
    /// uploaded under).
    pub fn version_by_digest(
        &self,
        who: &Principal,
        digest: &str,
    ) -> Result<Option<VersionSummary>> {
        self.version_where(
            who,
            "v.id = (SELECT d.id FROM versions d WHERE d.version_key = $1 ORDER BY d.last_seen DESC, d.id DESC LIMIT 1)",
            vec_params![digest],
        )
    }

    fn version_where(
        &self,
        who: &Principal,
        cond: &str,
        mut p: Vec<Value>,
    ) -> Result<Option<VersionSummary>> {
        who.require(Scope::Read)?;
        self.engine.read(|c| {
            let team = team_clause(who, &mut p, "a.team_id");
            c.query_opt(
                &format!("SELECT {VERSION_COLUMNS} FROM versions v JOIN assets a ON a.id = v.asset_id WHERE {cond}{team}"),
                &p,
            )?
            .map(|r| version_of(&r, 0))
            .transpose()
        })
    }

    /// A version's findings, filtered, sorted and paginated.
    pub fn findings(
        &self,
        who: &Principal,
        version_id: i64,
        filter: &FindingFilter,
        sort: FindingSort,
        page: Page,
    ) -> Result<crate::Paged<FindingRow>> {
        who.require(Scope::Read)?;
        self.engine.read(|c| {
            let asset = c
                .query_opt("SELECT asset_id FROM versions WHERE id = $1", &params![version_id])?
                .ok_or_else(|| StoreError::NotFound(format!("version {version_id}")))?
                .i64(0)?;
            visible_asset(c, who, asset)?;
            let mut p = Vec::new();
            let mut w = format!(" WHERE f.version_id = {}", bind(&mut p, version_id));
            if let Some(s) = filter.min_severity {
                w.push_str(&format!(" AND f.severity_rank >= {}", bind(&mut p, severity_rank(s))));
            }
            if let Some(k) = filter.kev {
                w.push_str(&format!(" AND f.kev = {}", bind(&mut p, k)));
            }
            if let Some(k) = filter.fixable {
                w.push_str(&format!(" AND f.fixable = {}", bind(&mut p, k)));
            }
            if let Some(s) = &filter.state {
                w.push_str(&format!(" AND f.state = {}", bind(&mut p, s.as_str())));
            }
            if let Some(v) = &filter.vuln_id {
                w.push_str(&format!(" AND f.vuln_id = {}", bind(&mut p, v.as_str())));
            }
            if !filter.include_suppressed {
                w.push_str(" AND COALESCE(t.suppressed, 0) = 0");
            }
            let total = c
                .query_one(&format!("SELECT COUNT(*) FROM findings f {TRIAGE_JOIN}{w}"), &p)?
                .i64(0)?;
            let order = match sort {
                FindingSort::Severity => "f.severity_rank DESC, f.kev DESC, COALESCE(f.epss, -1) DESC, f.vuln_id, f.purl",
                FindingSort::FirstSeen => "f.first_seen DESC, f.id DESC",
                FindingSort::VulnId => "f.vuln_id, f.purl",
                FindingSort::Package => "f.package_name, f.package_version, f.vuln_id",
            };
            let lim = bind(&mut p, page.limit());
            let off = bind(&mut p, page.offset());
            let rows = c.query(
                &format!("{FINDING_SELECT} FROM findings f {TRIAGE_JOIN}{w} ORDER BY {order} LIMIT {lim} OFFSET {off}"),
                &p,
            )?;
            Ok(crate::Paged {
                items: rows.iter().map(finding_of).collect::<Result<_>>()?,
                total,
            })
        })
    }

    /// One finding by id, if the principal may see its asset.
    pub fn finding(&self, who: &Principal, id: i64) -> Result<Option<FindingRow>> {
        who.require(Scope::Read)?;
        self.engine.read(|c| {
            let mut p = vec_params![id];
            let team = team_clause(who, &mut p, "a.team_id");
            c.query_opt(
                &format!("{FINDING_SELECT} FROM findings f {TRIAGE_JOIN} JOIN assets a ON a.id = f.asset_id WHERE f.id = $1{team}"),
                &p,
            )?
            .map(|r| finding_of(&r))
            .transpose()
        })
    }

    /// Where a vulnerability (by primary id) is open, on the principal's assets.
    pub fn affected_assets(
        &self,
        who: &Principal,
        vuln_id: &str,
        page: Page,
    ) -> Result<crate::Paged<AffectedAsset>> {
        who.require(Scope::Read)?;
        self.engine.read(|c| {
            let mut p = vec_params![vuln_id];
            let team = team_clause(who, &mut p, "a.team_id");
            let from = format!(
                " FROM findings f JOIN assets a ON a.id = f.asset_id JOIN versions v ON v.id = f.version_id \
                 WHERE f.vuln_id = $1 AND f.state = 'open'{team}"
            );
            let total = c.query_one(&format!("SELECT COUNT(*){from}"), &p)?.i64(0)?;
            let lim = bind(&mut p, page.limit());
            let off = bind(&mut p, page.offset());
            let rows = c.query(
                &format!(
                    "SELECT a.id, a.uuid, a.name, v.id, v.uuid, v.version_key, f.purl, f.severity, a.latest_version_id{from} \
                     ORDER BY a.name, v.id, f.purl LIMIT {lim} OFFSET {off}"
                ),
                &p,
            )?;
            let mut items = Vec::with_capacity(rows.len());
            for r in rows {
                items.push(AffectedAsset {
                    asset_id: r.i64(0)?,
                    asset_uuid: r.text(1)?,
                    asset_name: r.text(2)?,
                    version_id: r.i64(3)?,
                    version_uuid: r.text(4)?,
                    version_key: r.text(5)?,
                    purl: r.text(6)?,
                    severity: parse_severity(&r.text(7)?),
                    latest: r.opt_i64(8)? == Some(r.i64(3)?),
                });
            }
            Ok(crate::Paged { items, total })
        })
    }

    /// Dependency-Track-style metrics of a version.
    pub fn version_metrics(&self, who: &Principal, version_id: i64) -> Result<VersionMetrics> {
        who.require(Scope::Read)?;
        self.engine.read(|c| {
            let v = c
                .query_opt(
                    "SELECT asset_id, component_count, first_seen, last_seen FROM versions WHERE id = $1",
                    &params![version_id],
                )?
                .ok_or_else(|| StoreError::NotFound(format!("version {version_id}")))?;
            visible_asset(c, who, v.i64(0)?)?;
            let counts = counts_for_versions(c, &[version_id])?
                .remove(&version_id)
                .unwrap_or_default();
            let r = c.query_one(
                &format!(
                    "SELECT \
                     COUNT(DISTINCT CASE WHEN f.state = 'open' AND COALESCE(t.suppressed, 0) = 0 THEN f.component_id END), \
                     COUNT(CASE WHEN f.state = 'open' AND COALESCE(t.suppressed, 0) = 1 THEN 1 END), \
                     COUNT(CASE WHEN f.state = 'open' AND t.state IS NOT NULL AND t.state <> 'NOT_SET' THEN 1 END), \
                     COUNT(CASE WHEN f.state = 'resolved' THEN 1 END) \
                     FROM findings f {TRIAGE_JOIN} WHERE f.version_id = $1"
                ),
                &params![version_id],
            )?;
            Ok(VersionMetrics {
                inherited_risk_score: counts.critical * 10
                    + counts.high * 5
                    + counts.medium * 3
                    + counts.low
                    + counts.unknown * 5,
                counts,
                components: v.i64(1)?,
                vulnerable_components: r.i64(0)?,
                suppressed: r.i64(1)?,
                audited: r.i64(2)?,
                resolved: r.i64(3)?,
                first_seen: v.i64(2)?,
                last_seen: v.i64(3)?,
            })
        })
    }

    /// Finding events after event id `after` (0: from the start), oldest first, at most
    /// `limit` (capped at [`Page::MAX_LIMIT`]), on the principal's assets.
    pub fn events_since(
        &self,
        who: &Principal,
        after: i64,
        limit: u32,
    ) -> Result<Vec<FindingEvent>> {
        who.require(Scope::Read)?;
        self.engine.read(|c| {
            let mut p = vec_params![after];
            let team = team_clause(who, &mut p, "a.team_id");
            let lim = bind(&mut p, Page::new(limit, 0).limit());
            c.query(
                &format!("{EVENT_SELECT} WHERE e.id > $1{team} ORDER BY e.id LIMIT {lim}"),
                &p,
            )?
            .iter()
            .map(event_of)
            .collect()
        })
    }

    /// The audit log, newest first (admin).
    pub fn audit_log(&self, who: &Principal, page: Page) -> Result<crate::Paged<AuditEntry>> {
        who.require(Scope::Admin)?;
        if who.team_id().is_some() {
            return Err(StoreError::Forbidden(
                "the audit log is for unrestricted admins only".into(),
            ));
        }
        self.engine.read(|c| {
            let total = c.query_one("SELECT COUNT(*) FROM audit_log", &[])?.i64(0)?;
            let rows = c.query(
                "SELECT id, actor, action, target, detail, at FROM audit_log ORDER BY id DESC LIMIT $1 OFFSET $2",
                &params![page.limit(), page.offset()],
            )?;
            let mut items = Vec::with_capacity(rows.len());
            for r in rows {
                items.push(AuditEntry {
                    id: r.i64(0)?,
                    actor: r.text(1)?,
                    action: r.text(2)?,
                    target: r.text(3)?,
                    detail: r.json(4)?,
                    at: r.i64(5)?,
                });
            }
            Ok(crate::Paged { items, total })
        })
    }

    /// Records (or refreshes) every asset's snapshot for `day` (`YYYY-MM-DD`; see [`day_of`]):
    /// its latest version's counts and its mean time to remediate. Returns the assets recorded.
    pub fn record_snapshot(&self, day: &str) -> Result<usize> {
        let valid = day.len() == 10
            && day.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        if !valid {
            return Err(StoreError::Invalid(format!(
                "snapshot day {day:?} is not YYYY-MM-DD"
            )));
        }
        self.engine.write(|c| {
            let now = now_ms();
            let assets: Vec<(i64, Option<i64>)> = c
                .query("SELECT id, latest_version_id FROM assets ORDER BY id", &[])?
                .iter()
                .map(|r| Ok((r.i64(0)?, r.opt_i64(1)?)))
                .collect::<Result<_>>()?;
            let ids: Vec<i64> = assets.iter().filter_map(|a| a.1).collect();
            let counts = counts_for_versions(c, &ids)?;
            let mut mttr: HashMap<i64, i64> = HashMap::new();
            for r in c.query(
                "SELECT asset_id, COUNT(*), CAST(SUM(resolved_at - first_seen) AS BIGINT) FROM findings \
                 WHERE state = 'resolved' AND resolved_at IS NOT NULL GROUP BY asset_id",
                &[],
            )? {
                let n = r.i64(1)?;
                if n > 0 {
                    mttr.insert(r.i64(0)?, r.opt_i64(2)?.unwrap_or(0) / n);
                }
            }
            for (asset, version) in &assets {
                let k = version.and_then(|v| counts.get(&v).copied()).unwrap_or_default();
                c.execute(
                    "INSERT INTO snapshots (asset_id, day, critical, high, medium, low, unknown, kev, fixable, mttr_ms, recorded_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (asset_id, day) DO UPDATE SET \
                     critical = excluded.critical, high = excluded.high, medium = excluded.medium, low = excluded.low, \
                     unknown = excluded.unknown, kev = excluded.kev, fixable = excluded.fixable, mttr_ms = excluded.mttr_ms, \
                     recorded_at = excluded.recorded_at",
                    &params![*asset, day, k.critical, k.high, k.medium, k.low, k.unknown, k.kev, k.fixable, mttr.get(asset).copied(), now],
                )?;
            }
            Ok(assets.len())
        })
    }

    /// Daily snapshots in `[from_day, to_day]` (inclusive, `YYYY-MM-DD`), oldest first: of one
    /// asset, or summed over a team's assets (`team`), or over every visible asset.
    pub fn snapshots(
        &self,
        who: &Principal,
        asset_id: Option<i64>,
        team: Option<&str>,
        from_day: &str,
        to_day: &str,
    ) -> Result<Vec<Snapshot>> {
        who.require(Scope::Read)?;
        self.engine.read(|c| {
            let mut p = vec_params![from_day, to_day];
            let mut w = String::from(" WHERE s.day >= $1 AND s.day <= $2");
            w.push_str(&team_clause(who, &mut p, "a.team_id"));
            if let Some(a) = asset_id {
                w.push_str(&format!(" AND s.asset_id = {}", bind(&mut p, a)));
            }
            if let Some(t) = team {
                w.push_str(&format!(" AND teams.name = {}", bind(&mut p, t)));
            }
            let rows = c.query(
                &format!(
                    "SELECT s.asset_id, s.day, s.critical, s.high, s.medium, s.low, s.unknown, s.kev, s.fixable, s.mttr_ms \
                     FROM snapshots s JOIN assets a ON a.id = s.asset_id LEFT JOIN teams ON teams.id = a.team_id{w} \
                     ORDER BY s.day, s.asset_id"
                ),
                &p,
            )?;
            let mut by_day: BTreeMap<String, (SeverityCounts, i64, i64)> = BTreeMap::new();
            let mut out = Vec::new();
            for r in rows {
                let k = SeverityCounts {
                    critical: r.i64(2)?,
                    high: r.i64(3)?,
                    medium: r.i64(4)?,
                    low: r.i64(5)?,
                    unknown: r.i64(6)?,
                    kev: r.i64(7)?,
                    fixable: r.i64(8)?,
                    total: r.i64(2)? + r.i64(3)? + r.i64(4)? + r.i64(5)? + r.i64(6)?,
                };
                if asset_id.is_some() {
                    out.push(Snapshot {
                        asset_id: Some(r.i64(0)?),
                        day: r.text(1)?,
                        counts: k,
                        mttr_ms: r.opt_i64(9)?,
                    });
                } else {
                    let e = by_day.entry(r.text(1)?).or_default();
                    e.0.critical += k.critical;
                    e.0.high += k.high;
                    e.0.medium += k.medium;
                    e.0.low += k.low;
                    e.0.unknown += k.unknown;
                    e.0.kev += k.kev;
                    e.0.fixable += k.fixable;
                    e.0.total += k.total;
                    if let Some(m) = r.opt_i64(9)? {
                        e.1 += m;
                        e.2 += 1;
                    }
                }
            }
            if asset_id.is_none() {
                out = by_day
                    .into_iter()
                    .map(|(day, (counts, sum, n))| Snapshot {
                        asset_id: None,
                        day,
                        counts,
                        mttr_ms: (n > 0).then(|| sum / n),
                    })
                    .collect();
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc_calendar_dates() {
        assert_eq!(day_of(0), "1970-01-01");
        assert_eq!(day_of(951_782_400_000), "2000-02-29");
        assert_eq!(day_of(1_796_601_600_000 - 1), "2026-12-06");
        assert_eq!(contains_pattern("a_b%"), "%a\\_b\\%%");
    }
}
