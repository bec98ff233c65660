//! `bulwark runtime` against real containers: a dockerd of the test's own (temporary root, vfs
//! storage, no iptables, no bridge, containers on `--network none`) running the minbase test
//! image as a risky and a hardened container, the advisory test data as the database; and
//! Podman's API service with a container of its own. Skips loudly when dockerd or podman is
//! not installed or cannot start here; under CI (`CI` set) that is a failure (`.ci/run`
//! installs docker.io and podman).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use bulwark_runtime::testing::{skip, Dockerd};

use crate::util::*;

fn runtime_json(host_flag: &str, host: &str, extra: &[&str]) -> (i32, Value, String) {
    let mut args = vec!["runtime", host_flag, host, "--format", "json", "--no-cache"];
    args.extend_from_slice(extra);
    let out = bulwark(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("bulwark {args:?}: not JSON ({e}): {stderr}"));
    (out.status.code().unwrap_or(-1), report, stderr)
}

fn findings_of<'a>(report: &'a Value, container: &str) -> Vec<(&'a str, String)> {
    report["misconfigurations"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|m| m["location"]["path"] == format!("container:{container}").as_str())
        .map(|m| {
            let cis = m["compliance"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["framework"] == "cis-docker")
                .and_then(|c| c["control"].as_str())
                .unwrap_or("")
                .to_string();
            (m["check_id"].as_str().unwrap(), cis)
        })
        .collect()
}

fn container<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no container {name} in {}", report["containers"]))
}

fn vuln<'a>(report: &'a Value, id: &str, package: &str, container: &str) -> &'a Value {
    report["vulnerabilities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| {
            v["id"] == id
                && v["package"]["name"] == package
                && v["in_use"]["container"] == container
        })
        .unwrap_or_else(|| panic!("no {id} in {package} for {container}"))
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

/// A report server stand-in that records the `asset` of every upload.
fn upload_server() -> (String, mpsc::Receiver<String>) {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://{}", server.server_addr().to_ip().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let asset = request
                .url()
                .split(['?', '&'])
                .find_map(|kv| kv.strip_prefix("asset="))
                .unwrap_or("")
                .to_string();
            let _ = tx.send(asset);
            let _ = request.respond(tiny_http::Response::from_string(
                r#"{"asset":{"name":"x"},"version":{"uuid":"u"},"findings":0}"#,
            ));
        }
    });
    (url, rx)
}

