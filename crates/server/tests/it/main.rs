//! bulwark server's integration tests: the real server in-process on 127.0.0.1:0, spoken to
//! over HTTP with ureq, every test against SQLite AND PostgreSQL
//! (`bulwark_store::testing::databases()`).

mod common;

mod access;
mod admission;
mod advisory_update;
mod browser;
mod dashboard;
mod dashboard_bench;
mod dashboard_more;
mod dashboard_seed;
mod ingest;
mod rematch_notify;
mod triage_vex;
