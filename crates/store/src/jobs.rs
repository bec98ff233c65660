//! The job queue: scan jobs, rematch batches, anything a worker does. A claimed job carries a
//! lease; a worker killed mid-job (`kill -9`) stops renewing it, and once it expires the job
//! is claimed again. PostgreSQL claims with `FOR UPDATE SKIP LOCKED` so workers never wait on
//! each other; SQLite's single writer (`BEGIN IMMEDIATE`) serialises claims by itself.

use serde::{Deserialize, Serialize};

use crate::driver::{params, vec_params, Backend, Conn, Row};
use crate::{now_ms, Result, Store, StoreError};

/// A job's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for a worker (or for `run_after`).
    Queued,
    /// Claimed; its lease runs until `lease_until`.
    Running,
    /// Finished; `result` holds the outcome.
    Done,
    /// Gave up after `max_attempts`; `error` says why.
    Failed,
}

impl JobState {
    /// The state's name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<JobState> {
        match s {
            "queued" => Some(JobState::Queued),
            "running" => Some(JobState::Running),
            "done" => Some(JobState::Done),
            "failed" => Some(JobState::Failed),
            _ => None,
        }
    }
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: serde_json::Value,
    pub state: JobState,
    pub priority: i64,
    /// Claims so far (a re-claim after a lost lease counts).
    pub attempts: i64,
    pub max_attempts: i64,
    pub worker: Option<String>,
    pub lease_until: Option<i64>,
    pub run_after: i64,
    pub result: Option<serde_json::Value>,
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const JOB_COLUMNS: &str = "id, kind, payload, state, priority, attempts, max_attempts, worker, lease_until, run_after, result, error, created_at, updated_at";

/// Attempts before a job that keeps failing (or keeps killing its worker) is given up.
pub const DEFAULT_MAX_ATTEMPTS: i64 = 5;

fn job_of(r: &Row, backend: &'static str) -> Result<Job> {
    let state = r.text(3)?;
    Ok(Job {
        id: r.i64(0)?,
        kind: r.text(1)?,
        payload: r.json(2)?,
        state: JobState::parse(&state).ok_or_else(|| StoreError::Corrupt {
            backend,
            target: String::new(),
            what: format!("job state {state:?}"),
        })?,
        priority: r.i64(4)?,
        attempts: r.i64(5)?,
        max_attempts: r.i64(6)?,
        worker: r.opt_text(7)?,
        lease_until: r.opt_i64(8)?,
        run_after: r.i64(9)?,
        result: r
            .opt_text(10)?
            .map(|t| serde_json::from_str(&t).unwrap_or(serde_json::Value::String(t))),
        error: r.opt_text(11)?,
        created_at: r.i64(12)?,
        updated_at: r.i64(13)?,
    })
}

fn get_job(c: &mut dyn Conn, id: i64) -> Result<Option<Job>> {
    let backend = c.backend().name();
    c.query_opt(
        &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"),
        &params![id],
    )?
    .map(|r| job_of(&r, backend))
    .transpose()
}

impl Store {
    /// Queues a job; higher `priority` runs first. Returns its id.
    pub fn enqueue(&self, kind: &str, payload: &serde_json::Value, priority: i64) -> Result<i64> {
        self.engine.write(|c| {
            let now = now_ms();
            c.query_one(
                "INSERT INTO jobs (kind, payload, state, priority, attempts, max_attempts, run_after, created_at, updated_at) \
                 VALUES ($1, $2, 'queued', $3, 0, $4, $5, $5, $5) RETURNING id",
                &params![kind, payload.to_string(), priority, DEFAULT_MAX_ATTEMPTS, now],
            )?
            .i64(0)
        })
    }

