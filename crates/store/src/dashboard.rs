//! What the dashboard (issue 14) reads and keeps beyond the API's reads: login sessions of
//! local users (migration 0003), the "fix first" list, trend series, the layers of a version
//! with what each brought, and the diff of two versions. Every read takes a [`Principal`] and
//! applies its team limit, like the API's.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::auth::audit;
use crate::counts::{bind, SeverityCounts, TRIAGE_JOIN};
use crate::driver::{params, vec_params};
use crate::reads::{finding_of, team_clause, FindingRow, Snapshot, FINDING_SELECT};
use crate::triage::visible_asset;
use crate::{now_ms, Page, Principal, PrincipalKind, Result, Scope, Store, StoreError};

/// The name of the first dashboard admin, whose password `BULWARK_ADMIN_PASSWORD` sets.
pub const ADMIN_USER: &str = "admin";

/// A logged-in dashboard session: who, the CSRF token every form of it must carry, and when
/// it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub principal: Principal,
    pub csrf: String,
    pub expires_at: i64,
}

/// A finding the overview puts first: open, fixable, KEV-listed or likely exploited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriorityFinding {
    pub asset_name: String,
    pub asset_uuid: String,
    pub row: FindingRow,
}

/// One page of a list that is not counted, and whether more follows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window<T> {
    pub items: Vec<T>,
    pub more: bool,
}

/// One layer of a version and what it brought.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerSummary {
    pub index: i64,
    pub diff_id: Option<String>,
    /// The build step (history `created_by`) that made the layer, when known.
    pub created_by: Option<String>,
    /// `name version` of each package the layer brought, sorted.
    pub packages: Vec<String>,
    /// The layer's open findings (suppressed ones included, marked), most severe first.
    pub findings: Vec<FindingRow>,
    /// Open, unsuppressed findings of the layer.
    pub counts: SeverityCounts,
}

/// What changed from one version of an asset to another.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VersionDiff {
    /// Package purls only in the newer version.
    pub packages_added: Vec<String>,
    pub packages_removed: Vec<String>,
    /// `vuln_id purl` of open findings only in the newer version.
    pub findings_added: Vec<(String, String)>,
    pub findings_removed: Vec<(String, String)>,
}

/// Findings resolved on one day and their mean time from first seen to resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MttrDay {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    pub resolved: i64,
    /// The sum of the resolved findings' times from first seen to resolved (unix ms).
    pub total_ms: i64,
}

impl MttrDay {
    /// The mean time to remediate of the day's resolved findings (`None`: none resolved).
    pub fn mean_ms(&self) -> Option<i64> {
        (self.resolved > 0).then(|| self.total_ms / self.resolved)
    }
}

const DAY_MS: i64 = 86_400_000;

fn random_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| StoreError::Invalid(format!("no randomness for a session: {e}")))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

fn session_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn hash_password(password: &str) -> Result<String> {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut OsRng);
    Ok(argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| StoreError::Password(e.to_string()))?
        .to_string())
}

/// The most events of one kind the overview counts exactly ("100,000+" beyond).
pub const EVENT_COUNT_CAP: i64 = 100_000;

