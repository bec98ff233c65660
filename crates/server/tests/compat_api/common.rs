//! A real server on 127.0.0.1 per test database, an HTTP client, and the advisory data.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bulwark_server::ServerConfig;
use bulwark_store::testing::TestDatabase;
use bulwark_store::Store;

/// The admin token every test server is started with.
pub const ADMIN: &str = "bwk_compat_test_admin_token_0123456789";

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/compat")
        .join(name)
}

/// A running server: its URL, its store and the runtime it runs on. The runtime is declared
/// (so dropped) first: the server's tasks then drop their store handles while this one still
/// holds the database, whose PostgreSQL connections must not be closed on a runtime thread.
pub struct TestServer {
    _runtime: tokio::runtime::Runtime,
    pub url: String,
    pub store: Store,
    pub label: String,
    _data_dir: tempfile::TempDir,
    _db: TestDatabase,
}

/// The advisory store the test servers match against: bulwark-vulndb's test advisories
/// (Debian lists, OSV, KEV, EPSS), imported once per test process.
fn advisories() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("bulwark-compat-advisories-")
            .tempdir()
            .expect("a temp dir for the advisory store");
        let sources = [repo_root().join("crates/vulndb/tests/data")];
        bulwark_vulndb::import_paths(dir.path(), &sources, &bulwark_vulndb::NoProgress)
            .expect("the test advisories import");
        dir
    })
    .path()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

impl TestServer {
    /// A server on `db` with the test advisories and the admin token [`ADMIN`], started as
    /// `bulwark server` starts (workers included).
    pub fn start(db: TestDatabase) -> TestServer {
        TestServer::start_with_config(db, None)
    }

    /// [`TestServer::start`] with a config file (`bulwark.yaml`) of `yaml`.
    pub fn start_with_config(db: TestDatabase, yaml: Option<&str>) -> TestServer {
        let label = format!("{db:?}");
        let data_dir = tempfile::Builder::new()
            .prefix("bulwark-compat-server-")
            .tempdir()
            .unwrap();
        let mut config = ServerConfig::new(data_dir.path().to_path_buf());
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.database = Some(db.url());
        config.admin_token = Some(ADMIN.to_string());
        if let Some(yaml) = yaml {
            let file = data_dir.path().join("bulwark.yaml");
            std::fs::write(&file, yaml).unwrap();
            config.config_file = Some(file);
        }
        copy_dir(advisories(), &config.advisory_dir());
        let (state, _) =
            bulwark_server::startup::open_state(config).expect("the server's state opens");
        let store = state.store.clone();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let running = runtime
            .block_on(bulwark_server::startup::start_all(state))
            .expect("the server starts");
        let url = running.url();
        // The server runs until the runtime is dropped with the TestServer.
        runtime.spawn(async move {
            let _ = running.wait().await;
        });
        TestServer {
            url,
            store,
            label,
            _data_dir: data_dir,
            _db: db,
            _runtime: runtime,
        }
    }

    /// A new token with `scopes`.
    pub fn token(&self, name: &str, scopes: &[bulwark_store::Scope]) -> String {
        let admin = bulwark_store::Principal::system("test");
        self.store
            .create_token(&admin, name, scopes, None)
            .expect("a token")
            .1
    }
}

/// Every test database, each with a server.
pub fn servers() -> Vec<TestServer> {
    bulwark_store::testing::databases()
        .into_iter()
        .map(TestServer::start)
        .collect()
}

/// An answer: status, headers, body.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {} {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .new_agent()
}

fn answer(response: ureq::http::Response<ureq::Body>) -> Answer {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let body = response
        .into_body()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()
        .unwrap();
    Answer {
        status,
        headers,
        body,
    }
}

/// `GET url` with `headers`.
pub fn get(url: &str, headers: &[(&str, &str)]) -> Answer {
    let mut req = agent().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    answer(req.call().unwrap_or_else(|e| panic!("GET {url}: {e}")))
}

/// `method url` with `headers` and `body`.
pub fn send(method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    let agent = agent();
    let mut req = match method {
        "PUT" => agent.put(url),
        "POST" => agent.post(url),
        other => panic!("unsupported method {other}"),
    };
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    answer(
        req.send(body)
            .unwrap_or_else(|e| panic!("{method} {url}: {e}")),
    )
}

/// Whether a tool is on PATH; under CI (`CI` set) a missing tool is a failure, locally a loud
/// skip.
pub fn tools_present(tools: &[&str], install: &str) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| {
            !std::env::var_os("PATH")
                .map(|p| std::env::split_paths(&p).any(|d| d.join(t).is_file()))
                .unwrap_or(false)
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    if ci {
        panic!("this test needs {missing:?} ({install}; .ci/run installs them)");
    }
    eprintln!("\n!!!!! SKIPPING: {missing:?} not installed ({install}) !!!!!\n");
    false
}
