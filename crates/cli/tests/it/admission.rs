//! `bulwark admission` as a cluster runs it (the real binary over TLS, real AdmissionReview v1
//! requests): modes per namespace, signatures from a real registry (`docker-registry`),
//! vulnerability gates from a real `bulwark server`'s stored results (SQLite and
//! PostgreSQL), dry runs, malformed and oversized reviews; and the shipped manifests
//! (deploy/admission) pass bulwark's own PSS-restricted checks.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::registry::{
    bulwark_env, make_pki, run, small_image, tools_present, Pki, Registry, RegistryConfig,
};
use crate::server::{advisory, image as vulnerable_image, start as start_server, ADMIN};
use crate::util::{bulwark, Compression, ImageBuilder, LayerBuilder};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn shipped_manifests_pass_bulwarks_own_pss_restricted_checks() {
    let deploy = repo_root().join("deploy/admission");
    let out = bulwark(&[
        "config",
        "--compliance",
        "pss-restricted",
        deploy.to_str().unwrap(),
    ]);
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(report["fail"], 0, "{report}");
    assert_eq!(report["not_scanned"], 0, "{report}");
    // And no finding of any other check either.
    let out = bulwark(&["config", "-f", "json", deploy.to_str().unwrap()]);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["misconfigurations"]
            .as_array()
            .is_none_or(|m| m.is_empty()),
        "{report}"
    );
    // The parts the webhook's availability depends on.
    let text = |name: &str| std::fs::read_to_string(deploy.join(name)).unwrap();
    assert!(text("deployment.yaml").contains("replicas: 2"));
    assert!(text("pdb.yaml").contains("kind: PodDisruptionBudget"));
    let webhook = text("webhook.yaml");
    for needed in [
        "sideEffects: None",
        "admissionReviewVersions: [\"v1\"]",
        "timeoutSeconds:",
        "failurePolicy: Fail",
        "kube-system",
        "bulwark-admission",
        "path: /validate",
    ] {
        assert!(webhook.contains(needed), "webhook.yaml lacks {needed}");
    }
}

struct Webhook {
    child: Child,
    url: String,
    log: PathBuf,
    agent: ureq::Agent,
}

