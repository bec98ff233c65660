//! Test support (feature `test-support`): a dockerd of the test's own, in a temporary root
//! (vfs storage, no iptables, no bridge; containers run with `--network none`), so the
//! runtime tests here and in the cli audit real containers without touching the machine's
//! engine.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Whether the tests run under CI, where a missing engine is a failure rather than a skip.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false")
}

/// Skips a test loudly, or fails it under CI (`.ci/run` installs the engines).
pub fn skip<T>(why: &str) -> Option<T> {
    if under_ci() {
        panic!("runtime tests: {why} (.ci/run installs docker.io and podman)");
    }
    eprintln!("\n!!!!! SKIPPING runtime test: {why} !!!!!\n");
    None
}

/// A dockerd of the test's own, stopped (with its containers) on drop.
pub struct Dockerd {
    dir: tempfile::TempDir,
    child: Child,
}

impl Dockerd {
    /// Starts one and waits (up to 60 s) until it answers; `None` (a loud skip) when dockerd
    /// is not installed or cannot start here, a panic under CI.
    pub fn start() -> Option<Dockerd> {
        if Command::new("dockerd").arg("--version").output().is_err() {
            return skip("dockerd is not installed (apt-get install docker.io)");
        }
        let dir = tempfile::Builder::new()
            .prefix("bwrt")
            .tempdir_in("/tmp")
            .expect("a temporary directory for dockerd");
        let d = dir.path();
        let log = std::fs::File::create(d.join("dockerd.log")).expect("dockerd's log file");
        let child = Command::new("dockerd")
            .arg("--data-root")
            .arg(d.join("data"))
            .arg("--exec-root")
            .arg(d.join("exec"))
            .arg("--pidfile")
            .arg(d.join("dockerd.pid"))
            .arg("--host")
            .arg(format!("unix://{}", d.join("d.sock").display()))
            .args([
                "--storage-driver",
                "vfs",
                "--iptables=false",
                "--bridge=none",
            ])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("dockerd spawns");
        let daemon = Dockerd { dir, child };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ok = daemon
                .docker_raw(&["version", "--format", "{{.Server.Version}}"])
                .status
                .success();
            if ok {
                return Some(daemon);
            }
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(daemon.dir.path().join("dockerd.log"))
                    .unwrap_or_default();
                let tail: String = log.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
                return skip(&format!("dockerd did not start: {tail}"));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("d.sock")
    }

    /// `unix://…`, as `DOCKER_HOST` and `--docker-host` take it.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    /// Runs the docker client against this daemon.
    pub fn docker_raw(&self, args: &[&str]) -> Output {
        Command::new("docker")
            .args(args)
            .env("DOCKER_HOST", self.host())
            .env("DOCKER_CONFIG", self.dir.path().join("client"))
            .output()
            .expect("the docker client runs")
    }

    /// Runs the docker client and returns its trimmed output; panics when it fails.
    pub fn docker(&self, args: &[&str]) -> String {
        let out = self.docker_raw(args);
        assert!(
            out.status.success(),
            "docker {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Dockerd {
    /// Loads the minbase test image from its `docker save` archive and starts the two
    /// containers both runtime suites audit: `risky` (an added capability, the host's PID
    /// namespace, `/etc` mounted, root, and two files written a second after start) and
    /// `hardened` (by image id, read-only, no capabilities, limits). Returns the image id once
    /// the risky container has written its files.
    pub fn start_risky_and_hardened(&self, archive: &Path) -> String {
        let loaded = self.docker(&["load", "-i", &archive.display().to_string()]);
        assert!(loaded.contains("bulwark-test/minbase"), "{loaded}");
        let image_id = self.docker(&[
            "image",
            "inspect",
            "-f",
            "{{.Id}}",
            "bulwark-test/minbase:latest",
        ]);
        self.docker(&[
            "run", "-d", "--name", "risky", "--network", "none", "--cap-add", "SYS_ADMIN", "--pid",
            "host", "-v", "/etc:/host-etc", "-u", "0", "bulwark-test/minbase:latest", "sh", "-c",
            "sleep 1; echo drift > /tmp/written-after-start; cp /bin/true /usr/local/bin/dropped; exec sleep 600",
        ]);
        self.docker(&[
            "run",
            "-d",
            "--name",
            "hardened",
            "--network",
            "none",
            "--read-only",
            "--cap-drop",
            "ALL",
            "--security-opt",
            "no-new-privileges",
            "-u",
            "1000",
            "--memory",
            "64m",
            "--pids-limit",
            "50",
            "--cpus",
            "0.5",
            "--cgroupns",
            "private",
            &image_id,
            "sleep",
            "600",
        ]);
        std::thread::sleep(Duration::from_secs(3));
        image_id
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        let ids = self.docker_raw(&["ps", "-aq"]);
        let ids = String::from_utf8_lossy(&ids.stdout).to_string();
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f"];
            args.extend(ids);
            let _ = self.docker_raw(&args);
        }
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
