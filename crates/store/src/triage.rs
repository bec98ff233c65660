//! Triage decisions, kept per asset + vulnerability + package purl so a later digest of the
//! same repository inherits them, with Dependency-Track's states, justifications and
//! responses, an audit trail per change, and the statements a VEX writer needs.

use serde::{Deserialize, Serialize};

use crate::auth::audit;
use crate::driver::{params, Conn, Row};
use crate::{now_ms, Principal, Result, Scope, Store, StoreError};

/// Dependency-Track's analysis states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TriageState {
    NotSet,
    Exploitable,
    InTriage,
    Resolved,
    FalsePositive,
    NotAffected,
}

impl TriageState {
    /// Every state.
    pub const ALL: [TriageState; 6] = [
        TriageState::NotSet,
        TriageState::Exploitable,
        TriageState::InTriage,
        TriageState::Resolved,
        TriageState::FalsePositive,
        TriageState::NotAffected,
    ];

    /// The Dependency-Track name (`NOT_AFFECTED`).
    pub fn as_str(self) -> &'static str {
        match self {
            TriageState::NotSet => "NOT_SET",
            TriageState::Exploitable => "EXPLOITABLE",
            TriageState::InTriage => "IN_TRIAGE",
            TriageState::Resolved => "RESOLVED",
            TriageState::FalsePositive => "FALSE_POSITIVE",
            TriageState::NotAffected => "NOT_AFFECTED",
        }
    }

    /// Parses a Dependency-Track name (case-insensitive, `-` or `_`).
    pub fn parse(s: &str) -> Result<TriageState> {
        let norm = s.trim().to_ascii_uppercase().replace('-', "_");
        TriageState::ALL
            .into_iter()
            .find(|t| t.as_str() == norm)
            .ok_or_else(|| {
                StoreError::Invalid(format!(
                    "unknown triage state {s:?}; expected one of NOT_SET, EXPLOITABLE, IN_TRIAGE, RESOLVED, FALSE_POSITIVE, NOT_AFFECTED"
                ))
            })
    }
}

/// Dependency-Track's justifications (for `NOT_AFFECTED`).
pub const JUSTIFICATIONS: &[&str] = &[
    "NOT_SET",
    "CODE_NOT_PRESENT",
    "CODE_NOT_REACHABLE",
    "REQUIRES_CONFIGURATION",
    "REQUIRES_DEPENDENCY",
    "REQUIRES_ENVIRONMENT",
    "PROTECTED_BY_COMPILER",
    "PROTECTED_AT_RUNTIME",
    "PROTECTED_AT_PERIMETER",
    "PROTECTED_BY_MITIGATING_CONTROL",
];

/// Dependency-Track's vendor responses.
pub const RESPONSES: &[&str] = &[
    "NOT_SET",
    "CAN_NOT_FIX",
    "WILL_NOT_FIX",
    "UPDATE",
    "ROLLBACK",
    "WORKAROUND_AVAILABLE",
];

/// A triage decision to record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriageInput {
    pub state: TriageState,
    /// One of [`JUSTIFICATIONS`].
    pub justification: Option<String>,
    /// One of [`RESPONSES`].
    pub response: Option<String>,
    pub comment: Option<String>,
    /// Hidden from finding lists and counts (Dependency-Track's `isSuppressed`).
    pub suppressed: bool,
}

/// The current decision for one asset + vulnerability + purl.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriageEntry {
    pub id: i64,
    pub asset_id: i64,
    pub vuln_id: String,
    pub purl: String,
    pub state: TriageState,
    pub justification: Option<String>,
    pub response: Option<String>,
    pub comment: Option<String>,
    pub suppressed: bool,
    pub updated_by: String,
    pub updated_at: i64,
}

/// One change in a triage decision's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TriageHistoryEntry {
    pub state: TriageState,
    pub justification: Option<String>,
    pub response: Option<String>,
    pub comment: Option<String>,
    pub suppressed: bool,
    pub actor: String,
    pub at: i64,
}

/// What a VEX document states for one vulnerability in one package of an asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VexStatement {
    pub vuln_id: String,
    pub purl: String,
    pub state: TriageState,
    pub justification: Option<String>,
    pub response: Option<String>,
    pub comment: Option<String>,
    pub updated_at: i64,
}

const TRIAGE_COLUMNS: &str = "id, asset_id, vuln_id, purl, state, justification, response, comment, suppressed, updated_by, updated_at";

fn triage_of(r: &Row) -> Result<TriageEntry> {
    Ok(TriageEntry {
        id: r.i64(0)?,
        asset_id: r.i64(1)?,
        vuln_id: r.text(2)?,
        purl: r.text(3)?,
        state: TriageState::parse(&r.text(4)?)?,
        justification: r.opt_text(5)?,
        response: r.opt_text(6)?,
        comment: r.opt_text(7)?,
        suppressed: r.bool(8)?,
        updated_by: r.text(9)?,
        updated_at: r.i64(10)?,
    })
}

fn check_choice(what: &str, value: Option<&str>, allowed: &[&str]) -> Result<Option<String>> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let norm = v.to_ascii_uppercase().replace('-', "_");
    if allowed.contains(&norm.as_str()) {
        Ok(Some(norm))
    } else {
        Err(StoreError::Invalid(format!(
            "unknown {what} {v:?}; expected one of {}",
            allowed.join(", ")
        )))
    }
}

