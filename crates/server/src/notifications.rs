//! Finding events → the notification rules they match → deliveries in the store, sent by a
//! background worker with bulwark-notify's retry policy. Ingest only writes delivery rows:
//! a slow or failing receiver never holds up an upload.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bulwark_notify::{
    AssetRef, DeliveryOptions, DeliveryStatus, Event, EventKind, Finding, Notifier, PackageRef,
    RetryPolicy, Rule, RuleConfig,
};
use bulwark_store::{FindingEvent, NotificationRule, Principal};

use crate::error::ApiError;
use crate::state::AppState;

/// Deliveries sent at once (each may wait for its receiver up to notify's timeout).
pub const DELIVERY_CONCURRENCY: usize = 8;
/// A claimed delivery is someone else's again after this (a killed worker's resumes).
const DELIVERY_LEASE: Duration = Duration::from_secs(120);
/// How often the worker looks for due retries when nothing wakes it.
const DELIVERY_POLL: Duration = Duration::from_secs(1);
/// How often the delivery worker looks for events left undispatched (a dispatch that failed;
/// a server killed between a commit and its dispatch is caught when the worker starts).
const UNDISPATCHED_SWEEP: Duration = Duration::from_secs(30);
/// Undispatched events read per batch.
const UNDISPATCHED_BATCH: usize = 500;

/// A stored rule as the notify crate reads it.
pub fn rule_of(stored: &NotificationRule) -> Result<Rule, String> {
    let mut config: RuleConfig = serde_json::from_value(stored.config.clone())
        .map_err(|e| format!("rule {}: {e}", stored.id))?;
    config.id = Some(stored.id.to_string());
    config.name = Some(stored.name.clone());
    config.enabled = Some(stored.enabled);
    config.validate().map_err(|e| e.to_string())
}

/// The notify event of a stored finding event.
pub fn event_of(state: &AppState, e: &FindingEvent, teams: &BTreeMap<i64, String>) -> Event {
    let kind = match e.kind {
        bulwark_store::EventKind::New => EventKind::NewFinding,
        bulwark_store::EventKind::Changed => EventKind::ChangedFinding,
        bulwark_store::EventKind::Resolved => EventKind::ResolvedFinding,
    };
    let system = Principal::system("notify");
    let row = state.store.finding(&system, e.finding_id).ok().flatten();
    let fixed_versions = row
        .as_ref()
        .map(|r| r.fixed_versions.clone())
        .unwrap_or_default();
    let cvss = row.as_ref().and_then(|r| r.cvss_score).map(|s| s as f32);
    let version = state.store.version(&system, e.version_id).ok().flatten();
    let changed = match &e.detail {
        serde_json::Value::Object(map) => map.keys().cloned().collect(),
        _ => Vec::new(),
    };
    Event {
        kind,
        time: time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(e.at) * 1_000_000)
            .unwrap_or_else(|_| time::OffsetDateTime::now_utc()),
        finding: Finding {
            vulnerability_id: e.vuln_id.clone(),
            aliases: e.aliases.clone(),
            severity: e.severity,
            cvss,
            epss: e.epss,
            kev: e.kev,
            fixed_versions,
        },
        package: PackageRef {
            name: e.package_name.clone(),
            version: e.package_version.clone(),
            purl: Some(e.purl.clone()),
        },
        asset: AssetRef {
            name: e.asset_name.clone(),
            version: version.as_ref().and_then(|v| v.label.clone()),
            digest: version.map(|v| v.version_key),
            team: e.team_id.and_then(|t| teams.get(&t).cloned()),
            owner: None,
        },
        dashboard_url: state.config.dashboard_url.clone(),
        changed,
    }
}

/// Records a delivery for every enabled rule each event matches, and wakes the worker.
/// Errors are logged: an upload that stored its findings is not failed by its notifications.
pub fn dispatch(state: &AppState, events: &[FindingEvent]) {
    if events.is_empty() {
        return;
    }
    for e in events {
        state
            .metrics
            .finding_events
            .get_or_create(&crate::metrics::KindLabels {
                kind: e.kind.as_str().to_string(),
            })
            .inc();
    }
    let recorded = dispatch_inner(state, events).and_then(|()| {
        let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
        Ok(state.store.mark_events_dispatched(&ids)?)
    });
    if let Err(e) = recorded {
        tracing::error!(
            "notifications for {} events not recorded yet (retried within {} s): {e}",
            events.len(),
            UNDISPATCHED_SWEEP.as_secs()
        );
    }
    state.wake.deliveries.notify_one();
}

