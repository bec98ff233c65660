//! The admission webhook host (`bulwark_server::admission`) over TLS with a scripted verdict
//! source: a lookup past the budget is decided as an unknown image (the failure policy) and
//! fills the cache for the next review; and the stored-results route it reads,
//! `GET /api/v1/digests/{digest}/findings`, on SQLite and PostgreSQL.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bulwark_k8s::admission::{
    AdmissionPolicy, AdmissionSection, ImageVerdict, ImageVuln, SignatureState, UnknownImages,
    VulnState,
};
use bulwark_server::admission::{AdmissionConfig, VerdictSource};
use bulwark_server::state::TlsFiles;
use bulwark_store::testing::databases;
use bulwark_types::Severity;
use serde_json::{json, Value};

use crate::common::{fixture, TestServer, ADMIN};

fn openssl(args: &[&str], dir: &Path) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a certificate for 127.0.0.1 it signed: (ca, cert, key).
fn pki(dir: &Path) -> (std::path::PathBuf, TlsFiles) {
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.crt",
        ],
        dir,
    );
    openssl(
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            "tls.key",
            "-out",
            "tls.csr",
        ],
        dir,
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        &[
            "x509",
            "-req",
            "-days",
            "2",
            "-CAcreateserial",
            "-in",
            "tls.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-extfile",
            "ext.cnf",
            "-out",
            "tls.crt",
        ],
        dir,
    );
    (
        dir.join("ca.crt"),
        TlsFiles {
            cert: dir.join("tls.crt"),
            key: dir.join("tls.key"),
        },
    )
}

fn agent(ca: &Path) -> ureq::Agent {
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
        .tls_config(tls)
        .build()
        .new_agent()
}

/// Answers after `delay`, with a critical vulnerability; counts its lookups.
struct Slow {
    delay: Duration,
    lookups: AtomicUsize,
}

impl VerdictSource for Slow {
    fn lookup(&self, _image: &str) -> ImageVerdict {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(self.delay);
        ImageVerdict {
            digest: None,
            signature: SignatureState::Unknown("no key".into()),
            vulnerabilities: VulnState::Known(vec![ImageVuln {
                id: "CVE-2099-0002".into(),
                ids: vec!["CVE-2099-0002".into()],
                package: "openssl".into(),
                purl: None,
                severity: Severity::Critical,
                fixable: true,
                kev: false,
                epss: None,
            }]),
        }
    }
}

fn review(uid: &str, image: &str) -> Value {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "name": "p",
            "namespace": "prod",
            "operation": "CREATE",
            "object": {
                "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
                "spec": {"containers": [{"name": "c", "image": image}]}
            },
            "dryRun": false
        }
    })
}

#[test]
fn a_lookup_past_the_budget_is_an_unknown_image_and_fills_the_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let (ca, tls) = pki(tmp.path());
    let source = Arc::new(Slow {
        delay: Duration::from_millis(600),
        lookups: AtomicUsize::new(0),
    });
    let mut policy = AdmissionPolicy {
        // Manifest findings are beside the point here.
        misconfig_gate: bulwark_policy::SeverityFilter::AnyOf(vec![Severity::Unknown]),
        ..AdmissionPolicy::default()
    };
    policy.section = AdmissionSection::default();
    let mut config = AdmissionConfig::new("127.0.0.1:0".parse().unwrap(), policy, source.clone());
    config.tls = Some(tls);
    config.lookup_budget = Duration::from_millis(100);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let running = runtime
        .block_on(bulwark_server::admission::start(config))
        .unwrap();
    assert_eq!(running.scheme, "https");
    let agent = agent(&ca);
    let post = |body: &Value| -> Value {
        let mut r = agent
            .post(format!("{}/validate", running.url()))
            .header("Content-Type", "application/json")
            .send(body.to_string().as_bytes())
            .unwrap();
        assert_eq!(r.status(), 200);
        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap()
    };
    let image = "registry.example/app:1";
    let started = std::time::Instant::now();
    let first = post(&review("u1", image));
    assert!(
        started.elapsed() < Duration::from_millis(550),
        "{:?}",
        started.elapsed()
    );
    // Unknown within the budget: admitted with a warning (unknown-images: allow)...
    assert_eq!(first["response"]["uid"], "u1");
    assert_eq!(first["response"]["allowed"], true, "{first}");
    assert!(
        first["response"]["warnings"]
            .to_string()
            .contains("did not finish"),
        "{first}"
    );
    // ...a second review meanwhile joins the same lookup instead of starting another...
    let second = post(&review("u2", image));
    assert_eq!(second["response"]["allowed"], true);
    // ...and once it is done, the cached verdict decides at once.
    std::thread::sleep(Duration::from_millis(700));
    let started = std::time::Instant::now();
    let third = post(&review("u3", image));
    assert!(started.elapsed() < Duration::from_millis(300));
    assert_eq!(third["response"]["allowed"], false, "{third}");
    assert!(third["response"]["status"]["message"]
        .to_string()
        .contains("CVE-2099-0002"));
    assert_eq!(source.lookups.load(Ordering::SeqCst), 1);
    runtime
        .block_on(running.shutdown(Duration::from_secs(1)))
        .unwrap();

    // With unknown-images: deny, the same timeout denies.
    let source = Arc::new(Slow {
        delay: Duration::from_millis(600),
        lookups: AtomicUsize::new(0),
    });
    let policy = AdmissionPolicy {
        section: AdmissionSection {
            unknown_images: UnknownImages::Deny,
            ..AdmissionSection::default()
        },
        misconfig_gate: bulwark_policy::SeverityFilter::AnyOf(vec![Severity::Unknown]),
        ..AdmissionPolicy::default()
    };
    let mut config = AdmissionConfig::new("127.0.0.1:0".parse().unwrap(), policy, source);
    config.tls = Some(TlsFiles {
        cert: tmp.path().join("tls.crt"),
        key: tmp.path().join("tls.key"),
    });
    config.lookup_budget = Duration::from_millis(100);
    let running = runtime
        .block_on(bulwark_server::admission::start(config))
        .unwrap();
    let mut r = agent
        .post(format!("{}/validate", running.url()))
        .send(review("u4", image).to_string().as_bytes())
        .unwrap();
    let body: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(body["response"]["allowed"], false, "{body}");
    runtime
        .block_on(running.shutdown(Duration::from_secs(1)))
        .unwrap();
}

