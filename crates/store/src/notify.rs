//! Notification rules and the delivery log. The notify crate decides what to send and how;
//! the store keeps rules, queues deliveries (one per rule and event), leases due ones to a
//! sender so two workers never send the same one at once, and records each attempt.

use serde::{Deserialize, Serialize};

use crate::auth::{audit, ensure_team};
use crate::counts::bind;
use crate::driver::{params, vec_params, Row};
use crate::ingest::FindingEvent;
use crate::reads::{event_of, EVENT_SELECT};
use crate::{now_ms, Page, Paged, Principal, Result, Scope, Store, StoreError};

/// A notification rule: `config` is the notify crate's JSON (publisher, filters, secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotificationRule {
    pub id: i64,
    pub name: String,
    /// Only events of this team's assets (None: every team).
    pub team_id: Option<i64>,
    pub config: serde_json::Value,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Not yet sent, or to be retried at `next_attempt_at`.
    Pending,
    Delivered,
    /// Given up.
    Failed,
}

impl DeliveryState {
    /// The state's name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<DeliveryState> {
        match s {
            "pending" => Some(DeliveryState::Pending),
            "delivered" => Some(DeliveryState::Delivered),
            "failed" => Some(DeliveryState::Failed),
            _ => None,
        }
    }
}

/// One message to one rule's publisher, with its attempts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: i64,
    pub rule_id: i64,
    /// The finding event it reports (None for a test message).
    pub event_id: Option<i64>,
    pub payload: serde_json::Value,
    pub state: DeliveryState,
    pub attempts: i64,
    pub next_attempt_at: i64,
    /// The last HTTP status (or SMTP reply code).
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const RULE_COLUMNS: &str = "id, name, team_id, config, enabled, created_at, updated_at";
const DELIVERY_COLUMNS: &str = "id, rule_id, event_id, payload, state, attempts, next_attempt_at, last_status, last_error, created_at, updated_at";

fn rule_of(r: &Row) -> Result<NotificationRule> {
    Ok(NotificationRule {
        id: r.i64(0)?,
        name: r.text(1)?,
        team_id: r.opt_i64(2)?,
        config: r.json(3)?,
        enabled: r.bool(4)?,
        created_at: r.i64(5)?,
        updated_at: r.i64(6)?,
    })
}

fn delivery_of(r: &Row) -> Result<Delivery> {
    let state = r.text(4)?;
    Ok(Delivery {
        id: r.i64(0)?,
        rule_id: r.i64(1)?,
        event_id: r.opt_i64(2)?,
        payload: r.json(3)?,
        state: DeliveryState::parse(&state).ok_or_else(|| StoreError::Corrupt {
            backend: "store",
            target: String::new(),
            what: format!("delivery state {state:?}"),
        })?,
        attempts: r.i64(5)?,
        next_attempt_at: r.i64(6)?,
        last_status: r.opt_i64(7)?,
        last_error: r.opt_text(8)?,
        created_at: r.i64(9)?,
        updated_at: r.i64(10)?,
    })
}

/// Event ids marked per statement (well under both backends' parameter limits).
const MARK_CHUNK: usize = 1_000;

impl Store {
    /// Creates or replaces (by name) a rule (admin; a team-limited admin only for its team).
    pub fn put_rule(
        &self,
        who: &Principal,
        name: &str,
        team: Option<&str>,
        config: &serde_json::Value,
        enabled: bool,
    ) -> Result<NotificationRule> {
        who.require(Scope::Admin)?;
        if name.trim().is_empty() {
            return Err(StoreError::Invalid("a rule needs a name".into()));
        }
        self.engine.write(|c| {
            let team_id = team.map(|t| ensure_team(c, t)).transpose()?;
            if who.team_id().is_some() && team_id != who.team_id() {
                return Err(StoreError::Forbidden(format!(
                    "{} may only set rules for its own team",
                    who.actor()
                )));
            }
            if let Some(r) = c.query_opt("SELECT team_id FROM notification_rules WHERE name = $1", &params![name])? {
                if !who.sees_team(r.opt_i64(0)?) {
                    return Err(StoreError::Forbidden(format!("rule {name:?} belongs to another team")));
                }
            }
            let now = now_ms();
            let row = c.query_one(
                &format!(
                    "INSERT INTO notification_rules (name, team_id, config, enabled, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5) \
                     ON CONFLICT (name) DO UPDATE SET team_id = excluded.team_id, config = excluded.config, enabled = excluded.enabled, \
                     updated_at = excluded.updated_at RETURNING {RULE_COLUMNS}"
                ),
                &params![name, team_id, config.to_string(), enabled, now],
            )?;
            let rule = rule_of(&row)?;
            audit(c, who, "rule.put", &format!("rule:{}", rule.id), &serde_json::json!({ "name": name, "enabled": enabled }))?;
            Ok(rule)
        })
    }

