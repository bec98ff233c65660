//! Background jobs from the store's queue: image scans (`POST /api/v1/scans`, and the Harbor
//! adapter) and full rematches. A bounded number of workers claim jobs with a lease, so a job
//! whose server was killed is claimed again after its lease expires.

use std::sync::Arc;
use std::time::Duration;

use bulwark_image::registry::{Credentials, Secret};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::ingest::UploadMeta;
pub use crate::job_secrets::JobSecrets;
use crate::state::AppState;

pub const SCAN_JOB: &str = "scan";
pub const REMATCH_JOB: &str = "rematch";
/// A claimed job is re-claimable after this unless its worker renews the lease.
const JOB_LEASE: Duration = Duration::from_secs(60);
const JOB_POLL: Duration = Duration::from_secs(1);

/// A scan to run: the image and, optionally, how to log in and where the result goes.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
pub struct ScanRequest {
    /// A registry reference (`registry.example/app:1.2`, `localhost:5000/app@sha256:…`).
    pub image: String,
    /// Registry user name (with `password`); default: anonymous or the server's config.
    #[serde(default)]
    pub username: Option<String>,
    /// Registry password or token. Kept in memory only, never stored: a scan resumed after a
    /// restart runs without it.
    #[serde(default, skip_serializing)]
    pub password: Option<String>,
    /// A registry bearer token (Harbor hands one to its scanners); like `password`, memory only.
    #[serde(default, skip_serializing)]
    pub bearer: Option<String>,
    /// Allow plain HTTP and unverified TLS for this registry (trusted networks only).
    #[serde(default)]
    pub insecure: bool,
    /// The asset name; default: the image's repository.
    #[serde(default)]
    pub asset: Option<String>,
    /// The owning team of a new asset.
    #[serde(default)]
    pub team: Option<String>,
}

/// Queues a scan for `who` (upload scope); returns the job id.
pub fn enqueue_scan(
    state: &AppState,
    who: &bulwark_store::Principal,
    request: &ScanRequest,
) -> Result<i64, ApiError> {
    if !who.has(bulwark_store::Scope::Upload) {
        return Err(ApiError::forbidden(
            "starting a scan needs the upload scope; ask an admin for such a token",
        ));
    }
    bulwark_image::SourceRef::parse(&format!("registry:{}", request.image))
        .map_err(|e| ApiError::bad_request(format!("image {:?}: {e}", request.image)))?;
    let mut payload = serde_json::to_value(request).map_err(ApiError::internal)?;
    payload["principal"] = serde_json::to_value(who).map_err(ApiError::internal)?;
    let id = state.store.enqueue(SCAN_JOB, &payload, 0)?;
    let credentials = match (&request.username, &request.password, &request.bearer) {
        (Some(user), Some(password), _) => Some(Credentials::Basic {
            username: user.clone(),
            password: Secret::new(password.clone()),
        }),
        (_, _, Some(token)) => Some(Credentials::IdentityToken(Secret::new(token.clone()))),
        _ => None,
    };
    if let Some(c) = credentials {
        state.job_secrets.put(id, c);
    }
    state.wake.jobs.notify_one();
    Ok(id)
}

fn run_scan(state: &AppState, job: &bulwark_store::Job) -> Result<serde_json::Value, String> {
    let request: ScanRequest =
        serde_json::from_value(job.payload.clone()).map_err(|e| format!("bad job: {e}"))?;
    let who: bulwark_store::Principal = serde_json::from_value(job.payload["principal"].clone())
        .map_err(|e| format!("bad job: {e}"))?;
    let mut scan = bulwark_scan::ImageScan::new(
        &format!("registry:{}", request.image),
        state.config.advisory_dir(),
    )
    .map_err(|e| e.to_string())?;
    scan.sources.registry.credentials = state.job_secrets.take(job.id);
    scan.sources.registry.insecure = request.insecure;
    scan.settings.keep_packages = true;
    scan.settings.scanners = Some(vec![bulwark_scan::Scanner::Sbom]);
    scan.settings.cache_dir = Some(state.config.data_dir.join("layer-cache"));
    let outcome = scan
        .run(&bulwark_scan::NoopSink, &bulwark_scan::CancelToken::new())
        .map_err(|e| bulwark_scan::error_text(&e))?;
    let mut json = Vec::new();
    bulwark_report::write_to(
        &outcome.report,
        bulwark_report::Format::Json,
        bulwark_report::RenderOptions::default(),
        &mut json,
    )
    .map_err(|e| e.to_string())?;
    let meta = UploadMeta {
        asset: request.asset.clone(),
        team: request.team.clone(),
        ..UploadMeta::default()
    };
    let ingested = crate::ingest::ingest_bytes(state, &who, &json, &meta, Some("scan"))
        .map_err(|e| e.message)?
        .outcome;
    Ok(serde_json::json!({
        "asset_uuid": ingested.asset_uuid,
        "version_uuid": ingested.version_uuid,
        "components": ingested.component_count,
        "findings": ingested.open_findings,
        "report": serde_json::from_slice::<serde_json::Value>(&json).unwrap_or_default(),
    }))
}