#[test]
fn stored_results_are_found_by_digest() {
    let digest = "sha256:65629c10ede7be63a92ac3d142053b28019f1b3a0489eba358e5a230e58103f7";
    for db in databases() {
        let server = TestServer::start(&db);
        server.import_advisory(
            &crate::common::debian_advisory("DSA-9999-1", "CVE-2099-0001", "coreutils", "9.1-2"),
            "test",
        );
        let (status, reply) = server.post(
            &format!("/api/v1/reports?asset=shop/app&version={digest}"),
            ADMIN,
            &fixture("syft-minbase.cdx.json"),
        );
        assert_eq!(status, 201, "{}: {reply}", server.db);
        let (status, found) = server.get(
            &format!("/api/v1/digests/{digest}/findings?state=open"),
            ADMIN,
        );
        assert_eq!(status, 200, "{}: {found}", server.db);
        assert_eq!(
            found["items"][0]["vuln_id"], "CVE-2099-0001",
            "{}: {found}",
            server.db
        );
        assert_eq!(found["items"][0]["severity"], "critical", "{}", server.db);
        let other = format!("sha256:{}", "0".repeat(64));
        let (status, body) = server.get(&format!("/api/v1/digests/{other}/findings"), ADMIN);
        assert_eq!(status, 404, "{}: {body}", server.db);
        let (status, body) = server.get("/api/v1/digests/latest/findings", ADMIN);
        assert_eq!(status, 400, "{}: {body}", server.db);
        assert!(body.to_string().contains("not an image digest"), "{body}");
        // Another team's token does not see it.
        let token = server.token("other", &["read"], Some("other-team"));
        let (status, _) = server.get(&format!("/api/v1/digests/{digest}/findings"), &token);
        assert_eq!(status, 404, "{}", server.db);
    }
}

#[test]
fn a_renewed_certificate_is_served_without_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let first = tmp.path().join("first");
    let second = tmp.path().join("second");
    std::fs::create_dir_all(&first).unwrap();
    std::fs::create_dir_all(&second).unwrap();
    let (first_ca, tls) = pki(&first);
    let (second_ca, renewed) = pki(&second);
    let mut config = AdmissionConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        AdmissionPolicy::default(),
        Arc::new(bulwark_server::admission::NoSource),
    );
    config.tls = Some(tls.clone());
    config.cert_poll = Duration::from_millis(50);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let running = runtime
        .block_on(bulwark_server::admission::start(config))
        .unwrap();
    let healthz = |ca: &Path| {
        agent(ca)
            .get(format!("{}/healthz", running.url()))
            .call()
            .map(|r| r.status().as_u16())
            .ok()
    };
    assert_eq!(healthz(&first_ca), Some(200));
    assert_eq!(
        healthz(&second_ca),
        None,
        "the second CA did not sign the first certificate"
    );
    // The Secret is renewed: new files in place (key first, as a half-written pair would be).
    std::thread::sleep(Duration::from_millis(20));
    std::fs::copy(&renewed.key, &tls.key).unwrap();
    std::fs::copy(&renewed.cert, &tls.cert).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while healthz(&second_ca) != Some(200) {
        assert!(
            std::time::Instant::now() < deadline,
            "the renewed certificate was not served"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(healthz(&first_ca), None);
    runtime
        .block_on(running.shutdown(Duration::from_secs(1)))
        .unwrap();
}
