//! Throwaway databases for tests (feature `test-support`), used by this crate's tests and the
//! server's: [`databases`] gives a fresh SQLite file AND a fresh PostgreSQL database, so every
//! test body runs against both backends.
//!
//! PostgreSQL comes from `BULWARK_TEST_POSTGRES_URL` when set (CI), else from one throwaway
//! cluster per test process, made with `initdb`/`pg_ctl` (from `/usr/lib/postgresql/*/bin` or
//! `pg_config --bindir`) in a temp dir, on a free loopback port, with `fsync=off`. The cluster
//! is stopped and its directory removed by a watchdog shell that waits for the test process
//! to exit (however it exits, `kill -9` included): no static destructor is needed. As root,
//! the cluster runs as the `postgres` user (PostgreSQL refuses to run as root). Without
//! PostgreSQL this panics with how to install it: the tests never silently skip a backend.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::{DatabaseLocation, Store};

/// A fresh database; dropping it drops the PostgreSQL database (best effort) or deletes the
/// SQLite file's directory.
pub struct TestDatabase {
    /// Where it is.
    pub location: DatabaseLocation,
    dir: Option<tempfile::TempDir>,
    /// For PostgreSQL: the maintenance URL and the database name, to drop it.
    pg_drop: Option<(String, String)>,
}

impl std::fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.label())
    }
}

impl TestDatabase {
    /// `sqlite` or `postgres`, for assertion messages.
    pub fn label(&self) -> &'static str {
        match self.location {
            DatabaseLocation::Sqlite(_) => "sqlite",
            DatabaseLocation::Postgres(_) => "postgres",
        }
    }

    /// Opens (and migrates) it.
    pub fn open(&self) -> Store {
        Store::open(&self.location)
            .unwrap_or_else(|e| panic!("opening the test {} database: {e}", self.label()))
    }

    /// The temp dir holding the SQLite file (None for PostgreSQL).
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_ref().map(tempfile::TempDir::path)
    }

    /// Runs SQL on it behind the store's back: tests make the states a crash leaves.
    pub fn execute_batch(&self, sql: &str) {
        match &self.location {
            DatabaseLocation::Sqlite(p) => rusqlite::Connection::open(p)
                .and_then(|c| c.execute_batch(sql))
                .unwrap_or_else(|e| panic!("sqlite: {sql}: {e}")),
            DatabaseLocation::Postgres(u) => postgres::Client::connect(u, postgres::NoTls)
                .and_then(|mut c| c.batch_execute(sql))
                .unwrap_or_else(|e| panic!("postgres: {sql}: {e}")),
        }
    }

    /// The URL or path, as `--database` takes it.
    pub fn url(&self) -> String {
        match &self.location {
            DatabaseLocation::Sqlite(p) => p.display().to_string(),
            DatabaseLocation::Postgres(u) => u.clone(),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.pg_drop {
            if let Ok(mut client) = postgres::Client::connect(admin, postgres::NoTls) {
                let _ =
                    client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// A fresh SQLite database AND a fresh PostgreSQL database.
pub fn databases() -> Vec<TestDatabase> {
    vec![sqlite(), postgres()]
}

/// A fresh SQLite file in its own temp dir.
pub fn sqlite() -> TestDatabase {
    let dir = tempfile::Builder::new()
        .prefix("bulwark-store-test-")
        .tempdir()
        .expect("a temp dir for the test SQLite database");
    TestDatabase {
        location: DatabaseLocation::Sqlite(dir.path().join("bulwark.sqlite")),
        dir: Some(dir),
        pg_drop: None,
    }
}

/// A fresh PostgreSQL database (`t_<random>`) on the test server.
pub fn postgres() -> TestDatabase {
    let admin = match server() {
        Ok(url) => url.clone(),
        Err(e) => panic!("{e}"),
    };
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("randomness for a database name");
    let name = format!("t_{}", hex::encode(bytes));
    let mut client = postgres::Client::connect(&admin, postgres::NoTls)
        .unwrap_or_else(|e| panic!("connecting to the test PostgreSQL server: {e}"));
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap_or_else(|e| panic!("creating test database {name}: {e}"));
    let url = with_dbname(&admin, &name);
    TestDatabase {
        location: DatabaseLocation::Postgres(url),
        dir: None,
        pg_drop: Some((admin, name)),
    }
}

/// `url` with its database name replaced.
fn with_dbname(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{host_part}/{db}?{q}"),
        None => format!("{host_part}/{db}"),
    }
}

/// The maintenance URL of the test server, started once per process.
fn server() -> &'static Result<String, String> {
    static SERVER: OnceLock<Result<String, String>> = OnceLock::new();
    SERVER.get_or_init(|| {
        if let Ok(url) = std::env::var("BULWARK_TEST_POSTGRES_URL") {
            if !url.trim().is_empty() {
                return Ok(url);
            }
        }
        start_cluster()
    })
}

const HOW_TO_INSTALL: &str = "PostgreSQL is needed to test the PostgreSQL backend: install it \
    (Debian/Ubuntu: `apt-get install postgresql`) so initdb and pg_ctl are in /usr/lib/postgresql/*/bin \
    or on `pg_config --bindir`, or point BULWARK_TEST_POSTGRES_URL at a server \
    (postgres://USER@HOST:PORT/postgres) where that user may CREATE DATABASE";

fn bindir() -> Result<PathBuf, String> {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    // Newest major version first (directory names are the major versions).
    candidates.sort_by_key(|p| {
        std::cmp::Reverse(
            p.parent()
                .and_then(|v| v.file_name())
                .and_then(|v| v.to_str())
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(0),
        )
    });
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        if out.status.success() {
            candidates.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
        }
    }
    candidates
        .into_iter()
        .find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file())
        .ok_or_else(|| HOW_TO_INSTALL.to_string())
}