/// The asset's team, checking the principal may see it.
pub(crate) fn visible_asset(c: &mut dyn Conn, who: &Principal, asset_id: i64) -> Result<()> {
    let team = c
        .query_opt(
            "SELECT team_id FROM assets WHERE id = $1",
            &params![asset_id],
        )?
        .ok_or_else(|| StoreError::NotFound(format!("asset {asset_id}")))?
        .opt_i64(0)?;
    if who.sees_team(team) {
        Ok(())
    } else {
        Err(StoreError::NotFound(format!("asset {asset_id}")))
    }
}

impl Store {
    /// Records a triage decision (triage scope) for `vuln_id` in package `purl` of an asset,
    /// inherited by every version of the asset, with an audit-trail row.
    pub fn set_triage(
        &self,
        who: &Principal,
        asset_id: i64,
        vuln_id: &str,
        purl: &str,
        input: &TriageInput,
    ) -> Result<TriageEntry> {
        who.require(Scope::Triage)?;
        if vuln_id.trim().is_empty() || purl.trim().is_empty() {
            return Err(StoreError::Invalid(
                "triage needs a vulnerability id and a package purl".into(),
            ));
        }
        let justification = check_choice(
            "justification",
            input.justification.as_deref(),
            JUSTIFICATIONS,
        )?;
        let response = check_choice("response", input.response.as_deref(), RESPONSES)?;
        self.engine.write(|c| {
            visible_asset(c, who, asset_id)?;
            let now = now_ms();
            let actor = who.actor();
            let row = c.query_one(
                &format!(
                    "INSERT INTO triage (asset_id, vuln_id, purl, state, justification, response, comment, suppressed, updated_by, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                     ON CONFLICT (asset_id, vuln_id, purl) DO UPDATE SET state = excluded.state, \
                     justification = excluded.justification, response = excluded.response, comment = excluded.comment, \
                     suppressed = excluded.suppressed, updated_by = excluded.updated_by, updated_at = excluded.updated_at \
                     RETURNING {TRIAGE_COLUMNS}"
                ),
                &params![
                    asset_id,
                    vuln_id,
                    purl,
                    input.state.as_str(),
                    justification.as_deref(),
                    response.as_deref(),
                    input.comment.as_deref(),
                    input.suppressed,
                    actor.as_str(),
                    now
                ],
            )?;
            let entry = triage_of(&row)?;
            // A suppression changes what the portfolio counts.
            crate::counts::refresh_asset_counts(c, asset_id)?;
            c.execute(
                "INSERT INTO triage_history (triage_id, state, justification, response, comment, suppressed, actor, at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &params![
                    entry.id,
                    input.state.as_str(),
                    justification.as_deref(),
                    response.as_deref(),
                    input.comment.as_deref(),
                    input.suppressed,
                    actor.as_str(),
                    now
                ],
            )?;
            audit(
                c,
                who,
                "triage.set",
                &format!("asset:{asset_id}"),
                &serde_json::json!({ "vuln_id": vuln_id, "purl": purl, "state": input.state }),
            )?;
            Ok(entry)
        })
    }

    /// The decision for one asset + vulnerability + purl, if any.
    pub fn triage(
        &self,
        who: &Principal,
        asset_id: i64,
        vuln_id: &str,
        purl: &str,
    ) -> Result<Option<TriageEntry>> {
        who.require(Scope::Read)?;
        self.engine.read(|c| {
            visible_asset(c, who, asset_id)?;
            c.query_opt(
                &format!("SELECT {TRIAGE_COLUMNS} FROM triage WHERE asset_id = $1 AND vuln_id = $2 AND purl = $3"),
                &params![asset_id, vuln_id, purl],
            )?
            .map(|r| triage_of(&r))
            .transpose()
        })
    }

    /// Every decision change for one asset + vulnerability + purl, oldest first.
    pub fn triage_history(
        &self,
        who: &Principal,
        asset_id: i64,
        vuln_id: &str,
        purl: &str,
    ) -> Result<Vec<TriageHistoryEntry>> {
        who.require(Scope::Read)?;
        self.engine.read(|c| {
            visible_asset(c, who, asset_id)?;
            c.query(
                "SELECT h.state, h.justification, h.response, h.comment, h.suppressed, h.actor, h.at \
                 FROM triage_history h JOIN triage t ON t.id = h.triage_id \
                 WHERE t.asset_id = $1 AND t.vuln_id = $2 AND t.purl = $3 ORDER BY h.id",
                &params![asset_id, vuln_id, purl],
            )?
            .iter()
            .map(|r| {
                Ok(TriageHistoryEntry {
                    state: TriageState::parse(&r.text(0)?)?,
                    justification: r.opt_text(1)?,
                    response: r.opt_text(2)?,
                    comment: r.opt_text(3)?,
                    suppressed: r.bool(4)?,
                    actor: r.text(5)?,
                    at: r.i64(6)?,
                })
            })
            .collect()
        })
    }

    /// The asset's triage decisions (other than `NOT_SET`) as VEX statements, by
    /// vulnerability then purl.
    pub fn vex_statements(&self, who: &Principal, asset_id: i64) -> Result<Vec<VexStatement>> {
        who.require(Scope::Read)?;
        self.engine.read(|c| {
            visible_asset(c, who, asset_id)?;
            c.query(
                &format!(
                    "SELECT {TRIAGE_COLUMNS} FROM triage WHERE asset_id = $1 AND state <> 'NOT_SET' ORDER BY vuln_id, purl"
                ),
                &params![asset_id],
            )?
            .iter()
            .map(|r| {
                let t = triage_of(r)?;
                Ok(VexStatement {
                    vuln_id: t.vuln_id,
                    purl: t.purl,
                    state: t.state,
                    justification: t.justification,
                    response: t.response,
                    comment: t.comment,
                    updated_at: t.updated_at,
                })
            })
            .collect()
        })
    }
}