impl Store {
    /// Creates the dashboard's first admin user ([`ADMIN_USER`]) with `password`, or sets the
    /// password (and re-enables the user) when it exists: `BULWARK_ADMIN_PASSWORD` at startup.
    pub fn ensure_admin_user(&self, password: &str) -> Result<i64> {
        if password.chars().count() < 12 {
            return Err(StoreError::Invalid(
                "BULWARK_ADMIN_PASSWORD must be at least 12 characters".into(),
            ));
        }
        let hash = hash_password(password)?;
        let system = Principal::system("startup");
        self.engine.write(|c| {
            let now = now_ms();
            let existing = c
                .query_opt(
                    "SELECT id, password_hash FROM users WHERE name = $1",
                    &params![ADMIN_USER],
                )?
                .map(|r| Ok::<_, StoreError>((r.i64(0)?, r.text(1)?)))
                .transpose()?;
            let id = match existing {
                Some((id, _)) => {
                    c.execute(
                        "UPDATE users SET password_hash = $2, scopes = 'admin', disabled_at = NULL WHERE id = $1",
                        &params![id, hash.as_str()],
                    )?;
                    // A new password ends the sessions opened with the old one.
                    c.execute(
                        "DELETE FROM dashboard_sessions WHERE user_id = $1",
                        &params![id],
                    )?;
                    id
                }
                None => c
                    .query_one(
                        "INSERT INTO users (name, password_hash, scopes, team_id, created_at) \
                         VALUES ($1, $2, 'admin', NULL, $3) RETURNING id",
                        &params![ADMIN_USER, hash.as_str(), now],
                    )?
                    .i64(0)?,
            };
            audit(
                c,
                &system,
                "user.admin_password",
                &format!("user:{id}"),
                &serde_json::json!({ "name": ADMIN_USER }),
            )?;
            Ok(id)
        })
    }

    /// Opens a session for a user that just logged in ([`Store::login`]): returns the session
    /// token (the cookie's value; only its hash is stored) and the session.
    pub fn create_session(&self, user: &Principal, ttl_ms: i64) -> Result<(String, SessionInfo)> {
        let PrincipalKind::User(user_id) = user.kind else {
            return Err(StoreError::Invalid(
                "only local users open dashboard sessions".into(),
            ));
        };
        let token = random_token()?;
        let csrf = random_token()?;
        let principal = serde_json::to_string(user)
            .map_err(|e| StoreError::Invalid(format!("session principal: {e}")))?;
        let now = now_ms();
        let expires_at = now.saturating_add(ttl_ms);
        self.engine.write(|c| {
            // Expired sessions go when new ones come, so the table stays small.
            c.execute(
                "DELETE FROM dashboard_sessions WHERE expires_at < $1",
                &params![now],
            )?;
            c.execute(
                "INSERT INTO dashboard_sessions (token_hash, user_id, principal, csrf, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &params![session_hash(&token), user_id, principal.as_str(), csrf.as_str(), now, expires_at],
            )?;
            audit(
                c,
                user,
                "session.login",
                &format!("user:{user_id}"),
                &serde_json::json!({}),
            )?;
            Ok(())
        })?;
        Ok((
            token,
            SessionInfo {
                principal: user.clone(),
                csrf,
                expires_at,
            },
        ))
    }

    /// The live session of a cookie's token: `None` when unknown, expired, or its user is
    /// disabled or gone.
    pub fn session(&self, token: &str) -> Result<Option<SessionInfo>> {
        let row = self.engine.read(|c| {
            c.query_opt(
                "SELECT s.principal, s.csrf, s.expires_at FROM dashboard_sessions s \
                 JOIN users u ON u.id = s.user_id \
                 WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL",
                &params![session_hash(token), now_ms()],
            )
        })?;
        let Some(r) = row else {
            return Ok(None);
        };
        Ok(Some(SessionInfo {
            principal: r.json(0)?,
            csrf: r.text(1)?,
            expires_at: r.i64(2)?,
        }))
    }

    /// Ends a session (logout).
    pub fn delete_session(&self, token: &str) -> Result<()> {
        self.engine.write(|c| {
            c.execute(
                "DELETE FROM dashboard_sessions WHERE token_hash = $1",
                &params![session_hash(token)],
            )?;
            Ok(())
        })
    }