    /// Claims the next runnable job of one of `kinds` (all kinds when empty) for `worker`,
    /// leased for `lease`: a queued job, or a running one whose lease expired (its worker
    /// died). A job whose attempts are used up is marked failed instead.
    pub fn claim(
        &self,
        worker: &str,
        kinds: &[&str],
        lease: std::time::Duration,
    ) -> Result<Option<Job>> {
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2);
        self.engine.write(|c| loop {
            let now = now_ms();
            let mut sql = String::from(
                "SELECT id, attempts, max_attempts FROM jobs WHERE \
                 ((state = 'queued' AND run_after <= $1) OR (state = 'running' AND lease_until < $1))",
            );
            let mut p = vec_params![now];
            if !kinds.is_empty() {
                sql.push_str(" AND kind IN (");
                for (i, k) in kinds.iter().enumerate() {
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    p.push((*k).into());
                    sql.push_str(&format!("${}", p.len()));
                }
                sql.push(')');
            }
            sql.push_str(" ORDER BY priority DESC, id LIMIT 1");
            if c.backend() == Backend::Postgres {
                sql.push_str(" FOR UPDATE SKIP LOCKED");
            }
            let Some(r) = c.query_opt(&sql, &p)? else {
                return Ok(None);
            };
            let (id, attempts, max) = (r.i64(0)?, r.i64(1)?, r.i64(2)?);
            if attempts >= max {
                c.execute(
                    "UPDATE jobs SET state = 'failed', worker = NULL, lease_until = NULL, updated_at = $2, \
                     error = COALESCE(error, 'gave up: its worker stopped (lease expired) on every attempt') WHERE id = $1",
                    &params![id, now],
                )?;
                continue;
            }
            c.execute(
                "UPDATE jobs SET state = 'running', worker = $2, lease_until = $3, attempts = attempts + 1, updated_at = $4 WHERE id = $1",
                &params![id, worker, now.saturating_add(lease_ms), now],
            )?;
            return get_job(c, id);
        })
    }

    /// Extends a running job's lease (a long job calls this while it works). Returns false
    /// when the job is no longer this worker's (its lease expired and another took it).
    pub fn renew_lease(&self, id: i64, worker: &str, lease: std::time::Duration) -> Result<bool> {
        let lease_ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX / 2);
        self.engine.write(|c| {
            let now = now_ms();
            Ok(c.execute(
                "UPDATE jobs SET lease_until = $3, updated_at = $4 WHERE id = $1 AND worker = $2 AND state = 'running'",
                &params![id, worker, now.saturating_add(lease_ms), now],
            )? == 1)
        })
    }

    /// Marks a job done with its result. False when the job was not this worker's any more.
    pub fn complete_job(&self, id: i64, worker: &str, result: &serde_json::Value) -> Result<bool> {
        self.engine.write(|c| {
            Ok(c.execute(
                "UPDATE jobs SET state = 'done', result = $3, error = NULL, lease_until = NULL, updated_at = $4 \
                 WHERE id = $1 AND worker = $2 AND state = 'running'",
                &params![id, worker, result.to_string(), now_ms()],
            )? == 1)
        })
    }

    /// Records a failure: the job is queued again after `retry_after` while attempts remain,
    /// else failed for good. False when the job was not this worker's any more.
    pub fn fail_job(
        &self,
        id: i64,
        worker: &str,
        error: &str,
        retry_after: Option<std::time::Duration>,
    ) -> Result<bool> {
        self.engine.write(|c| {
            let now = now_ms();
            let retry = retry_after.map(|d| now.saturating_add(i64::try_from(d.as_millis()).unwrap_or(0)));
            Ok(c.execute(
                "UPDATE jobs SET state = CASE WHEN $4 = 1 AND attempts < max_attempts THEN 'queued' ELSE 'failed' END, \
                 run_after = $5, error = $3, worker = NULL, lease_until = NULL, updated_at = $6 \
                 WHERE id = $1 AND worker = $2 AND state = 'running'",
                &params![id, worker, error, retry.is_some(), retry.unwrap_or(now), now],
            )? == 1)
        })
    }

    /// One job.
    pub fn job(&self, id: i64) -> Result<Option<Job>> {
        self.engine.read(|c| get_job(c, id))
    }

    /// Jobs, newest first, optionally of one state.
    pub fn jobs(&self, state: Option<JobState>, page: crate::Page) -> Result<crate::Paged<Job>> {
        self.engine.read(|c| {
            let backend = c.backend().name();
            let (filter, p) = match state {
                Some(s) => (" WHERE state = $1", vec_params![s.as_str()]),
                None => ("", vec_params![]),
            };
            let total = c
                .query_one(&format!("SELECT COUNT(*) FROM jobs{filter}"), &p)?
                .i64(0)?;
            let n = p.len();
            let mut p2 = p.clone();
            p2.extend(params![page.limit(), page.offset()]);
            let rows = c.query(
                &format!(
                    "SELECT {JOB_COLUMNS} FROM jobs{filter} ORDER BY id DESC LIMIT ${} OFFSET ${}",
                    n + 1,
                    n + 2
                ),
                &p2,
            )?;
            let items = rows
                .iter()
                .map(|r| job_of(r, backend))
                .collect::<Result<_>>()?;
            Ok(crate::Paged { items, total })
        })
    }

    /// Counts of jobs per state (for /metrics).
    pub fn job_counts(&self) -> Result<Vec<(JobState, i64)>> {
        self.engine.read(|c| {
            let mut out = Vec::new();
            for r in c.query(
                "SELECT state, COUNT(*) FROM jobs GROUP BY state ORDER BY state",
                &[],
            )? {
                if let Some(s) = JobState::parse(&r.text(0)?) {
                    out.push((s, r.i64(1)?));
                }
            }
            Ok(out)
        })
    }
}