/// Dispatches the events an earlier dispatch left behind (it failed, or the server was killed
/// between an ingest's commit and its dispatch): the outbox that makes a `kill -9` lose no
/// notification. Enqueueing is idempotent per rule and event, so an event dispatched twice
/// (by this sweep and its own ingest at once) is delivered once. Returns how many events.
pub fn dispatch_undispatched(state: &AppState) -> Result<usize, ApiError> {
    let mut total = 0;
    loop {
        let events = state.store.undispatched_events(UNDISPATCHED_BATCH)?;
        if events.is_empty() {
            return Ok(total);
        }
        dispatch_inner(state, &events)?;
        let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
        state.store.mark_events_dispatched(&ids)?;
        total += events.len();
        state.wake.deliveries.notify_one();
    }
}

fn dispatch_inner(state: &AppState, events: &[FindingEvent]) -> Result<(), ApiError> {
    let system = Principal::system("notify");
    let rules: Vec<(i64, Rule)> = state
        .store
        .rules(&system)?
        .iter()
        .filter(|r| r.enabled)
        .filter_map(|r| match rule_of(r) {
            Ok(rule) => Some((r.id, rule)),
            Err(e) => {
                tracing::warn!("notification rule skipped: {e}");
                None
            }
        })
        .collect();
    if rules.is_empty() {
        return Ok(());
    }
    let teams: BTreeMap<i64, String> = state
        .store
        .list_teams(&system)?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    for e in events {
        let event = event_of(state, e, &teams);
        for (id, rule) in &rules {
            if rule.matches(&event) {
                let payload = serde_json::to_value(&event).map_err(ApiError::internal)?;
                state.store.enqueue_delivery(*id, Some(e.id), &payload)?;
            }
        }
    }
    Ok(())
}

/// The delivery worker: claims due deliveries, sends up to [`DELIVERY_CONCURRENCY`] at once,
/// records each attempt and schedules retries.
pub fn spawn_worker(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let notifier = match Notifier::new(DeliveryOptions::default()) {
            Ok(n) => Arc::new(n),
            Err(e) => {
                tracing::error!("notifications are off: {e}");
                return;
            }
        };
        let policy = RetryPolicy::default();
        let slots = Arc::new(tokio::sync::Semaphore::new(DELIVERY_CONCURRENCY));
        // Due at once: what a killed server left undispatched is sent when it starts again.
        let mut next_sweep = tokio::time::Instant::now();
        loop {
            if tokio::time::Instant::now() >= next_sweep {
                next_sweep = tokio::time::Instant::now() + UNDISPATCHED_SWEEP;
                let swept = {
                    let state = state.clone();
                    tokio::task::spawn_blocking(move || dispatch_undispatched(&state)).await
                };
                match swept {
                    Ok(Ok(0)) => {}
                    Ok(Ok(n)) => tracing::info!("dispatched {n} events left undispatched"),
                    Ok(Err(e)) => tracing::warn!("cannot dispatch undispatched events: {e}"),
                    Err(e) => tracing::warn!("cannot dispatch undispatched events: {e}"),
                }
            }
            let free = slots.available_permits();
            if free > 0 {
                let store = state.store.clone();
                let claimed = tokio::task::spawn_blocking(move || {
                    store.claim_deliveries(free, DELIVERY_LEASE)
                })
                .await;
                match claimed {
                    Ok(Ok(deliveries)) => {
                        for delivery in deliveries {
                            let Ok(permit) = slots.clone().acquire_owned().await else {
                                return;
                            };
                            let state = state.clone();
                            let notifier = notifier.clone();
                            tokio::task::spawn_blocking(move || {
                                send_one(&state, &notifier, &policy, delivery);
                                drop(permit);
                                // A free slot claims the next due delivery now rather than at
                                // the next poll.
                                state.wake.deliveries.notify_one();
                            });
                        }
                    }
                    Ok(Err(e)) => tracing::warn!("cannot claim deliveries: {e}"),
                    Err(e) => tracing::warn!("cannot claim deliveries: {e}"),
                }
            }
            tokio::select! {
                _ = state.wake.deliveries.notified() => {}
                _ = tokio::time::sleep(DELIVERY_POLL) => {}
            }
        }
    })
}

