//! Harbor's pluggable scanner API v1.1 against a real registry: Debian's `docker-registry`
//! started here on 127.0.0.1 with htpasswd Basic auth, the `minbase` test image pushed with
//! `skopeo copy`, and every reply validated against the spec's schemas
//! (tests/data/compat/harbor-scanner-adapter-v1.1.schema.json).

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

use super::common::*;

const REPORT_MIME: &str = "application/vnd.security.vulnerability.report; version=1.1";
const USER: &str = "harbor-robot";
const PASSWORD: &str = "s3cret-robot-pass";

/// A running `docker-registry` with htpasswd auth; killed when dropped.
struct Registry {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

impl Registry {
    fn start() -> Registry {
        let dir = tempfile::Builder::new()
            .prefix("bulwark-compat-registry-")
            .tempdir()
            .unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let htpasswd = run(Command::new("htpasswd").args(["-Bbn", USER, PASSWORD]));
        std::fs::write(dir.path().join("htpasswd"), htpasswd.stdout).unwrap();
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: bulwark-compat-test\nauth:\n  htpasswd:\n    realm: bulwark-compat\n    path: {}\n",
            dir.path().join("storage").display(),
            dir.path().join("htpasswd").display()
        );
        std::fs::write(dir.path().join("config.yml"), config).unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(dir.path().join("config.yml"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("docker-registry starts");
        let registry = Registry {
            child,
            port,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "docker-registry did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        registry
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Pushes an OCI layout as `repo:tag`; returns the manifest digest.
    fn push(&self, layout: &Path, repo: &str, tag: &str) -> String {
        let digest_file = self
            ._dir
            .path()
            .join(format!("{}.digest", repo.replace('/', "_")));
        run(Command::new("skopeo")
            .args([
                "--insecure-policy",
                "copy",
                "--quiet",
                "--dest-tls-verify=false",
            ])
            .args(["--dest-creds", &format!("{USER}:{PASSWORD}")])
            .arg("--digestfile")
            .arg(&digest_file)
            .arg(format!("oci:{}", layout.display()))
            .arg(format!("docker://{}/{repo}:{tag}", self.host())));
        std::fs::read_to_string(digest_file)
            .unwrap()
            .trim()
            .to_string()
    }
}

/// The `minbase` test image (Debian 12) as an OCI layout.
fn minbase() -> Option<PathBuf> {
    let layout = repo_root().join(".cache/testimages/minbase/oci");
    if layout.join("index.json").is_file() {
        return Some(layout);
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    assert!(
        !ci,
        "the test images are missing ({}); scripts/test.sh makes them",
        layout.display()
    );
    eprintln!(
        "\n!!!!! SKIPPING: no test images at {} !!!!!\n",
        layout.display()
    );
    None
}

fn schema_validator(def: &str) -> jsonschema::Validator {
    let mut schema: Value = serde_json::from_slice(
        &std::fs::read(data("harbor-scanner-adapter-v1.1.schema.json")).unwrap(),
    )
    .unwrap();
    schema["$ref"] = json!(format!("#/$defs/{def}"));
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the Harbor schema compiles")
}

fn assert_valid(def: &str, value: &Value) {
    let validator = schema_validator(def);
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{def} invalid: {errors:?}\n{value}");
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn scan_request(registry: &Registry, digest: &str, authorization: Option<String>) -> Value {
    let mut registry_json = json!({"url": format!("http://{}", registry.host())});
    if let Some(a) = authorization {
        registry_json["authorization"] = json!(a);
    }
    json!({
        "registry": registry_json,
        "artifact": {
            "repository": "library/minbase",
            "digest": digest,
            "tag": "12",
            "mime_type": "application/vnd.oci.image.manifest.v1+json"
        }
    })
}

fn post_scan(server: &TestServer, token: &str, body: &Value) -> Answer {
    send(
        "POST",
        &format!("{}/harbor/api/v1/scan", server.url),
        &[
            ("Authorization", &bearer(token)),
            (
                "Content-Type",
                "application/vnd.scanner.adapter.scan.request+json; version=1.0",
            ),
        ],
        body.to_string().as_bytes(),
    )
}

/// Polls the report as Harbor does: 302 with `Refresh-After` until 200 (or 500).
fn poll_report(server: &TestServer, token: &str, id: &str) -> Answer {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let a = get(
            &format!("{}/harbor/api/v1/scan/{id}/report", server.url),
            &[("Authorization", &bearer(token)), ("Accept", REPORT_MIME)],
        );
        if a.status != 302 {
            return a;
        }
        let refresh: u64 = a
            .header("Refresh-After")
            .and_then(|v| v.parse().ok())
            .expect("a 302 carries Refresh-After in seconds");
        assert!(refresh > 0);
        assert!(Instant::now() < deadline, "the scan did not finish in time");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Harbor's flow: metadata, a scan request naming the registry and robot credentials, 302s
/// while the scan runs, then a report that validates against the spec; the scan is stored as
/// a version of the repository's asset.
#[test]
fn harbor_scans_an_artifact_from_the_registry_it_names() {
    if !tools_present(
        &["docker-registry", "skopeo", "htpasswd"],
        "apt-get install docker-registry skopeo apache2-utils",
    ) {
        return;
    }
    let Some(layout) = minbase() else { return };
    let registry = Registry::start();
    let digest = registry.push(&layout, "library/minbase", "12");
    for server in servers() {
        let label = &server.label;
        let token = server.token(
            "harbor",
            &[bulwark_store::Scope::Upload, bulwark_store::Scope::Read],
        );

        let m = get(
            &format!("{}/harbor/api/v1/metadata", server.url),
            &[("Authorization", &bearer(&token))],
        );
        assert_eq!(m.status, 200, "{label}: {}", m.text());
        assert_eq!(
            m.header("content-type"),
            Some("application/vnd.scanner.adapter.metadata+json; version=1.0")
        );
        let metadata = m.json();
        assert_valid("ScannerAdapterMetadata", &metadata);
        assert_eq!(metadata["scanner"]["name"], "bulwark");
        assert!(metadata["capabilities"][0]["produces_mime_types"]
            .as_array()
            .unwrap()
            .contains(&json!(REPORT_MIME)));
        assert!(
            metadata["properties"]["harbor.scanner-adapter/vulnerability-database-updated-at"]
                .is_string()
        );

        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"))
        );
        let a = post_scan(
            &server,
            &token,
            &scan_request(&registry, &digest, Some(basic)),
        );
        assert_eq!(a.status, 202, "{label}: {}", a.text());
        let accepted = a.json();
        assert_valid("ScanResponse", &accepted);
        let id = accepted["id"].as_str().unwrap().to_string();

        let report = poll_report(&server, &token, &id);
        assert_eq!(report.status, 200, "{label}: {}", report.text());
        assert_eq!(report.header("content-type"), Some(REPORT_MIME));
        let report = report.json();
        assert_valid("HarborVulnerabilityReport", &report);
        assert_eq!(report["artifact"]["digest"], digest.as_str());
        assert_eq!(report["scanner"]["name"], "bulwark");
        let vulns = report["vulnerabilities"].as_array().unwrap();
        assert!(!vulns.is_empty(), "{label}: the Debian image has findings");
        assert!(vulns
            .iter()
            .all(|v| v["package"].is_string() && v["version"].is_string()));
        assert!(
            vulns.iter().any(|v| v["vendor_attributes"][0]["value"]
                .as_str()
                .is_some_and(|p| p.starts_with("pkg:deb/debian/"))),
            "{label}: OS packages are matched"
        );

        // Stored as the repository's asset, one version per digest.
        let admin = bulwark_store::Principal::system("test");
        let asset_name = format!("{}/library/minbase", registry.host());
        let asset = server
            .store
            .asset_by_name(&admin, &asset_name)
            .unwrap()
            .unwrap_or_else(|| panic!("{label}: no asset {asset_name}"));
        let version = server
            .store
            .version_by_key(&admin, asset.id, &digest)
            .unwrap()
            .expect("the digest is a version");
        assert_eq!(version.label.as_deref(), Some("12"));
        assert_eq!(asset.counts.total as usize, vulns.len(), "{label}");

        // A finding triaged as suppressed (bulwark's triage, e.g. from VEX or the DT API)
        // leaves the next report Harbor fetches.
        let first = &vulns[0];
        let purl = first["vendor_attributes"][0]["value"].as_str().unwrap();
        let triage = bulwark_store::TriageInput {
            state: bulwark_store::TriageState::NotAffected,
            justification: Some("CODE_NOT_REACHABLE".into()),
            response: None,
            comment: Some("harbor test".into()),
            suppressed: true,
        };
        server
            .store
            .set_triage(
                &admin,
                asset.id,
                first["id"].as_str().unwrap(),
                purl,
                &triage,
            )
            .unwrap();
        let again = poll_report(&server, &token, &id).json();
        assert_valid("HarborVulnerabilityReport", &again);
        assert_eq!(
            again["vulnerabilities"].as_array().unwrap().len(),
            vulns.len() - 1,
            "{label}: the suppressed finding is still reported"
        );

        // Another team's token does not see this scan.
        let other = server
            .store
            .create_token(
                &admin,
                "other",
                &[bulwark_store::Scope::Read],
                Some("other-team"),
            )
            .unwrap()
            .1;
        let hidden = get(
            &format!("{}/harbor/api/v1/scan/{id}/report", server.url),
            &[("Authorization", &bearer(&other)), ("Accept", REPORT_MIME)],
        );
        assert_eq!(hidden.status, 404, "{label}: {}", hidden.text());
    }
}

/// Bad requests get the spec's error shape: 400 for unreadable JSON, 422 for bad fields,
/// 404 for an unknown scan id; wrong registry credentials end the scan in a 500 that says so.
#[test]
fn harbor_bad_requests_get_the_specs_errors() {
    if !tools_present(
        &["docker-registry", "skopeo", "htpasswd"],
        "apt-get install docker-registry skopeo apache2-utils",
    ) {
        return;
    }
    let Some(layout) = minbase() else { return };
    let registry = Registry::start();
    let digest = registry.push(&layout, "library/minbase", "12");
    for server in servers() {
        let label = &server.label;
        let token = server.token(
            "harbor",
            &[bulwark_store::Scope::Upload, bulwark_store::Scope::Read],
        );
        let not_json = send(
            "POST",
            &format!("{}/harbor/api/v1/scan", server.url),
            &[("Authorization", &bearer(&token))],
            b"{not json",
        );
        assert_eq!(not_json.status, 400, "{label}");
        assert_eq!(
            not_json.header("content-type"),
            Some("application/vnd.scanner.adapter.error+json; version=1.0")
        );
        assert_valid("ErrorResponse", &not_json.json());

        let mut bad_digest = scan_request(&registry, &digest, None);
        bad_digest["artifact"]["digest"] = json!("sha256:123");
        let a = post_scan(&server, &token, &bad_digest);
        assert_eq!(a.status, 422, "{label}");
        assert!(a.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("digest"));

        let mut bearer_auth = scan_request(&registry, &digest, Some("Bearer abc".into()));
        bearer_auth["artifact"]["repository"] = json!("library/minbase");
        assert_eq!(
            post_scan(&server, &token, &bearer_auth).status,
            422,
            "{label}"
        );

        let unknown = get(
            &format!("{}/harbor/api/v1/scan/nope/report", server.url),
            &[("Authorization", &bearer(&token)), ("Accept", REPORT_MIME)],
        );
        assert_eq!(unknown.status, 404, "{label}");
        assert_valid("ErrorResponse", &unknown.json());

        // Without credentials the registry refuses the pull: the report says so (500).
        let a = post_scan(&server, &token, &scan_request(&registry, &digest, None));
        assert_eq!(a.status, 202, "{label}: {}", a.text());
        let id = a.json()["id"].as_str().unwrap().to_string();
        let failed = poll_report(&server, &token, &id);
        assert_eq!(failed.status, 500, "{label}: {}", failed.text());
        let message = failed.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            message.to_lowercase().contains("auth") || message.contains("401"),
            "{label}: {message}"
        );

        // A read-only token cannot start scans; no token at all is 401.
        let reader = server.token("reader", &[bulwark_store::Scope::Read]);
        assert_eq!(
            post_scan(&server, &reader, &scan_request(&registry, &digest, None)).status,
            403
        );
        let anonymous = send(
            "POST",
            &format!("{}/harbor/api/v1/scan", server.url),
            &[],
            scan_request(&registry, &digest, None)
                .to_string()
                .as_bytes(),
        );
        assert_eq!(anonymous.status, 401, "{label}");
        // Nothing was stored by the refused or failed scans.
        let admin = bulwark_store::Principal::system("test");
        let assets = server
            .store
            .list_assets(
                &admin,
                &bulwark_store::AssetFilter::default(),
                bulwark_store::Page::default(),
            )
            .unwrap();
        assert_eq!(assets.total, 0, "{label}");
    }
}