impl Drop for Webhook {
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

/// An HTTPS client that trusts only the test CA.
fn tls_agent(ca: &Path) -> ureq::Agent {
    use rustls_pki_types::pem::PemObject;
    let certs: Vec<ureq::tls::Certificate<'static>> =
        rustls_pki_types::CertificateDer::pem_file_iter(ca)
            .unwrap()
            .map(|c| ureq::tls::Certificate::from_der(c.unwrap().as_ref()).to_owned())
            .collect();
    let tls = ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .root_certs(ureq::tls::RootCerts::Specific(Arc::new(certs)))
        .build();
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .tls_config(tls)
        .build()
        .new_agent()
}

fn start_webhook(dir: &Path, pki: &Pki, extra: &[&str]) -> Webhook {
    let port = free_port();
    let log = dir.join(format!("audit-{port}.log"));
    let errors = dir.join(format!("webhook-{port}.err"));
    let child = Command::new(env!("CARGO_BIN_EXE_bulwark"))
        .args(["admission", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--tls-cert")
        .arg(&pki.cert)
        .arg("--tls-key")
        .arg(&pki.key)
        .args(extra)
        .env_remove("BULWARK_TOKEN")
        .env_remove("BULWARK_CONFIG")
        .env("DOCKER_CONFIG", dir.join("no-docker-config"))
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(&errors).unwrap())
        .spawn()
        .expect("bulwark admission starts");
    let webhook = Webhook {
        child,
        url: format!("https://127.0.0.1:{port}"),
        log,
        agent: tls_agent(&pki.ca),
    };
    let started = Instant::now();
    loop {
        if let Ok(r) = webhook.agent.get(format!("{}/healthz", webhook.url)).call() {
            if r.status() == 200 {
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the webhook listens within 30 s: {}",
            std::fs::read_to_string(&errors).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    webhook
}

impl Webhook {
    fn post(&self, body: &[u8]) -> (u16, Value) {
        let mut r = self
            .agent
            .post(format!("{}/validate", self.url))
            .header("Content-Type", "application/json")
            .send(body)
            .unwrap();
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    fn review(&self, review: &Value) -> Value {
        let (status, body) = self.post(review.to_string().as_bytes());
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["apiVersion"], "admission.k8s.io/v1", "{body}");
        assert_eq!(body["kind"], "AdmissionReview", "{body}");
        assert_eq!(body["response"]["uid"], review["request"]["uid"], "{body}");
        body["response"].clone()
    }

    fn audit(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

/// An AdmissionReview v1 for creating `pod` in `namespace`.
fn review(uid: &str, namespace: &str, pod: Value) -> Value {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
            "requestResource": {"group": "", "version": "v1", "resource": "pods"},
            "name": pod["metadata"]["name"],
            "namespace": namespace,
            "operation": "CREATE",
            "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
            "object": pod,
            "oldObject": null,
            "dryRun": false,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}
        }
    })
}

/// A pod that passes the restricted Pod Security Standard.
fn pod(name: &str, image: &str, privileged: bool) -> Value {
    let mut security = json!({
        "allowPrivilegeEscalation": false,
        "readOnlyRootFilesystem": true,
        "capabilities": {"drop": ["ALL"]}
    });
    if privileged {
        security["privileged"] = json!(true);
    }
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "automountServiceAccountToken": false,
            "securityContext": {"runAsNonRoot": true, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "app",
                "image": image,
                "securityContext": security,
                "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}, "requests": {"cpu": "50m", "memory": "32Mi"}},
                "livenessProbe": {"httpGet": {"path": "/", "port": 8080}},
                "readinessProbe": {"httpGet": {"path": "/", "port": 8080}}
            }]
        }
    })
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn webhook_over_tls_applies_modes_signatures_and_stored_results() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let pki = make_pki(dir);
    let registry = Registry::start(dir, &dir.join("storage"), RegistryConfig::default());
    let host = registry.host();

    // Three images: a clean one and a vulnerable one (coreutils 9.1-1), both signed, and an
    // unsigned one.
    let clean_layout = dir.join("clean");
    small_image(&clean_layout);
    registry.push(
        &format!("oci:{}", clean_layout.display()),
        "app:clean",
        None,
        None,
    );
    let vulnerable = vulnerable_image(&dir.join("vuln"));
    registry.push(&vulnerable, "app:vuln", None, None);
    let unsigned_layout = dir.join("unsigned");
    ImageBuilder::new()
        .layer(
            LayerBuilder::new()
                .file("etc/unsigned", b"nobody signed me\n")
                .finish(),
            Compression::Gzip,
            "ADD unsigned",
        )
        .write_oci(&unsigned_layout);
    registry.push(
        &format!("oci:{}", unsigned_layout.display()),
        "app:unsigned",
        None,
        None,
    );
    let key = |name: &str| dir.join(name).to_str().unwrap().to_string();
    run(Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
        ])
        .arg(key("cosign.pem")));
    run(Command::new("openssl").args([
        "pkey",
        "-in",
        &key("cosign.pem"),
        "-pubout",
        "-out",
        &key("cosign.pub"),
    ]));
    for tag in ["clean", "vuln"] {
        ok(&bulwark_env(
            &[
                "sign",
                &format!("{host}/app:{tag}"),
                "--key",
                &key("cosign.pem"),
                "--insecure",
            ],
            &[],
            None,
        ));
    }
    // The clean image pinned by digest, as a Deployment would name it.
    let clean_digest = ok(&bulwark_env(
        &[
            "verify",
            &format!("{host}/app:clean"),
            "--key",
            &key("cosign.pub"),
            "--insecure",
        ],
        &[],
        None,
    ));
    let clean = format!("{host}/app@{}", clean_digest.trim());

    std::fs::write(
        dir.join("bulwark.yaml"),
        "registry:\n  insecure: true\nadmission:\n  default: enforce\n  namespaces: {dev: warn, legacy: audit}\n  require-signature: cosign.pub\n",
    )
    .unwrap();
    let config = key("bulwark.yaml");

    for db in bulwark_store::testing::databases() {
        let data = dir.join(format!("data-{}", db.label()));
        let server = start_server(&data, &db.url());
        let advisories = data.join("advisories");
        ok(&bulwark(&[
            "db",
            "import",
            "--db-dir",
            advisories.to_str().unwrap(),
            &advisory(dir),
        ]));
        // CI scans the vulnerable image and uploads it: the server stores it by digest.
        let out = bulwark_env(
            &[
                "image",
                &format!("{host}/app:vuln"),
                "--insecure",
                "--no-cache",
                "-f",
                "json",
                "--db-dir",
                advisories.to_str().unwrap(),
                "--upload",
                &server.url,
                "--token",
                ADMIN,
            ],
            &[],
            None,
        );
        let report: Value = serde_json::from_str(&ok(&out)).unwrap();
        assert_eq!(
            report["vulnerabilities"][0]["id"],
            "CVE-2099-0001",
            "{}",
            db.label()
        );

        let webhook = start_webhook(
            dir,
            &pki,
            &[
                "--config",
                &config,
                "--server",
                &server.url,
                "--token",
                ADMIN,
            ],
        );

        // A privileged pod: denied in an enforce namespace, with the reasons...
        let r = webhook.review(&review("uid-priv-prod", "prod", pod("p", &clean, true)));
        assert_eq!(r["allowed"], false, "{}: {r}", db.label());
        let message = r["status"]["message"].as_str().unwrap();
        assert!(message.contains("BW-K8S-001"), "{message}");
        assert!(message.contains("Pod/prod/p"), "{message}");
        // ...only warned in a warn namespace, and silently admitted (logged) in audit.
        let r = webhook.review(&review("uid-priv-dev", "dev", pod("p", &clean, true)));
        assert_eq!(r["allowed"], true, "{r}");
        assert!(r["warnings"].to_string().contains("BW-K8S-001"), "{r}");
        let r = webhook.review(&review("uid-priv-legacy", "legacy", pod("p", &clean, true)));
        assert_eq!(r["allowed"], true, "{r}");
        assert!(r.get("warnings").is_none(), "{r}");

        // The clean, signed, known image passes.
        let r = webhook.review(&review("uid-clean", "prod", pod("c", &clean, false)));
        assert_eq!(r["allowed"], true, "{}: {r}", db.label());

        // An unsigned image is denied when signatures are required.
        let r = webhook.review(&review(
            "uid-unsigned",
            "prod",
            pod("u", &format!("{host}/app:unsigned"), false),
        ));
        assert_eq!(r["allowed"], false, "{r}");
        assert!(
            r["status"]["message"]
                .as_str()
                .unwrap()
                .contains("not signed"),
            "{r}"
        );

        // A known image with a critical vulnerability: denied through the stored results (by
        // tag: the webhook resolves the digest and finds the upload).
        let r = webhook.review(&review(
            "uid-vuln",
            "prod",
            pod("v", &format!("{host}/app:vuln"), false),
        ));
        assert_eq!(r["allowed"], false, "{}: {r}", db.label());
        let message = r["status"]["message"].as_str().unwrap();
        assert!(message.contains("CVE-2099-0001"), "{message}");
        assert!(!message.contains("not signed"), "{message}");

        // A dry run gets the same answer and leaves no audit entry.
        let mut dry = review("uid-dry-run", "prod", pod("d", &clean, true));
        dry["request"]["dryRun"] = json!(true);
        assert_eq!(webhook.review(&dry)["allowed"], false);

        // Malformed reviews are 400 with a message, never a crash; the webhook still answers.
        for (body, expected) in [
            (b"{not json".to_vec(), "not JSON"),
            (br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"kind":{"kind":"Pod"},"operation":"CREATE"}}"#.to_vec(), "request.uid"),
            (br#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{}}"#.to_vec(), "v1"),
        ] {
            let (status, body) = webhook.post(&body);
            assert_eq!(status, 400, "{body}");
            assert!(body["error"]["message"].as_str().unwrap().contains(expected), "{body}");
        }
        let r = webhook
            .agent
            .get(format!("{}/readyz", webhook.url))
            .call()
            .unwrap();
        assert_eq!(r.status(), 200);

        // Every real decision is in the audit log; the dry run is not.
        let audit = webhook.audit();
        let uids: Vec<&str> = audit.iter().filter_map(|l| l["uid"].as_str()).collect();
        for uid in [
            "uid-priv-prod",
            "uid-priv-dev",
            "uid-priv-legacy",
            "uid-vuln",
            "uid-unsigned",
        ] {
            assert!(uids.contains(&uid), "{uid} not logged: {uids:?}");
        }
        assert!(!uids.contains(&"uid-dry-run"), "{uids:?}");
        let legacy = audit
            .iter()
            .find(|l| l["uid"] == "uid-priv-legacy")
            .unwrap();
        assert_eq!(legacy["mode"], "audit");
        assert!(
            legacy["reasons"].to_string().contains("BW-K8S-001"),
            "{legacy}"
        );
        drop(webhook);

        // No upload, no server: --scan-on-miss scans the image through the registry within
        // the lookup budget and denies it on what the scan finds.
        if db.label() == "sqlite" {
            let webhook = start_webhook(
                dir,
                &pki,
                &[
                    "--config",
                    &config,
                    "--scan-on-miss",
                    "--db-dir",
                    advisories.to_str().unwrap(),
                    "--lookup-budget",
                    "20000",
                ],
            );
            let r = webhook.review(&review(
                "uid-scan-on-miss",
                "prod",
                pod("v", &format!("{host}/app:vuln"), false),
            ));
            assert_eq!(r["allowed"], false, "{r}");
            assert!(
                r["status"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("CVE-2099-0001"),
                "{r}"
            );
            let r = webhook.review(&review("uid-scan-clean", "prod", pod("c", &clean, false)));
            assert_eq!(r["allowed"], true, "{r}");
            assert!(r.get("warnings").is_none(), "scanned, so known: {r}");
        }
        drop(server);
    }
}

