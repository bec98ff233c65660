//! `bulwark server` as a user runs it (the real binary), against SQLite and PostgreSQL:
//! `db import --db-dir` into its advisory store, `bulwark image --upload`, triage exported as
//! VEX that suppresses the finding in `bulwark image --vex`, and `kill -9` in the middle of
//! ingests losing nothing committed.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::util::{
    bulwark, dpkg_stanza, os_release_debian, Compression, ImageBuilder, LayerBuilder,
};

pub(crate) const ADMIN: &str = "bwk_cli_test_admin_token_0123456789";

pub(crate) struct Server {
    child: Child,
    pub(crate) url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) fn start(data: &Path, database: &str) -> Server {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_bulwark"))
        .args([
            "server",
            "--data-dir",
            data.to_str().unwrap(),
            "--database",
            database,
        ])
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--rematch-poll",
            "200",
            // No downloads from the test machine: the tests import their advisories.
            "--db-update-every",
            "0",
        ])
        .env("BULWARK_ADMIN_TOKEN", ADMIN)
        .env_remove("BULWARK_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("bulwark server starts");
    let server = Server {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let started = Instant::now();
    while ureq::get(format!("{}/healthz", server.url)).call().is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server listens within 30 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::config::Config::builder()
            .http_status_as_error(false)
            .build(),
    )
}

fn get(server: &Server, path: &str) -> Value {
    let mut r = agent()
        .get(format!("{}{path}", server.url))
        .header("Authorization", format!("Bearer {ADMIN}"))
        .call()
        .unwrap();
    serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap()
}

/// A Debian 12 image with coreutils 9.1-1.
pub(crate) fn image(dir: &Path) -> String {
    let status = dpkg_stanza("coreutils", "9.1-1", None);
    let layer = LayerBuilder::new()
        .file("etc/os-release", os_release_debian())
        .file("var/lib/dpkg/status", status.as_bytes())
        .finish();
    let oci = dir.join("oci");
    ImageBuilder::new()
        .layer(layer, Compression::Gzip, "RUN apt-get install -y coreutils")
        .write_oci(&oci);
    format!("oci:{}", oci.display())
}

pub(crate) fn advisory(dir: &Path) -> String {
    let path = dir.join("DSA-9999-1.json");
    let osv = json!({
        "schema_version": "1.6.0", "id": "DSA-9999-1", "modified": "2026-01-01T00:00:00Z",
        "aliases": ["CVE-2099-0001"], "summary": "coreutils test flaw",
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [{"package": {"ecosystem": "Debian:12", "name": "coreutils"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "9.1-2"}]}]}]
    });
    std::fs::write(&path, serde_json::to_vec(&osv).unwrap()).unwrap();
    path.display().to_string()
}

