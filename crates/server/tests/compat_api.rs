//! The compatibility APIs (`bulwark_server::compat`) against a real server on 127.0.0.1 with
//! real clients: Dependency-Track's API with the PyPI `dtrack-auditor` client and the JSON
//! shapes integrations read, Harbor's scanner adapter API against a real registry
//! (Debian's `docker-registry`). Every test runs on SQLite and on PostgreSQL
//! (`bulwark_store::testing::databases()`).

mod compat_api {
    pub mod common;
    mod dtrack;
    mod harbor;
}
