//! Rematch: when the advisory store changes (a `db update`, a `db import --db-dir`, an API
//! import), diff it against the one last matched, look the changed packages up in the reverse
//! index, and re-evaluate only those stored components. A full rematch walks every version.
//!
//! The store last matched is kept as a hard link in `<data-dir>/advisories.previous` (the
//! vulndb builder renames a new file into place, so the old inode stays readable); the
//! fingerprint it had is in the database's meta table. Both move only after the rematch is
//! recorded, so a server killed mid-rematch redoes it on restart.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use bulwark_store::{FindingEvent, Principal, StoredComponent};

use crate::error::ApiError;
use crate::state::AppState;

/// The meta key of the fingerprint of the advisory store last rematched.
pub const FINGERPRINT_KEY: &str = "advisories.fingerprint";
/// Versions per batch of a full rematch.
const FULL_BATCH: usize = 200;
/// Versions whose rematch results are written in one transaction: one commit per this many
/// versions instead of one each (a full rematch of 10,000 SBOMs spent most of its time in
/// per-version commits), while an ingest waits at most one batch for the write lock.
const VERSIONS_PER_WRITE: usize = 50;

/// What one rematch did.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub struct RematchSummary {
    /// `incremental` or `full`.
    pub kind: String,
    pub components: usize,
    pub versions: usize,
    pub events: usize,
    pub millis: u64,
}

fn fingerprint(dir: &Path) -> Result<Option<String>, ApiError> {
    match bulwark_vulndb::Store::open(dir) {
        Ok(store) => store
            .fingerprint()
            .map(Some)
            .map_err(|e| ApiError::internal(format!("advisory store fingerprint: {e}"))),
        Err(bulwark_vulndb::Error::NotFound(_)) => Ok(None),
        Err(e) => Err(ApiError::internal(format!("advisory store: {e}"))),
    }
}

/// Links (or copies) the store file of `from` into the directory `to`, replacing it.
fn snapshot(from: &Path, to: &Path) -> Result<(), ApiError> {
    let io =
        |e: std::io::Error| ApiError::internal(format!("advisory snapshot {}: {e}", to.display()));
    if to.exists() {
        std::fs::remove_dir_all(to).map_err(io)?;
    }
    std::fs::create_dir_all(to).map_err(io)?;
    let src = from.join(bulwark_vulndb::DB_FILE);
    let dst = to.join(bulwark_vulndb::DB_FILE);
    if std::fs::hard_link(&src, &dst).is_err() {
        std::fs::copy(&src, &dst).map_err(io)?;
    }
    Ok(())
}

/// Checks the advisory store once and rematches what changed (blocking). `Ok(None)`: nothing
/// changed (or no store yet).
pub fn check_once(state: &AppState) -> Result<Option<RematchSummary>, ApiError> {
    let current = state.config.advisory_dir();
    let Some(fp) = fingerprint(&current)? else {
        return Ok(None);
    };
    let system = Principal::system("rematch");
    if state.store.meta(FINGERPRINT_KEY)?.as_deref() == Some(fp.as_str()) {
        return Ok(None);
    }
    // Freeze what is matched against: a new import may land while this runs.
    let next = state.config.data_dir.join("advisories.next");
    snapshot(&current, &next)?;
    let fp = fingerprint(&next)?.unwrap_or(fp);
    let previous = state.config.previous_advisory_dir();
    let started = Instant::now();
    let changes = bulwark_vulndb::changes_between(&previous, &next)
        .map_err(|e| ApiError::internal(format!("advisory diff: {e}")))?;
    let mut summary = if changes.everything {
        full(state, &next, &system)?
    } else {
        let advisories = bulwark_vulndb::Store::open(&next)
            .map_err(|e| ApiError::internal(format!("advisory store: {e}")))?;
        let mut keys: BTreeSet<(String, String)> = changes.packages.clone();
        if !changes.cves.is_empty() {
            let aliasing = advisories
                .packages_aliasing(changes.cves.iter().map(String::as_str))
                .map_err(|e| ApiError::internal(format!("advisory store: {e}")))?;
            keys.extend(aliasing);
        }
        let keys: Vec<(String, String)> = keys.into_iter().collect();
        let components = state.store.components_for_keys(&keys)?;
        let mut summary = rematch_components(state, &advisories, &system, components)?;
        summary.kind = "incremental".into();
        summary
    };
    summary.millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    // The rematch is recorded: this store is now the one matched against.
    if previous.exists() {
        std::fs::remove_dir_all(&previous)
            .map_err(|e| ApiError::internal(format!("{}: {e}", previous.display())))?;
    }
    std::fs::rename(&next, &previous)
        .map_err(|e| ApiError::internal(format!("{}: {e}", previous.display())))?;
    state.store.set_meta(FINGERPRINT_KEY, &fp)?;
    observe(state, &summary, started.elapsed());
    Ok(Some(summary))
}

fn observe(state: &AppState, summary: &RematchSummary, took: Duration) {
    state
        .metrics
        .rematch_seconds
        .get_or_create(&crate::metrics::KindLabels {
            kind: summary.kind.clone(),
        })
        .observe(took.as_secs_f64());
    state
        .metrics
        .rematched_components
        .inc_by(summary.components as u64);
}