    /// Deletes a rule and its delivery log.
    pub fn delete_rule(&self, who: &Principal, id: i64) -> Result<()> {
        who.require(Scope::Admin)?;
        self.engine.write(|c| {
            let team = c
                .query_opt(
                    "SELECT team_id FROM notification_rules WHERE id = $1",
                    &params![id],
                )?
                .ok_or_else(|| StoreError::NotFound(format!("rule {id}")))?
                .opt_i64(0)?;
            if !who.sees_team(team) {
                return Err(StoreError::NotFound(format!("rule {id}")));
            }
            c.execute("DELETE FROM notification_rules WHERE id = $1", &params![id])?;
            audit(
                c,
                who,
                "rule.delete",
                &format!("rule:{id}"),
                &serde_json::json!({}),
            )
        })
    }

    /// The rules a principal may see, by name. The server's own sender passes
    /// [`Principal::system`] to get all of them.
    pub fn rules(&self, who: &Principal) -> Result<Vec<NotificationRule>> {
        who.require(Scope::Read)?;
        self.engine.read(|c| {
            let mut out = Vec::new();
            for r in c.query(
                &format!("SELECT {RULE_COLUMNS} FROM notification_rules ORDER BY name"),
                &[],
            )? {
                let rule = rule_of(&r)?;
                if who.sees_team(rule.team_id) {
                    out.push(rule);
                }
            }
            Ok(out)
        })
    }

    /// Queues a delivery for `rule_id` (once per rule and event: a second call for the same
    /// pair returns `None`). Due at once.
    pub fn enqueue_delivery(
        &self,
        rule_id: i64,
        event_id: Option<i64>,
        payload: &serde_json::Value,
    ) -> Result<Option<i64>> {
        self.engine.write(|c| {
            let now = now_ms();
            c.query_opt(
                "INSERT INTO deliveries (rule_id, event_id, payload, state, attempts, next_attempt_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'pending', 0, $4, $4, $4) ON CONFLICT (rule_id, event_id) DO NOTHING RETURNING id",
                &params![rule_id, event_id, payload.to_string(), now],
            )?
            .map(|r| r.i64(0))
            .transpose()
        })
    }

