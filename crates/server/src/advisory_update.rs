//! The scheduled advisory update: `bulwark db update` into the server's advisory store every
//! `--db-update-every` hours, so a server left alone keeps matching against current
//! advisories. The rematch poller notices the new store by its fingerprint and rematches.
//!
//! Due times survive restarts (the last attempt is kept in the database's meta table), so a
//! server restarted every hour does not download every hour. A failed update leaves the
//! previous store as it was (`bulwark_vulndb::update` swaps only a complete store) and is
//! retried at the next due time; `/readyz` shows the last error.

use std::time::Duration;

use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

/// Meta keys (milliseconds since the epoch, and the last failure's message).
const LAST_ATTEMPT_KEY: &str = "advisories.update.last_attempt";
const LAST_SUCCESS_KEY: &str = "advisories.update.last_success";
const LAST_ERROR_KEY: &str = "advisories.update.last_error";

/// What the scheduled update last did, for `/readyz`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UpdateStatus {
    pub every_hours: f64,
    /// Milliseconds since the epoch.
    pub last_attempt: Option<i64>,
    pub last_success: Option<i64>,
    /// The last attempt's failure; absent when it succeeded.
    pub last_error: Option<String>,
    pub next_at: i64,
}

fn meta_ms(state: &AppState, key: &str) -> Option<i64> {
    state.store.meta(key).ok().flatten()?.parse().ok()
}

/// The scheduled update's state, when one is configured.
pub fn status(state: &AppState) -> Option<UpdateStatus> {
    let schedule = state.config.advisory_update.as_ref()?;
    let last_attempt = meta_ms(state, LAST_ATTEMPT_KEY);
    Some(UpdateStatus {
        every_hours: schedule.every.as_secs_f64() / 3600.0,
        last_attempt,
        last_success: meta_ms(state, LAST_SUCCESS_KEY),
        last_error: state
            .store
            .meta(LAST_ERROR_KEY)
            .ok()
            .flatten()
            .filter(|e| !e.is_empty()),
        next_at: next_due(last_attempt, schedule.every),
    })
}

fn next_due(last_attempt: Option<i64>, every: Duration) -> i64 {
    match last_attempt {
        Some(at) => at.saturating_add(i64::try_from(every.as_millis()).unwrap_or(i64::MAX)),
        None => 0,
    }
}

/// Runs one update now (under the advisory lock, on a blocking thread) and records it.
async fn update_once(state: &AppState) {
    let Some(schedule) = state.config.advisory_update.clone() else {
        return;
    };
    let _guard = state.advisory_lock.write().await;
    let s = state.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let now = bulwark_store::now_ms().to_string();
        let _ = s.store.set_meta(LAST_ATTEMPT_KEY, &now);
        let result = bulwark_vulndb::update(
            &s.config.advisory_dir(),
            &schedule.options,
            &bulwark_vulndb::NoProgress,
        );
        match &result {
            Ok(_) => {
                let _ = s.store.set_meta(LAST_SUCCESS_KEY, &now);
                let _ = s.store.set_meta(LAST_ERROR_KEY, "");
            }
            Err(e) => {
                let _ = s.store.set_meta(LAST_ERROR_KEY, &e.to_string());
            }
        }
        result
    })
    .await;
    match outcome {
        Ok(Ok(summary)) => {
            let advisories: u64 = summary.sources.iter().map(|x| x.counts.advisories).sum();
            tracing::info!("scheduled advisory update: {advisories} advisories read");
            state.wake.rematch.notify_one();
        }
        Ok(Err(e)) => tracing::warn!(
            "scheduled advisory update failed (the previous advisories stay in use; retried in {:.1} h): {e}",
            schedule.every.as_secs_f64() / 3600.0
        ),
        Err(e) => tracing::warn!("scheduled advisory update failed: {e}"),
    }
}

/// Updates when due (at once when never attempted or overdue), then every `every`.
pub fn spawn_updater(state: AppState) -> Option<tokio::task::JoinHandle<()>> {
    let every = state.config.advisory_update.as_ref()?.every;
    Some(tokio::spawn(async move {
        loop {
            let s = state.clone();
            let last = tokio::task::spawn_blocking(move || meta_ms(&s, LAST_ATTEMPT_KEY))
                .await
                .ok()
                .flatten();
            let wait_ms = next_due(last, every).saturating_sub(bulwark_store::now_ms());
            if wait_ms > 0 {
                tokio::time::sleep(Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0)))
                    .await;
            }
            update_once(&state).await;
        }
    }))
}
