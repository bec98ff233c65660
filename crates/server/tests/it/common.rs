//! The test server and a small HTTP client.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bulwark_server::serve::RunningServer;
use bulwark_server::ServerConfig;
use bulwark_store::testing::TestDatabase;
use serde_json::Value;

pub const ADMIN: &str = "bwk_test_admin_token_0123456789";

/// The repository root (for fixtures of other crates).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("crates/scan/tests/data/sboms").join(name))
        .unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// An OSV advisory for Debian 12's `package`, fixed in `fixed`, critical (CVSS 9.8).
pub fn debian_advisory(id: &str, cve: &str, package: &str, fixed: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "schema_version": "1.6.0",
        "id": id,
        "modified": "2026-01-01T00:00:00Z",
        "published": "2026-01-01T00:00:00Z",
        "aliases": [cve],
        "summary": format!("{package} test flaw"),
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [{
            "package": {"ecosystem": "Debian:12", "name": package},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]
        }]
    }))
    .unwrap()
}

pub struct TestServer {
    pub url: String,
    pub db: &'static str,
    /// Kept for the server's lifetime (the data directory).
    _data_dir: tempfile::TempDir,
    server: Option<RunningServer>,
    runtime: tokio::runtime::Runtime,
    agent: ureq::Agent,
}

impl TestServer {
    pub fn start(db: &TestDatabase) -> TestServer {
        Self::start_with(db, |_| {})
    }

    pub fn start_with(db: &TestDatabase, tweak: impl FnOnce(&mut ServerConfig)) -> TestServer {
        let data_dir = tempfile::tempdir().unwrap();
        let mut config = ServerConfig::new(data_dir.path().to_path_buf());
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.database = Some(db.url());
        config.admin_token = Some(ADMIN.to_string());
        config.rematch_poll = Duration::from_millis(100);
        tweak(&mut config);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = runtime.block_on(async {
            let (state, _) =
                tokio::task::spawn_blocking(move || bulwark_server::open_state(config))
                    .await
                    .unwrap()
                    .unwrap();
            bulwark_server::start_all(state).await.unwrap()
        });
        let agent = ureq::Agent::new_with_config(
            ureq::config::Config::builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(60)))
                .build(),
        );
        TestServer {
            url: server.url(),
            db: db.label(),
            _data_dir: data_dir,
            server: Some(server),
            runtime,
            agent,
        }
    }

    fn read(mut response: ureq::http::Response<ureq::Body>) -> (u16, Value) {
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .unwrap_or_default();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    pub fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let r = self
            .agent
            .get(format!("{}{path}", self.url))
            .header("Authorization", format!("Bearer {token}"))
            .call()
            .unwrap();
        Self::read(r)
    }

    pub fn send(&self, method: &str, path: &str, token: &str, body: &[u8]) -> (u16, Value) {
        let url = format!("{}{path}", self.url);
        let auth = format!("Bearer {token}");
        let r = match method {
            "POST" => self
                .agent
                .post(&url)
                .header("Authorization", &auth)
                .header("Content-Type", "application/json")
                .send(body),
            "PUT" => self
                .agent
                .put(&url)
                .header("Authorization", &auth)
                .header("Content-Type", "application/json")
                .send(body),
            "PATCH" => self
                .agent
                .patch(&url)
                .header("Authorization", &auth)
                .header("Content-Type", "application/json")
                .send(body),
            "DELETE" => self
                .agent
                .delete(&url)
                .header("Authorization", &auth)
                .call(),
            other => panic!("method {other}"),
        }
        .unwrap();
        Self::read(r)
    }

    pub fn post(&self, path: &str, token: &str, body: &[u8]) -> (u16, Value) {
        self.send("POST", path, token, body)
    }

    pub fn post_json(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        self.send("POST", path, token, &serde_json::to_vec(body).unwrap())
    }

    /// A new token with these scopes (and team), made by the admin.
    pub fn token(&self, name: &str, scopes: &[&str], team: Option<&str>) -> String {
        let (status, body) = self.post_json(
            "/api/v1/tokens",
            ADMIN,
            &serde_json::json!({"name": name, "scopes": scopes, "team": team}),
        );
        assert_eq!(status, 201, "{}: {body}", self.db);
        body["token"].as_str().unwrap().to_string()
    }

    pub fn import_advisory(&self, osv: &[u8], name: &str) {
        let (status, body) = self.post(
            &format!("/api/v1/advisories/import?name={name}"),
            ADMIN,
            osv,
        );
        assert_eq!(status, 200, "{}: {body}", self.db);
    }

    /// Waits (up to `limit`) until `check` gives Some.
    pub fn wait_for<T>(&self, limit: Duration, mut check: impl FnMut() -> Option<T>) -> T {
        let start = Instant::now();
        loop {
            if let Some(v) = check() {
                return v;
            }
            assert!(
                start.elapsed() < limit,
                "{}: timed out after {limit:?}",
                self.db
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            let _ = self
                .runtime
                .block_on(server.shutdown(Duration::from_millis(500)));
        }
    }
}