    /// Events whose notifications were never dispatched, oldest first, at most `limit`: those
    /// of an ingest or rematch whose server stopped (or failed to record deliveries) between
    /// its commit and its dispatch.
    pub fn undispatched_events(&self, limit: usize) -> Result<Vec<FindingEvent>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.engine.read(|c| {
            c.query(
                &format!("{EVENT_SELECT} WHERE e.dispatched_at IS NULL ORDER BY e.id LIMIT $1"),
                &params![limit],
            )?
            .iter()
            .map(event_of)
            .collect()
        })
    }

    /// Records that these events' deliveries were enqueued (for every rule they matched, or
    /// none), so they are not dispatched again.
    pub fn mark_events_dispatched(&self, ids: &[i64]) -> Result<()> {
        let now = now_ms();
        for chunk in ids.chunks(MARK_CHUNK) {
            self.engine.write(|c| {
                let mut p = vec_params![now];
                let list: Vec<String> = chunk.iter().map(|&id| bind(&mut p, id)).collect();
                c.execute(
                    &format!(
                        "UPDATE finding_events SET dispatched_at = $1 WHERE id IN ({}) AND dispatched_at IS NULL",
                        list.join(", ")
                    ),
                    &p,
                )?;
                Ok(())
            })?;
        }
        Ok(())
    }

    /// Takes up to `limit` due pending deliveries and pushes their next attempt `lease` ahead,
    /// so another sender does not take them meanwhile. Oldest first.
    pub fn claim_deliveries(
        &self,
        limit: usize,
        lease: std::time::Duration,
    ) -> Result<Vec<Delivery>> {
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2);
        self.engine.write(|c| {
            let now = now_ms();
            let lock = if c.backend() == crate::Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
            let rows = c.query(
                &format!(
                    "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE state = 'pending' AND next_attempt_at <= $1 \
                     ORDER BY next_attempt_at, id LIMIT $2{lock}"
                ),
                &params![now, i64::try_from(limit).unwrap_or(i64::MAX)],
            )?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let mut d = delivery_of(&r)?;
                d.next_attempt_at = now.saturating_add(lease_ms);
                c.execute(
                    "UPDATE deliveries SET next_attempt_at = $2, updated_at = $3 WHERE id = $1",
                    &params![d.id, d.next_attempt_at, now],
                )?;
                out.push(d);
            }
            Ok(out)
        })
    }

    /// Records one attempt: `Ok(status)` delivered; `Err((status, error))` failed, retried at
    /// `retry_at` when given, else given up.
    pub fn record_delivery_attempt(
        &self,
        id: i64,
        outcome: std::result::Result<Option<i64>, (Option<i64>, String)>,
        retry_at: Option<i64>,
    ) -> Result<()> {
        self.engine.write(|c| {
            let now = now_ms();
            match outcome {
                Ok(status) => c.execute(
                    "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, last_status = $2, last_error = NULL, updated_at = $3 WHERE id = $1",
                    &params![id, status, now],
                )?,
                Err((status, error)) => c.execute(
                    "UPDATE deliveries SET state = $2, attempts = attempts + 1, last_status = $3, last_error = $4, \
                     next_attempt_at = $5, updated_at = $6 WHERE id = $1",
                    &params![
                        id,
                        if retry_at.is_some() { "pending" } else { "failed" },
                        status,
                        error,
                        retry_at.unwrap_or(now),
                        now
                    ],
                )?,
            };
            Ok(())
        })
    }

    /// The delivery log, newest first, optionally of one rule, limited to the principal's
    /// teams' rules.
    pub fn deliveries(
        &self,
        who: &Principal,
        rule_id: Option<i64>,
        page: Page,
    ) -> Result<Paged<Delivery>> {
        who.require(Scope::Read)?;
        self.engine.read(|c| {
            let mut filter = String::from(" WHERE 1 = 1");
            let mut p = Vec::new();
            if let Some(r) = rule_id {
                p.push(r.into());
                filter.push_str(&format!(" AND d.rule_id = ${}", p.len()));
            }
            if let Some(t) = who.team_id() {
                p.push(t.into());
                filter.push_str(&format!(" AND r.team_id = ${}", p.len()));
            }
            let from = " FROM deliveries d JOIN notification_rules r ON r.id = d.rule_id";
            let total = c
                .query_one(&format!("SELECT COUNT(*){from}{filter}"), &p)?
                .i64(0)?;
            let n = p.len();
            p.extend(params![page.limit(), page.offset()]);
            let cols: Vec<String> = DELIVERY_COLUMNS
                .split(", ")
                .map(|c| format!("d.{c}"))
                .collect();
            let rows = c.query(
                &format!(
                    "SELECT {}{from}{filter} ORDER BY d.id DESC LIMIT ${} OFFSET ${}",
                    cols.join(", "),
                    n + 1,
                    n + 2
                ),
                &p,
            )?;
            Ok(Paged {
                items: rows.iter().map(delivery_of).collect::<Result<_>>()?,
                total,
            })
        })
    }
}