fn send_one(
    state: &AppState,
    notifier: &Notifier,
    policy: &RetryPolicy,
    delivery: bulwark_store::Delivery,
) {
    let system = Principal::system("notify");
    let rule = state
        .store
        .rules(&system)
        .ok()
        .and_then(|rules| rules.into_iter().find(|r| r.id == delivery.rule_id))
        .ok_or_else(|| format!("rule {} no longer exists", delivery.rule_id))
        .and_then(|r| rule_of(&r));
    let event = serde_json::from_value::<Event>(delivery.payload.clone())
        .map_err(|e| format!("stored event unreadable: {e}"));
    let (rule, event) = match (rule, event) {
        (Ok(rule), Ok(event)) => (rule, event),
        (Err(e), _) | (_, Err(e)) => {
            let _ = state
                .store
                .record_delivery_attempt(delivery.id, Err((None, e)), None);
            count(state, "failed");
            return;
        }
    };
    let result = notifier.deliver(&rule.publisher, &event, &delivery.id.to_string());
    let status = result.http_status.map(i64::from);
    let attempts = u32::try_from(delivery.attempts + 1).unwrap_or(u32::MAX);
    let outcome = match result.status {
        DeliveryStatus::Delivered => {
            count(state, "delivered");
            Ok(status)
        }
        _ => {
            count(
                state,
                match result.status {
                    DeliveryStatus::Retry { .. } => "retry",
                    _ => "failed",
                },
            );
            Err((
                status,
                result
                    .error
                    .clone()
                    .unwrap_or_else(|| "delivery failed".to_string()),
            ))
        }
    };
    let retry_at = policy.schedule(attempts, &result).map(|wait| {
        bulwark_store::now_ms() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 4)
    });
    if let Err(e) = state
        .store
        .record_delivery_attempt(delivery.id, outcome, retry_at)
    {
        tracing::warn!("delivery {} not recorded: {e}", delivery.id);
    }
}

fn count(state: &AppState, outcome: &str) {
    state
        .metrics
        .deliveries
        .get_or_create(&crate::metrics::OutcomeLabels {
            outcome: outcome.to_string(),
        })
        .inc();
}

/// Stores the config file's rules (`server.notifications`) under names `config: <name>`, so
/// deliveries can name them; rules already stored under that name are replaced.
pub fn sync_file_rules(state: &AppState) -> Result<(), ApiError> {
    let system = Principal::system("config");
    for rule in state.file_rules.iter() {
        let config = serde_json::to_value(rule.to_config()).map_err(ApiError::internal)?;
        state.store.put_rule(
            &system,
            &format!("config: {}", rule.name),
            rule.team.as_deref(),
            &config,
            rule.enabled,
        )?;
    }
    Ok(())
}

/// Reads `server.notifications` from a bulwark.yaml (other keys are the scan settings').
pub fn rules_from_file(path: &std::path::Path) -> Result<Vec<Rule>, String> {
    #[derive(serde::Deserialize)]
    struct File {
        #[serde(default)]
        server: Option<ServerSection>,
    }
    #[derive(serde::Deserialize)]
    struct ServerSection {
        #[serde(default)]
        notifications: Option<serde_json::Value>,
    }
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the config file {shown}: {e}"))?;
    let file: File = serde_saphyr::from_str(&text).map_err(|e| format!("{shown}: {e}"))?;
    let Some(rules) = file.server.and_then(|s| s.notifications) else {
        return Ok(Vec::new());
    };
    let json = serde_json::to_string(&rules).map_err(|e| e.to_string())?;
    bulwark_notify::parse_rules(&json, &format!("{shown}: server.notifications"))
        .map_err(|e| e.to_string())
}