    /// What to fix first: open, unsuppressed, fixable findings of the assets' latest versions
    /// that are KEV-listed or have an EPSS of at least `min_epss`, KEV first, then by EPSS.
    /// Walks the partial index `findings_fix_first` and stops after the page: no total is
    /// counted (that would visit every matching finding), only whether there is more.
    pub fn fix_first(
        &self,
        who: &Principal,
        min_epss: f64,
        page: Page,
    ) -> Result<Window<PriorityFinding>> {
        who.require(Scope::Read)?;
        self.engine.read(|c| {
            let mut p = vec_params![min_epss];
            let team = team_clause(who, &mut p, "a.team_id");
            let from = format!(
                " FROM findings f JOIN assets a ON a.latest_version_id = f.version_id {TRIAGE_JOIN} \
                 WHERE f.state = 'open' AND f.fixable = 1 AND (f.kev = 1 OR f.epss >= $1) \
                 AND COALESCE(t.suppressed, 0) = 0{team}"
            );
            let lim = bind(&mut p, page.limit() + 1);
            let off = bind(&mut p, page.offset());
            let select = FINDING_SELECT.replacen("SELECT ", "SELECT a.name, a.uuid, ", 1);
            let rows = c.query(
                &format!(
                    "{select}{from} ORDER BY f.kev DESC, f.epss DESC NULLS LAST, f.severity_rank DESC, f.id \
                     LIMIT {lim} OFFSET {off}"
                ),
                &p,
            )?;
            let more = rows.len() as i64 > page.limit();
            let mut items = Vec::with_capacity(rows.len());
            for r in rows.iter().take(usize::try_from(page.limit()).unwrap_or(0)) {
                items.push(PriorityFinding {
                    asset_name: r.text(0)?,
                    asset_uuid: r.text(1)?,
                    row: finding_of(&r.skip(2))?,
                });
            }
            Ok(Window { items, more })
        })
    }

    /// How many events of each of `kinds` happened in `[from, to)` (unix ms) on the
    /// principal's assets, each counted up to [`EVENT_COUNT_CAP`] + 1: a count above the cap
    /// means "more than the cap". Each kind walks its own range of the `(kind, at)` index, so
    /// a day of two million new findings costs what the cap costs, not the two million.
    pub fn event_kinds(
        &self,
        who: &Principal,
        kinds: &[&str],
        from: i64,
        to: i64,
    ) -> Result<BTreeMap<String, i64>> {
        who.require(Scope::Read)?;
        self.engine.read(|c| {
            let mut out = BTreeMap::new();
            for kind in kinds {
                let mut p = vec_params![*kind, from, to];
                let team = team_clause(who, &mut p, "a.team_id");
                let join = if team.is_empty() {
                    ""
                } else {
                    " JOIN assets a ON a.id = e.asset_id"
                };
                let cap = bind(&mut p, EVENT_COUNT_CAP + 1);
                let n = c
                    .query_one(
                        &format!(
                            "SELECT COUNT(*) FROM (SELECT 1 FROM finding_events e{join} \
                             WHERE e.kind = $1 AND e.at >= $2 AND e.at < $3{team} LIMIT {cap}) capped"
                        ),
                        &p,
                    )?
                    .i64(0)?;
                out.insert((*kind).to_string(), n);
            }
            Ok(out)
        })
    }

    /// The open, unsuppressed findings of every visible asset's latest version, summed from
    /// the counts kept on the asset rows (what the portfolio lists).
    pub fn portfolio_totals(&self, who: &Principal) -> Result<SeverityCounts> {
        who.require(Scope::Read)?;
        self.engine.read(|c| {
            let mut p = Vec::new();
            let team = team_clause(who, &mut p, "a.team_id");
            let r = c.query_one(
                &format!(
                    "SELECT CAST(COALESCE(SUM(a.open_critical), 0) AS BIGINT), CAST(COALESCE(SUM(a.open_high), 0) AS BIGINT), \
                     CAST(COALESCE(SUM(a.open_medium), 0) AS BIGINT), CAST(COALESCE(SUM(a.open_low), 0) AS BIGINT), \
                     CAST(COALESCE(SUM(a.open_unknown), 0) AS BIGINT), CAST(COALESCE(SUM(a.open_kev), 0) AS BIGINT), \
                     CAST(COALESCE(SUM(a.open_fixable), 0) AS BIGINT), CAST(COALESCE(SUM(a.open_total), 0) AS BIGINT), COUNT(*) \
                     FROM assets a WHERE 1 = 1{team}"
                ),
                &p,
            )?;
            Ok(SeverityCounts {
                critical: r.i64(0)?,
                high: r.i64(1)?,
                medium: r.i64(2)?,
                low: r.i64(3)?,
                unknown: r.i64(4)?,
                kev: r.i64(5)?,
                fixable: r.i64(6)?,
                total: r.i64(7)?,
            })
        })
    }