#[test]
fn runtime_audits_real_docker_containers() {
    let Some(minbase) = test_image("minbase", &["docker-archive.tar"]) else {
        return;
    };
    let Some(daemon) = Dockerd::start() else {
        return;
    };
    let archive = minbase.join("docker-archive.tar");
    let image_id = daemon.start_risky_and_hardened(&archive);
    let tmp = tempfile::tempdir().unwrap();
    let db = advisory_db(tmp.path());
    let db = db.to_str().unwrap();
    let host = daemon.host();

    let (code, report, stderr) = runtime_json("--docker-host", &host, &["--db-dir", db]);
    assert_eq!(code, 0, "{stderr}");
    let risky = findings_of(&report, "risky");
    for (id, cis) in [
        ("BW-RT-002", "5.4"),
        ("BW-RT-003", "5.6"),
        ("BW-RT-006", "5.16"),
        ("BW-RT-012", "5.26"),
        ("BW-RT-013", "5.13"),
        ("BW-RT-014", "4.1"),
        ("BW-RT-015", "5.11"),
        ("BW-RT-016", "5.12"),
        ("BW-RT-017", "5.29"),
        ("BW-RT-020", "5.28"),
        ("BW-RT-024", "5.13"),
    ] {
        assert!(
            risky.contains(&(id, cis.to_string())),
            "{id} ({cis}) in {risky:?}"
        );
    }
    assert!(
        findings_of(&report, "hardened").is_empty(),
        "the hardened container has no findings: {:?}",
        findings_of(&report, "hardened")
    );
    let r = container(&report, "risky");
    assert!(strings(&r["declared_capabilities"]).contains(&"SYS_ADMIN"));
    assert!(strings(&r["effective_capabilities"]).contains(&"SYS_ADMIN"));
    let h = container(&report, "hardened");
    assert!(strings(&h["declared_capabilities"]).is_empty());
    assert!(strings(&h["effective_capabilities"]).is_empty());
    let drift: Vec<&str> = r["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert!(drift.contains(&"/tmp/written-after-start"), "{drift:?}");
    assert!(drift.contains(&"/usr/local/bin/dropped"), "{drift:?}");
    assert!(h["drift"].is_null(), "{}", h["drift"]);
    assert!(strings(&r["advice"]["docker_run"]).contains(&"--cap-drop ALL"));
    assert!(r["advice"]["kubernetes"]
        .as_str()
        .unwrap()
        .contains("allowPrivilegeEscalation: false"));

    // `sleep` maps glibc's libc.so.6 (libc6): its vulnerabilities are loaded; zlib's are not.
    for name in ["risky", "hardened"] {
        let glibc = vuln(&report, "CVE-2024-2961", "libc6", name);
        assert_eq!(glibc["in_use"]["state"], "loaded", "{glibc}");
        let evidence = glibc["in_use"]["evidence"].as_array().unwrap();
        assert!(
            evidence
                .iter()
                .any(|e| e["path"].as_str().unwrap().ends_with("/libc.so.6")
                    && e["pid"].as_u64().unwrap() > 0),
            "{evidence:?}"
        );
        let zlib = vuln(&report, "CVE-2023-45853", "zlib1g", name);
        assert_eq!(zlib["in_use"]["state"], "not-loaded", "{zlib}");
    }

    // The table shows declared and effective capabilities and the advice.
    let out = bulwark(&[
        "runtime",
        "--docker-host",
        &host,
        "--format",
        "table",
        "--no-image-scan",
        "risky",
    ]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(table.contains("Capabilities declared:") && table.contains("Capabilities effective:"));
    assert!(table.contains("docker run --cap-drop ALL"), "{table}");
    assert!(
        !table.contains("Container hardened"),
        "only the named container: {table}"
    );

    // Gates as `bulwark config` does them; SARIF like every report.
    let (code, _, _) = runtime_json(
        "--docker-host",
        &host,
        &[
            "--no-image-scan",
            "--fail-on-misconfig",
            "high",
            "--exit-code",
            "3",
        ],
    );
    assert_eq!(code, 3);
    let (code, _, stderr) = runtime_json(
        "--docker-host",
        &host,
        &[
            "--no-image-scan",
            "--fail-on-misconfig",
            "high",
            "--exit-code",
            "3",
            "hardened",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let out = bulwark(&[
        "runtime",
        "--docker-host",
        &host,
        "--format",
        "sarif",
        "--no-image-scan",
    ]);
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(sarif["runs"][0]["results"].as_array().unwrap().len() >= 11);

    // A container that does not exist is an error that names it.
    let out = bulwark(&[
        "runtime",
        "--docker-host",
        &host,
        "--no-image-scan",
        "nosuch",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nosuch"));

    // --upload: one report per container, asset container://HOST/NAME.
    let (url, uploads) = upload_server();
    let out = bulwark(&[
        "runtime",
        "--docker-host",
        &host,
        "--no-image-scan",
        "--format",
        "json",
        "--upload",
        &url,
        "--token",
        "t",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut assets: Vec<String> = uploads.try_iter().collect();
    assets.sort();
    assert_eq!(assets.len(), 2, "{assets:?}");
    assert!(
        assets[0].starts_with("container%3A%2F%2F") || assets[0].starts_with("container://"),
        "{assets:?}"
    );
    assert!(
        assets[0].ends_with("hardened") && assets[1].ends_with("risky"),
        "{assets:?}"
    );

    // --watch: a container started later is audited and only the change is printed.
    let mut watcher = Command::new(env!("CARGO_BIN_EXE_bulwark"))
        .args([
            "runtime",
            "--docker-host",
            &host,
            "--no-image-scan",
            "--format",
            "table",
            "--watch",
            "--quiet",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = watcher.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let wait_for = |want: &str| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(line) = lines.recv_timeout(Duration::from_millis(500)) {
                if line.contains(want) {
                    return true;
                }
            }
        }
        false
    };
    // The first full table, then the event stream.
    assert!(wait_for("Container risky"));
    std::thread::sleep(Duration::from_secs(1));
    daemon.docker(&[
        "run",
        "-d",
        "--name",
        "late",
        "--network",
        "none",
        "--pid",
        "host",
        &image_id,
        "sleep",
        "600",
    ]);
    let started = wait_for("+ container late: BW-RT-006");
    daemon.docker(&["rm", "-f", "late"]);
    let stopped = started && wait_for("- container late running");
    let _ = watcher.kill();
    let _ = watcher.wait();
    assert!(started, "--watch printed the new container's findings");
    assert!(stopped, "--watch printed the container going");
}

/// Podman's API service, private storage, runc and cgroupfs (this sandbox's crun refuses
/// hybrid cgroups), stopped on drop.
struct Podman {
    dir: tempfile::TempDir,
    child: Child,
}

impl Podman {
    fn command(dir: &Path) -> Command {
        let mut cmd = Command::new("podman");
        cmd.arg("--root")
            .arg(dir.join("root"))
            .arg("--runroot")
            .arg(dir.join("run"))
            .arg("--tmpdir")
            .arg(dir.join("tmp"))
            .args([
                "--storage-driver",
                "vfs",
                "--events-backend",
                "file",
                "--runtime",
                "runc",
                "--cgroup-manager",
                "cgroupfs",
            ]);
        cmd
    }

    fn start() -> Option<Podman> {
        if Command::new("podman").arg("--version").output().is_err() {
            return skip("podman is not installed (apt-get install podman)");
        }
        let dir = tempfile::Builder::new()
            .prefix("bwpm")
            .tempdir_in("/tmp")
            .unwrap();
        let socket = dir.path().join("p.sock");
        let child = Self::command(dir.path())
            .args(["system", "service", "--time=0"])
            .arg(format!("unix://{}", socket.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("podman system service starts");
        let podman = Podman { dir, child };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            if Instant::now() > deadline {
                return skip("podman's API socket never came up");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(podman)
    }

    fn host(&self) -> String {
        format!("unix://{}", self.dir.path().join("p.sock").display())
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = Self::command(self.dir.path()).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "podman {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = Self::command(self.dir.path())
            .args(["rm", "-af", "-t", "0"])
            .output();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn runtime_audits_a_podman_container_through_its_api_service() {
    let Some(minbase) = test_image("minbase", &["docker-archive.tar"]) else {
        return;
    };
    let Some(podman) = Podman::start() else {
        return;
    };
    let archive: PathBuf = minbase.join("docker-archive.tar");
    podman.run(&["load", "-i", archive.to_str().unwrap()]);
    podman.run(&[
        "run",
        "-d",
        "--name",
        "pod-risky",
        "--network",
        "none",
        "--ulimit",
        "nofile=1024:1024",
        "--ulimit",
        "nproc=1024:1024",
        "--cap-add",
        "SYS_ADMIN",
        "localhost/bulwark-test/minbase:latest",
        "sleep",
        "600",
    ]);
    podman.run(&["exec", "pod-risky", "sh", "-c", "echo x > /tmp/after-start"]);
    let (code, report, stderr) = runtime_json(
        "--podman-host",
        &podman.host(),
        &["--engine", "podman", "--no-image-scan"],
    );
    assert_eq!(code, 0, "{stderr}");
    let found = findings_of(&report, "pod-risky");
    assert!(
        found.contains(&("BW-RT-002", "5.4".to_string())),
        "{found:?}"
    );
    assert!(
        found.contains(&("BW-RT-014", "4.1".to_string())),
        "{found:?}"
    );
    let c = container(&report, "pod-risky");
    assert_eq!(c["engine"], "podman");
    assert!(strings(&c["declared_capabilities"]).contains(&"SYS_ADMIN"));
    assert!(strings(&c["effective_capabilities"]).contains(&"SYS_ADMIN"));
    let drift: Vec<&str> = c["drift"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert!(drift.contains(&"/tmp/after-start"), "{drift:?}");
}