fn run_job(state: &AppState, job: &bulwark_store::Job) -> Result<serde_json::Value, String> {
    match job.kind.as_str() {
        SCAN_JOB => run_scan(state, job),
        REMATCH_JOB => crate::rematch::full_now(state)
            .map(|s| serde_json::to_value(s).unwrap_or_default())
            .map_err(|e| e.message),
        other => Err(format!("unknown job kind {other:?}")),
    }
}

/// `workers` job workers; each claims one job at a time.
pub fn spawn_workers(state: AppState, workers: usize) -> Vec<tokio::task::JoinHandle<()>> {
    (0..workers.max(1))
        .map(|n| {
            let state = state.clone();
            let name = format!("worker-{}-{n}", std::process::id());
            tokio::spawn(async move {
                loop {
                    let s = state.clone();
                    let worker = name.clone();
                    let ran = tokio::task::spawn_blocking(move || -> Result<bool, String> {
                        let Some(job) = s
                            .store
                            .claim(&worker, &[SCAN_JOB, REMATCH_JOB], JOB_LEASE)
                            .map_err(|e| e.to_string())?
                        else {
                            return Ok(false);
                        };
                        // The lease is renewed while the job runs, so a long scan is not
                        // claimed again by another worker; a killed server stops renewing.
                        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
                        let renewer = {
                            let (s, worker, done) = (s.clone(), worker.clone(), done.clone());
                            let id = job.id;
                            std::thread::spawn(move || {
                                let mut waited = Duration::ZERO;
                                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                                    std::thread::sleep(Duration::from_millis(200));
                                    waited += Duration::from_millis(200);
                                    if waited >= JOB_LEASE / 3 {
                                        waited = Duration::ZERO;
                                        let _ = s.store.renew_lease(id, &worker, JOB_LEASE);
                                    }
                                }
                            })
                        };
                        let result = run_job(&s, &job);
                        done.store(true, std::sync::atomic::Ordering::Relaxed);
                        let _ = renewer.join();
                        match result {
                            Ok(value) => s.store.complete_job(job.id, &worker, &value),
                            Err(error) => s.store.fail_job(job.id, &worker, &error, None),
                        }
                        .map_err(|e| e.to_string())?;
                        Ok(true)
                    })
                    .await;
                    match ran {
                        Ok(Ok(true)) => continue,
                        Ok(Ok(false)) => {}
                        Ok(Err(e)) => tracing::warn!("job worker: {e}"),
                        Err(e) => tracing::warn!("job worker: {e}"),
                    }
                    tokio::select! {
                        _ = state.wake.jobs.notified() => {}
                        _ = tokio::time::sleep(JOB_POLL) => {}
                    }
                }
            })
        })
        .collect()
}

/// Records today's snapshot at startup and every hour.
pub fn spawn_snapshots(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let s = state.clone();
            let day = bulwark_store::day_of(bulwark_store::now_ms());
            match tokio::task::spawn_blocking(move || s.store.record_snapshot(&day)).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!("snapshot: {e}"),
                Err(e) => tracing::warn!("snapshot: {e}"),
            }
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    })
}

/// Keeps the queue-depth gauge current.
pub fn spawn_queue_gauge(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let s = state.clone();
            if let Ok(Ok(counts)) = tokio::task::spawn_blocking(move || s.store.job_counts()).await
            {
                let queued: i64 = counts
                    .iter()
                    .filter(|(st, _)| matches!(st, bulwark_store::JobState::Queued))
                    .map(|(_, n)| *n)
                    .sum();
                state
                    .metrics
                    .queue_depth
                    .get_or_create(&crate::metrics::KindLabels {
                        kind: "jobs".into(),
                    })
                    .set(queued);
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    })
}

pub type SharedSecrets = Arc<JobSecrets>;