    /// Open findings by severity per day in `[from_day, to_day]` (no mean time to remediate:
    /// the sums come from an index alone), summed over the visible
    /// assets (or one asset) in SQL: the trend charts.
    pub fn open_trend(
        &self,
        who: &Principal,
        asset_id: Option<i64>,
        from_day: &str,
        to_day: &str,
    ) -> Result<Vec<Snapshot>> {
        who.require(Scope::Read)?;
        self.engine.read(|c| {
            let mut p = vec_params![from_day, to_day];
            let mut w = String::from(" WHERE s.day >= $1 AND s.day <= $2");
            let team = team_clause(who, &mut p, "a.team_id");
            let join = if team.is_empty() {
                ""
            } else {
                " JOIN assets a ON a.id = s.asset_id"
            };
            w.push_str(&team);
            if let Some(a) = asset_id {
                w.push_str(&format!(" AND s.asset_id = {}", bind(&mut p, a)));
            }
            let rows = c.query(
                &format!(
                    "SELECT s.day, CAST(SUM(s.critical) AS BIGINT), CAST(SUM(s.high) AS BIGINT), CAST(SUM(s.medium) AS BIGINT), \
                     CAST(SUM(s.low) AS BIGINT), CAST(SUM(s.unknown) AS BIGINT), CAST(SUM(s.kev) AS BIGINT), \
                     CAST(SUM(s.fixable) AS BIGINT) \
                     FROM snapshots s{join}{w} GROUP BY s.day ORDER BY s.day"
                ),
                &p,
            )?;
            rows.iter()
                .map(|r| {
                    let counts = SeverityCounts {
                        critical: r.i64(1)?,
                        high: r.i64(2)?,
                        medium: r.i64(3)?,
                        low: r.i64(4)?,
                        unknown: r.i64(5)?,
                        kev: r.i64(6)?,
                        fixable: r.i64(7)?,
                        total: r.i64(1)? + r.i64(2)? + r.i64(3)? + r.i64(4)? + r.i64(5)?,
                    };
                    Ok(Snapshot {
                        asset_id,
                        day: r.text(0)?,
                        counts,
                        mttr_ms: None,
                    })
                })
                .collect()
        })
    }

    /// Findings of the visible assets resolved on each of the `days` UTC days ending with the
    /// day of `now` (oldest first, every day present), with the sum of their times from first
    /// seen to resolved: the overview's mean-time-to-remediate trend. Reads the partial index
    /// `findings_resolved` (migration 0004) alone when the principal sees every team.
    pub fn mttr_by_day(&self, who: &Principal, now: i64, days: i64) -> Result<Vec<MttrDay>> {
        who.require(Scope::Read)?;
        let days = days.clamp(1, 3_660);
        let from = now - now.rem_euclid(DAY_MS) - (days - 1) * DAY_MS;
        let to = from + days * DAY_MS;
        let mut out: Vec<MttrDay> = (0..days)
            .map(|d| MttrDay {
                day: crate::day_of(from + d * DAY_MS),
                ..MttrDay::default()
            })
            .collect();
        self.engine.read(|c| {
            let mut p = vec_params![from, to];
            let team = team_clause(who, &mut p, "a.team_id");
            let join = if team.is_empty() {
                ""
            } else {
                " JOIN assets a ON a.id = f.asset_id"
            };
            for r in c.query(
                &format!(
                    "SELECT (f.resolved_at - $1) / {DAY_MS}, COUNT(*), CAST(SUM(f.resolved_at - f.first_seen) AS BIGINT) \
                     FROM findings f{join} WHERE f.state = 'resolved' AND f.resolved_at >= $1 AND f.resolved_at < $2{team} \
                     GROUP BY 1"
                ),
                &p,
            )? {
                if let Some(day) = usize::try_from(r.i64(0)?).ok().and_then(|d| out.get_mut(d)) {
                    day.resolved = r.i64(1)?;
                    day.total_ms = r.opt_i64(2)?.unwrap_or(0);
                }
            }
            Ok(out)
        })
    }