/// Rematches every stored version against the advisory store in `dir` (blocking).
pub fn full(state: &AppState, dir: &Path, system: &Principal) -> Result<RematchSummary, ApiError> {
    let started = Instant::now();
    let advisories = bulwark_vulndb::Store::open(dir)
        .map_err(|e| ApiError::unavailable(format!("advisory store {}: {e}", dir.display())))?;
    let mut total = RematchSummary {
        kind: "full".into(),
        ..RematchSummary::default()
    };
    let mut after = 0;
    loop {
        let versions = state.store.all_versions_batched(after, FULL_BATCH)?;
        let Some(&last) = versions.last() else { break };
        after = last;
        let components = state.store.components_of_versions(&versions)?;
        let done = rematch_components(state, &advisories, system, components)?;
        total.components += done.components;
        total.versions += done.versions;
        total.events += done.events;
    }
    total.millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(total)
}

/// A full rematch against the current advisory store, as the API's job runs it.
pub fn full_now(state: &AppState) -> Result<RematchSummary, ApiError> {
    let system = Principal::system("rematch");
    let started = Instant::now();
    let summary = full(state, &state.config.advisory_dir(), &system)?;
    observe(state, &summary, started.elapsed());
    Ok(summary)
}

fn rematch_components(
    state: &AppState,
    advisories: &bulwark_vulndb::Store,
    system: &Principal,
    components: Vec<StoredComponent>,
) -> Result<RematchSummary, ApiError> {
    let mut by_version: BTreeMap<i64, Vec<StoredComponent>> = BTreeMap::new();
    let count = components.len();
    for c in components {
        by_version.entry(c.version_id).or_default().push(c);
    }
    let mut summary = RematchSummary {
        components: count,
        versions: by_version.len(),
        ..RematchSummary::default()
    };
    // One matcher call per OS release rather than per version: its lookups of advisory rows,
    // KEV and EPSS are cached per call, and the versions of a batch mostly share their
    // packages, so a full rematch asks the advisory store once per distinct package instead of
    // once per stored component (the bench measured per-component queries as the cost).
    let mut by_os: BTreeMap<String, (Option<bulwark_types::OsRelease>, Vec<i64>)> = BTreeMap::new();
    for (version_id, components) in &by_version {
        let os = components.iter().find_map(|c| c.os.clone());
        let key = serde_json::to_string(&os).unwrap_or_default();
        by_os
            .entry(key)
            .or_insert_with(|| (os, Vec::new()))
            .1
            .push(*version_id);
    }
    let mut found: BTreeMap<i64, Vec<(i64, bulwark_types::VulnerabilityFinding)>> = BTreeMap::new();
    for (os, version_ids) in by_os.into_values() {
        let mut packages = Vec::new();
        let mut owners: Vec<(i64, i64)> = Vec::new();
        for version_id in &version_ids {
            for c in &by_version[version_id] {
                packages.push(c.package.clone());
                owners.push((*version_id, c.id));
            }
        }
        let indices: Vec<usize> = (0..packages.len()).collect();
        let matched = bulwark_vulndb::try_match_indexed(
            advisories,
            os.as_ref(),
            &packages,
            &indices,
            &bulwark_vulndb::MatchOptions::default(),
        )
        .map_err(|e| ApiError::internal(format!("rematch: {e}")))?;
        for (i, list) in matched.findings {
            let (version_id, component_id) = owners[i];
            let slot = found.entry(version_id).or_default();
            slot.extend(list.into_iter().map(|f| (component_id, f)));
        }
    }
    let mut events: Vec<FindingEvent> = Vec::new();
    let rematches: Vec<bulwark_store::VersionRematch> = by_version
        .into_iter()
        .map(|(version_id, components)| bulwark_store::VersionRematch {
            version_id,
            component_ids: components.iter().map(|c| c.id).collect(),
            findings: found.remove(&version_id).unwrap_or_default(),
        })
        .collect();
    for batch in rematches.chunks(VERSIONS_PER_WRITE) {
        events.extend(state.store.apply_rematches(system, batch)?);
    }
    summary.events = events.len();
    crate::notifications::dispatch(state, &events);
    Ok(summary)
}

/// Polls the advisory store's fingerprint every `config.rematch_poll` (or when woken) and
/// rematches on change.
pub fn spawn_poller(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            {
                let _guard = state.advisory_lock.write().await;
                let s = state.clone();
                match tokio::task::spawn_blocking(move || check_once(&s)).await {
                    Ok(Ok(Some(summary))) => tracing::info!(
                        "rematch: {} components of {} versions, {} events, {} ms",
                        summary.components,
                        summary.versions,
                        summary.events,
                        summary.millis
                    ),
                    Ok(Ok(None)) => {}
                    Ok(Err(e)) => tracing::warn!("rematch failed: {e}"),
                    Err(e) => tracing::warn!("rematch failed: {e}"),
                }
            }
            tokio::select! {
                _ = state.wake.rematch.notified() => {}
                _ = tokio::time::sleep(state.config.rematch_poll) => {}
            }
        }
    })
}