#[test]
fn oversized_reviews_are_413_and_the_key_must_exist() {
    if !tools_present() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let pki = make_pki(dir);
    let webhook = start_webhook(dir, &pki, &["--max-body-size", "64K"]);
    let big = review("uid-big", "prod", pod(&"x".repeat(100_000), "nginx", false));
    // The webhook answers 413 from the Content-Length and closes: a client still sending the
    // body may see the connection closed under it instead of reading the answer. Either way
    // the review was refused before its body was read; a webhook that read it would answer 200.
    let sent = webhook
        .agent
        .post(format!("{}/validate", webhook.url))
        .header("Content-Type", "application/json")
        .send(big.to_string().as_bytes());
    match sent {
        Ok(r) => assert_eq!(r.status().as_u16(), 413),
        Err(ureq::Error::Io(e)) => assert!(
            matches!(
                e.kind(),
                std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
            ),
            "{e}"
        ),
        Err(e) => panic!("an oversized review is refused with 413, not {e}"),
    }
    // Without --server or a key, an image is unknown: admitted with a warning.
    let r = webhook.review(&review(
        "uid-small",
        "prod",
        pod("s", "registry.example/app:1", false),
    ));
    assert_eq!(r["allowed"], true, "{r}");
    assert!(r["warnings"].to_string().contains("no scan result"), "{r}");

    std::fs::write(
        dir.join("bulwark.yaml"),
        "admission:\n  require-signature: missing.pub\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_bulwark"))
        .args(["admission", "--listen", "127.0.0.1:0", "--config"])
        .arg(dir.join("bulwark.yaml"))
        .arg("--tls-cert")
        .arg(&pki.cert)
        .arg("--tls-key")
        .arg(&pki.key)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("missing.pub"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