    /// Open findings per day of each of `asset_ids` since `from_day` (the portfolio's
    /// sparklines), oldest first. Assets the principal may not see are left out.
    pub fn asset_sparklines(
        &self,
        who: &Principal,
        asset_ids: &[i64],
        from_day: &str,
    ) -> Result<HashMap<i64, Vec<(String, i64)>>> {
        who.require(Scope::Read)?;
        let mut out: HashMap<i64, Vec<(String, i64)>> = HashMap::new();
        if asset_ids.is_empty() {
            return Ok(out);
        }
        self.engine.read(|c| {
            for chunk in asset_ids.chunks(500) {
                let mut p = vec_params![from_day];
                let list: Vec<String> = chunk.iter().map(|id| bind(&mut p, *id)).collect();
                let team = team_clause(who, &mut p, "a.team_id");
                let rows = c.query(
                    &format!(
                        "SELECT s.asset_id, s.day, s.critical + s.high + s.medium + s.low + s.unknown \
                         FROM snapshots s JOIN assets a ON a.id = s.asset_id \
                         WHERE s.day >= $1 AND s.asset_id IN ({}){team} ORDER BY s.asset_id, s.day",
                        list.join(", ")
                    ),
                    &p,
                )?;
                for r in rows {
                    out.entry(r.i64(0)?)
                        .or_default()
                        .push((r.text(1)?, r.i64(2)?));
                }
            }
            Ok(out)
        })
    }

    /// The layers of a version, each with the packages it brought (from the stored SBOM's
    /// layer references) and its open findings (by the finding's package layer).
    pub fn version_layers(&self, who: &Principal, version_id: i64) -> Result<Vec<LayerSummary>> {
        who.require(Scope::Read)?;
        self.engine.read(|c| {
            let asset = c
                .query_opt(
                    "SELECT asset_id FROM versions WHERE id = $1",
                    &params![version_id],
                )?
                .ok_or_else(|| StoreError::NotFound(format!("version {version_id}")))?
                .i64(0)?;
            visible_asset(c, who, asset)?;
            let mut layers: BTreeMap<i64, LayerSummary> = BTreeMap::new();
            for r in c.query(
                "SELECT layer_index, name, version, package FROM components WHERE version_id = $1 ORDER BY ordinal",
                &params![version_id],
            )? {
                let index = r.i64(0)?;
                let layer = layers.entry(index).or_insert_with(|| LayerSummary {
                    index,
                    ..LayerSummary::default()
                });
                layer.packages.push(format!("{} {}", r.text(1)?, r.text(2)?));
                if layer.created_by.is_none() || layer.diff_id.is_none() {
                    // Only the layer reference is wanted out of the stored package.
                    #[derive(Deserialize)]
                    struct Only {
                        layer: Option<bulwark_types::LayerRef>,
                    }
                    if let Ok(Only { layer: Some(l) }) = serde_json::from_str::<Only>(&r.text(3)?) {
                        layer.created_by = layer.created_by.take().or(l.created_by);
                        layer.diff_id = layer.diff_id.take().or(l.diff_id.map(|d| d.to_string()));
                    }
                }
            }
            let rows = c.query(
                &format!(
                    "{FINDING_SELECT} FROM findings f {TRIAGE_JOIN} WHERE f.version_id = $1 AND f.state = 'open' \
                     ORDER BY f.severity_rank DESC, f.kev DESC, COALESCE(f.epss, -1) DESC, f.vuln_id, f.purl"
                ),
                &params![version_id],
            )?;
            for r in rows {
                let f = finding_of(&r)?;
                let index = i64::try_from(f.finding.package.layer_index).unwrap_or(i64::MAX);
                let layer = layers.entry(index).or_insert_with(|| LayerSummary {
                    index,
                    ..LayerSummary::default()
                });
                if layer.created_by.is_none() {
                    layer.created_by = f.finding.package.layer_created_by.clone();
                }
                if !f.suppressed {
                    add_count(&mut layer.counts, &f);
                }
                layer.findings.push(f);
            }
            for layer in layers.values_mut() {
                layer.packages.sort();
                layer.packages.dedup();
            }
            Ok(layers.into_values().collect())
        })
    }