fn output_of(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("running {cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

fn start_cluster() -> Result<String, String> {
    let bin = bindir()?;
    let root = output_of(Command::new("id").arg("-u"))? == "0";
    let dir = tempfile::Builder::new()
        .prefix("bulwark-test-pg-")
        .tempdir()
        .map_err(|e| format!("a temp dir for the test PostgreSQL cluster: {e}"))?
        .keep();
    let data = dir.join("data");
    // PostgreSQL refuses to run as root: as root, run it as the `postgres` user.
    let as_pg = |program: &Path| -> Command {
        if root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        }
    };
    if root {
        let uid: u32 = output_of(Command::new("id").args(["-u", "postgres"]))
            .map_err(|e| format!("{e}\nrunning as root needs a `postgres` user to run the test cluster; {HOW_TO_INSTALL}"))?
            .parse()
            .map_err(|e| format!("uid of postgres: {e}"))?;
        let gid: u32 = output_of(Command::new("id").args(["-g", "postgres"]))?
            .parse()
            .map_err(|e| format!("gid of postgres: {e}"))?;
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
            .map_err(|e| format!("chown {} to postgres: {e}", dir.display()))?;
    }
    // The watchdog first: whatever happens next, the directory goes when this process does.
    spawn_watchdog(&bin, &dir, &data, root)?;
    output_of(
        as_pg(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ])
            .stdin(Stdio::null()),
    )?;
    let mut last_err = String::new();
    for _ in 0..5 {
        let port = free_port()?;
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={} -c fsync=off \
             -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=32MB",
            dir.display()
        );
        let started = output_of(
            as_pg(&bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .args(["-o", &opts, "-l"])
                .arg(dir.join("log"))
                .args(["-w", "-t", "60", "start"])
                .stdin(Stdio::null()),
        );
        match started {
            Ok(_) => return Ok(format!("postgres://postgres@127.0.0.1:{port}/postgres")),
            Err(e) => {
                let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
                last_err = format!("{e}\n{log}");
            }
        }
    }
    Err(format!(
        "starting the test PostgreSQL cluster failed: {last_err}"
    ))
}

/// A shell in its own process group that waits for this process to end, then stops the
/// cluster and removes its directory.
fn spawn_watchdog(bin: &Path, dir: &Path, data: &Path, root: bool) -> Result<(), String> {
    use std::os::unix::process::CommandExt as _;
    let pg_ctl = bin.join("pg_ctl");
    let stop = if root {
        format!(
            "runuser -u postgres -- '{}' -D '{}' stop -m immediate",
            pg_ctl.display(),
            data.display()
        )
    } else {
        format!(
            "'{}' -D '{}' stop -m immediate",
            pg_ctl.display(),
            data.display()
        )
    };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf '{dir}'",
        pid = std::process::id(),
        dir = dir.display()
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map(|_| ())
        .map_err(|e| format!("starting the test cluster's watchdog: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_replace_the_path_only() {
        assert_eq!(
            with_dbname("postgres://u@h:5/postgres?sslmode=disable", "t_1"),
            "postgres://u@h:5/t_1?sslmode=disable"
        );
        assert_eq!(
            with_dbname("postgres://u@h:5", "t_1"),
            "postgres://u@h:5/t_1"
        );
    }
}