fn cves(report: &Value) -> Vec<String> {
    report["vulnerabilities"]
        .as_array()
        .map(|v| {
            v.iter()
                .filter_map(|f| f["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn upload_then_triage_exported_as_vex_suppresses_the_finding_in_a_local_scan() {
    for db in bulwark_store::testing::databases() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let server = start(&data, &db.url());
        let advisories = data.join("advisories");
        let out = bulwark(&[
            "db",
            "import",
            "--db-dir",
            advisories.to_str().unwrap(),
            &advisory(tmp.path()),
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let reference = image(tmp.path());
        let scan = |extra: &[&str]| {
            let mut args = vec![
                "image",
                reference.as_str(),
                "-f",
                "json",
                "--no-cache",
                "--db-dir",
                advisories.to_str().unwrap(),
            ];
            args.extend_from_slice(extra);
            Command::new(env!("CARGO_BIN_EXE_bulwark"))
                .args(&args)
                .env_remove("BULWARK_TOKEN")
                .env_remove("BULWARK_UPLOAD")
                .env("GITHUB_ACTIONS", "true")
                .env("GITHUB_SHA", "0123abc")
                .output()
                .unwrap()
        };
        // A failed upload (a wrong token): the report is still printed, the run fails.
        let out = scan(&["--upload", &server.url, "--token", "bwk_wrong"]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{}: {}",
            db.label(),
            String::from_utf8_lossy(&out.stderr)
        );
        let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(cves(&printed), ["CVE-2099-0001"], "{}", db.label());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("refused the report"),
            "{}",
            db.label()
        );

        let out = scan(&[
            "--upload",
            &server.url,
            "--token",
            ADMIN,
            "--upload-asset",
            "shop/app",
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            db.label(),
            String::from_utf8_lossy(&out.stderr)
        );
        let assets = get(&server, "/api/v1/assets?name=shop/app");
        assert_eq!(assets["total"], 1, "{}: {assets}", db.label());
        let uuid = assets["items"][0]["uuid"].as_str().unwrap().to_string();
        assert_eq!(
            assets["items"][0]["latest_version"]["ci"]["commit"],
            "0123abc",
            "{}: {assets}",
            db.label()
        );
        let findings = get(&server, &format!("/api/v1/assets/{uuid}/findings"));
        assert_eq!(
            findings["items"][0]["vuln_id"],
            "CVE-2099-0001",
            "{}: {findings}",
            db.label()
        );
        let id = findings["items"][0]["id"].as_i64().unwrap();
        let r = agent()
            .put(format!("{}/api/v1/findings/{id}/triage", server.url))
            .header("Authorization", format!("Bearer {ADMIN}"))
            .header("Content-Type", "application/json")
            .send(
                &serde_json::to_vec(
                    &json!({"state": "NOT_AFFECTED", "justification": "CODE_NOT_PRESENT"}),
                )
                .unwrap()[..],
            )
            .unwrap();
        assert_eq!(r.status(), 200, "{}", db.label());
        for format in ["openvex", "cyclonedx"] {
            let vex = get(
                &server,
                &format!("/api/v1/assets/{uuid}/vex?format={format}"),
            );
            let file = tmp.path().join(format!("{format}.vex.json"));
            std::fs::write(&file, serde_json::to_vec(&vex).unwrap()).unwrap();
            let out = scan(&["--vex", file.to_str().unwrap()]);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let report: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert!(
                cves(&report).is_empty(),
                "{} {format}: suppressed: {:?}",
                db.label(),
                cves(&report)
            );
        }
    }
}

/// `kill -9` of the server while uploads are in flight, then a restart: every upload that
/// was acknowledged is there, and every stored version is whole (all its components and its
/// finding), none half-written.
#[test]
fn kill_9_in_the_middle_of_ingests_loses_nothing_committed() {
    let sbom = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../scan/tests/data/sboms/syft-minbase.cdx.json"),
    )
    .unwrap();
    for db in bulwark_store::testing::databases() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let mut server = start(&data, &db.url());
        let out = bulwark(&[
            "db",
            "import",
            "--db-dir",
            data.join("advisories").to_str().unwrap(),
            &advisory(tmp.path()),
        ]);
        assert_eq!(out.status.code(), Some(0));
        let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let uploaders: Vec<_> = (0..4)
            .map(|t| {
                let url = server.url.clone();
                let sbom = sbom.clone();
                let acknowledged = acknowledged.clone();
                std::thread::spawn(move || {
                    for n in 0..1000 {
                        let version = format!("sha256:{t:02}{n:06}");
                        let r = agent()
                            .post(format!(
                                "{url}/api/v1/reports?asset=crash&version={version}"
                            ))
                            .header("Authorization", format!("Bearer {ADMIN}"))
                            .header("Content-Type", "application/json")
                            .send(&sbom[..]);
                        match r {
                            Ok(r) if r.status().is_success() => {
                                acknowledged.lock().unwrap().push(version)
                            }
                            _ => return,
                        }
                    }
                })
            })
            .collect();
        // Let some land, then kill -9 mid-stream.
        let started = Instant::now();
        while acknowledged.lock().unwrap().len() < 8 {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{}: uploads land",
                db.label()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server.child.kill().unwrap(); // SIGKILL
        server.child.wait().unwrap();
        for u in uploaders {
            u.join().unwrap();
        }
        let acknowledged = acknowledged.lock().unwrap().clone();
        drop(server);
        let server = start(&data, &db.url());
        let assets = get(&server, "/api/v1/assets?name=crash");
        let uuid = assets["items"][0]["uuid"].as_str().unwrap().to_string();
        let versions = get(
            &server,
            &format!("/api/v1/assets/{uuid}/versions?limit=1000"),
        );
        let stored: Vec<&Value> = versions["items"].as_array().unwrap().iter().collect();
        let keys: Vec<&str> = stored
            .iter()
            .filter_map(|v| v["version_key"].as_str())
            .collect();
        for a in &acknowledged {
            assert!(
                keys.contains(&a.as_str()),
                "{}: acknowledged {a} is stored",
                db.label()
            );
        }
        for v in &stored {
            assert_eq!(
                v["component_count"],
                91,
                "{}: whole version {v}",
                db.label()
            );
            let uuid = v["uuid"].as_str().unwrap();
            let findings = get(&server, &format!("/api/v1/versions/{uuid}/findings"));
            assert_eq!(
                findings["total"],
                1,
                "{}: the version's finding {findings}",
                db.label()
            );
        }
        eprintln!(
            "{}: {} acknowledged, {} stored after kill -9",
            db.label(),
            acknowledged.len(),
            stored.len()
        );
    }
}