    /// What changed from version `older` to version `newer` (both of assets the principal may
    /// see): packages by purl, open findings by vulnerability and purl.
    pub fn version_diff(&self, who: &Principal, older: i64, newer: i64) -> Result<VersionDiff> {
        who.require(Scope::Read)?;
        self.engine.read(|c| {
            let mut packages: [BTreeSet<String>; 2] = Default::default();
            let mut findings: [BTreeSet<(String, String)>; 2] = Default::default();
            for (i, version) in [older, newer].into_iter().enumerate() {
                let asset = c
                    .query_opt(
                        "SELECT asset_id FROM versions WHERE id = $1",
                        &params![version],
                    )?
                    .ok_or_else(|| StoreError::NotFound(format!("version {version}")))?
                    .i64(0)?;
                visible_asset(c, who, asset)?;
                for r in c.query(
                    "SELECT purl FROM components WHERE version_id = $1",
                    &params![version],
                )? {
                    packages[i].insert(r.text(0)?);
                }
                for r in c.query(
                    "SELECT vuln_id, purl FROM findings WHERE version_id = $1 AND state = 'open'",
                    &params![version],
                )? {
                    findings[i].insert((r.text(0)?, r.text(1)?));
                }
            }
            Ok(VersionDiff {
                packages_added: packages[1].difference(&packages[0]).cloned().collect(),
                packages_removed: packages[0].difference(&packages[1]).cloned().collect(),
                findings_added: findings[1].difference(&findings[0]).cloned().collect(),
                findings_removed: findings[0].difference(&findings[1]).cloned().collect(),
            })
        })
    }

    /// Every finding of a vulnerability (by primary id) on the latest versions of the
    /// principal's assets, with the asset's name and triage state, by asset name.
    pub fn vulnerability_findings(
        &self,
        who: &Principal,
        vuln_id: &str,
        page: Page,
    ) -> Result<crate::Paged<PriorityFinding>> {
        who.require(Scope::Read)?;
        self.engine.read(|c| {
            let mut p = vec_params![vuln_id];
            let team = team_clause(who, &mut p, "a.team_id");
            let from = format!(
                " FROM findings f JOIN assets a ON a.latest_version_id = f.version_id {TRIAGE_JOIN} \
                 WHERE f.vuln_id = $1{team}"
            );
            let total = c.query_one(&format!("SELECT COUNT(*){from}"), &p)?.i64(0)?;
            let lim = bind(&mut p, page.limit());
            let off = bind(&mut p, page.offset());
            let select = FINDING_SELECT.replacen("SELECT ", "SELECT a.name, a.uuid, ", 1);
            let rows = c.query(
                &format!("{select}{from} ORDER BY a.name, f.purl LIMIT {lim} OFFSET {off}"),
                &p,
            )?;
            let mut items = Vec::with_capacity(rows.len());
            for r in rows {
                items.push(PriorityFinding {
                    asset_name: r.text(0)?,
                    asset_uuid: r.text(1)?,
                    row: finding_of(&r.skip(2))?,
                });
            }
            Ok(crate::Paged { items, total })
        })
    }
}

fn add_count(counts: &mut SeverityCounts, f: &FindingRow) {
    match crate::ingest::severity_rank(f.severity) {
        4 => counts.critical += 1,
        3 => counts.high += 1,
        2 => counts.medium += 1,
        1 => counts.low += 1,
        _ => counts.unknown += 1,
    }
    if f.kev {
        counts.kev += 1;
    }
    if f.fixable {
        counts.fixable += 1;
    }
    counts.total += 1;
}
