//! The admission decision on real AdmissionReview v1 requests (the HTTP host's tests, over
//! TLS, are in bulwark-server's `tests/it/admission.rs`).

use std::collections::HashMap;
use std::path::Path;

use bulwark_k8s::admission::{
    decide, parse_review, AdmissionPolicy, AdmissionSection, ImageVerdict, ImageVuln, Mode,
    NoVerdicts, ReviewError, SignatureState, UnknownImages, VulnState,
};
use bulwark_policy::{Date, IgnoreRule};
use bulwark_types::Severity;
use serde_json::{json, Value};

fn today() -> Date {
    Date::from_ymd(2026, 12, 8).unwrap()
}

/// An AdmissionReview v1 as the API server sends it for `kubectl apply` of `object`.
fn review(kind: &str, namespace: &str, object: Value) -> Value {
    let (group, version) = match kind {
        "Pod" => ("", "v1"),
        "CronJob" | "Job" => ("batch", "v1"),
        _ => ("apps", "v1"),
    };
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
            "kind": {"group": group, "version": version, "kind": kind},
            "resource": {"group": group, "version": version, "resource": format!("{}s", kind.to_lowercase())},
            "requestKind": {"group": group, "version": version, "kind": kind},
            "requestResource": {"group": group, "version": version, "resource": format!("{}s", kind.to_lowercase())},
            "name": object["metadata"]["name"],
            "namespace": namespace,
            "operation": "CREATE",
            "userInfo": {"username": "admin", "uid": "014fbff9a07c", "groups": ["system:authenticated"]},
            "object": object,
            "oldObject": null,
            "dryRun": false,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}
        }
    })
}

/// A pod that passes the restricted Pod Security Standard, with `image`.
fn good_pod(name: &str, image: &str) -> Value {
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
                "securityContext": {
                    "allowPrivilegeEscalation": false,
                    "readOnlyRootFilesystem": true,
                    "capabilities": {"drop": ["ALL"]}
                },
                "resources": {"limits": {"cpu": "100m", "memory": "64Mi"}, "requests": {"cpu": "50m", "memory": "32Mi"}},
                "livenessProbe": {"httpGet": {"path": "/", "port": 8080}},
                "readinessProbe": {"httpGet": {"path": "/", "port": 8080}}
            }]
        }
    })
}

fn privileged_pod(name: &str) -> Value {
    let mut pod = good_pod(name, IMAGE);
    pod["spec"]["containers"][0]["securityContext"]["privileged"] = json!(true);
    pod
}

const DIGEST: &str = "sha256:4b1c6b7d43c1e1a8a0e3a6c5a7b1a9e9c2d3f4a5b6c7d8e9f0a1b2c3d4e5f6a7";
const IMAGE: &str =
    "registry.example/app@sha256:4b1c6b7d43c1e1a8a0e3a6c5a7b1a9e9c2d3f4a5b6c7d8e9f0a1b2c3d4e5f6a7";

fn modes() -> AdmissionSection {
    AdmissionSection {
        default: Mode::Enforce,
        namespaces: [
            ("dev".to_string(), Mode::Warn),
            ("legacy".to_string(), Mode::Audit),
        ]
        .into_iter()
        .collect(),
        ..AdmissionSection::default()
    }
}

fn policy() -> AdmissionPolicy {
    AdmissionPolicy {
        section: modes(),
        ..AdmissionPolicy::default()
    }
}

fn run(
    review: &Value,
    policy: &AdmissionPolicy,
    verdicts: &HashMap<String, ImageVerdict>,
) -> bulwark_k8s::admission::Decision {
    let parsed = parse_review(review.to_string().as_bytes()).expect("a valid review");
    decide(&parsed, policy, verdicts, today())
}

fn clean(digest: &str) -> ImageVerdict {
    ImageVerdict {
        digest: Some(digest.to_string()),
        signature: SignatureState::Verified,
        vulnerabilities: VulnState::Known(Vec::new()),
    }
}

fn known() -> HashMap<String, ImageVerdict> {
    [(IMAGE.to_string(), clean(DIGEST))].into_iter().collect()
}

#[test]
fn privileged_pod_is_denied_in_enforce_warned_in_warn_and_logged_in_audit() {
    let policy = policy();
    let verdicts = known();

    let d = run(
        &review("Pod", "prod", privileged_pod("p")),
        &policy,
        &verdicts,
    );
    let r = &d.response;
    assert_eq!(r["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(r["kind"], "AdmissionReview");
    assert_eq!(r["response"]["uid"], "705ab4f5-6393-11e8-b7cc-42010a800002");
    assert_eq!(r["response"]["allowed"], false, "{r}");
    let message = r["response"]["status"]["message"].as_str().unwrap();
    assert!(message.contains("Pod/prod/p"), "{message}");
    assert!(message.contains("BW-K8S-001"), "{message}");
    assert_eq!(r["response"]["status"]["code"], 403);

    let d = run(
        &review("Pod", "dev", privileged_pod("p")),
        &policy,
        &verdicts,
    );
    assert_eq!(d.response["response"]["allowed"], true);
    let warnings = d.response["response"]["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("BW-K8S-001")),
        "{warnings:?}"
    );
    assert!(d.response["response"].get("status").is_none());

    let d = run(
        &review("Pod", "legacy", privileged_pod("p")),
        &policy,
        &verdicts,
    );
    assert_eq!(d.response["response"]["allowed"], true);
    assert!(
        d.response["response"].get("warnings").is_none(),
        "{}",
        d.response
    );
    assert_eq!(d.mode, Mode::Audit);
    assert!(
        d.reasons.iter().any(|r| r.contains("BW-K8S-001")),
        "audit still records why: {:?}",
        d.reasons
    );

    // A hardened pod passes in the enforce namespace.
    let d = run(
        &review("Pod", "prod", good_pod("ok", IMAGE)),
        &policy,
        &verdicts,
    );
    assert_eq!(d.response["response"]["allowed"], true, "{:?}", d.reasons);
}

#[test]
fn nothing_configured_means_enforce() {
    let policy = AdmissionPolicy::default();
    let d = run(
        &review("Pod", "anything", privileged_pod("p")),
        &policy,
        &known(),
    );
    assert_eq!(d.mode, Mode::Enforce);
    assert_eq!(d.response["response"]["allowed"], false);
}

#[test]
fn every_workload_kind_is_judged_by_its_pod_template() {
    let policy = policy();
    let verdicts = known();
    let spec = privileged_pod("x")["spec"].clone();
    let template = json!({"metadata": {"labels": {"app": "x"}}, "spec": spec});
    for (kind, object_spec) in [
        (
            "Deployment",
            json!({"selector": {"matchLabels": {"app": "x"}}, "template": template}),
        ),
        (
            "StatefulSet",
            json!({"selector": {"matchLabels": {"app": "x"}}, "serviceName": "x", "template": template}),
        ),
        (
            "DaemonSet",
            json!({"selector": {"matchLabels": {"app": "x"}}, "template": template}),
        ),
        (
            "ReplicaSet",
            json!({"selector": {"matchLabels": {"app": "x"}}, "template": template}),
        ),
        ("Job", json!({"template": template})),
        (
            "CronJob",
            json!({"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template}}}),
        ),
    ] {
        let object = json!({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "x"}, "spec": object_spec});
        let d = run(&review(kind, "prod", object), &policy, &verdicts);
        assert_eq!(
            d.response["response"]["allowed"], false,
            "{kind}: {:?}",
            d.reasons
        );
        assert!(
            d.reasons.iter().any(|r| r.contains("BW-K8S-001")),
            "{kind}: {:?}",
            d.reasons
        );
    }
}

#[test]
fn unsigned_image_is_denied_when_signatures_are_required() {
    let mut policy = policy();
    policy.section.require_signature = Some(Path::new("cosign.pub").to_path_buf());
    let unsigned = "registry.example/unsigned:1";
    let verdicts: HashMap<String, ImageVerdict> = [
        (IMAGE.to_string(), clean(DIGEST)),
        (
            unsigned.to_string(),
            ImageVerdict {
                signature: SignatureState::Unsigned(
                    "has no signature (no tag sha256-ab.sig)".into(),
                ),
                ..clean(DIGEST)
            },
        ),
    ]
    .into_iter()
    .collect();
    let d = run(
        &review("Pod", "prod", good_pod("u", unsigned)),
        &policy,
        &verdicts,
    );
    assert_eq!(d.response["response"]["allowed"], false);
    assert!(d.reasons[0].contains("not signed"), "{:?}", d.reasons);
    // The signed one passes; a signature that could not be checked is not a pass.
    let d = run(
        &review("Pod", "prod", good_pod("s", IMAGE)),
        &policy,
        &verdicts,
    );
    assert_eq!(d.response["response"]["allowed"], true, "{:?}", d.reasons);
    let d = run(
        &review("Pod", "prod", good_pod("n", "registry.example/new:1")),
        &policy,
        &verdicts,
    );
    assert_eq!(d.response["response"]["allowed"], false);
    // Without the requirement, an unsigned image is fine.
    let d = run(
        &review("Pod", "prod", good_pod("u", unsigned)),
        &self::policy(),
        &verdicts,
    );
    assert_eq!(d.response["response"]["allowed"], true, "{:?}", d.reasons);
}

fn vuln(id: &str, severity: Severity, fixable: bool) -> ImageVuln {
    ImageVuln {
        id: id.to_string(),
        ids: vec![id.to_string()],
        package: "openssl".to_string(),
        purl: "pkg:deb/debian/openssl@3.0.11-1".parse().ok(),
        severity,
        fixable,
        kev: false,
        epss: None,
    }
}

#[test]
fn critical_vulnerability_from_stored_results_is_denied_and_ignores_apply() {
    let mut verdicts = known();
    verdicts.insert(
        IMAGE.to_string(),
        ImageVerdict {
            vulnerabilities: VulnState::Known(vec![
                vuln("CVE-2026-0001", Severity::Critical, true),
                vuln("CVE-2026-0002", Severity::High, true),
            ]),
            ..clean(DIGEST)
        },
    );
    let policy = policy();
    let d = run(
        &review("Pod", "prod", good_pod("v", IMAGE)),
        &policy,
        &verdicts,
    );
    assert_eq!(d.response["response"]["allowed"], false);
    assert!(d.reasons[0].contains("CVE-2026-0001"), "{:?}", d.reasons);
    assert!(
        !d.reasons[0].contains("CVE-2026-0002"),
        "the default gate counts critical only: {:?}",
        d.reasons
    );

    // bulwark.yaml's gate and ignores, as CI reads them.
    let file = bulwark_policy::settings::ConfigFile::parse(
        "gates:\n  vulnerabilities: {severity: high}\n  misconfigurations: {severity: critical}\nignores:\n  - id: CVE-2026-0001\n    reason: not reachable\n",
        "bulwark.yaml",
        Path::new("."),
    )
    .unwrap();
    let gates = match file.get("gates") {
        Some(bulwark_policy::settings::Value::Gates(g)) => g.clone(),
        other => panic!("{other:?}"),
    };
    let ignores: Vec<IgnoreRule> = match file.get("ignores") {
        Some(bulwark_policy::settings::Value::Ignores(r)) => r.clone(),
        other => panic!("{other:?}"),
    };
    let policy = AdmissionPolicy::new(modes(), &gates, ignores, None);
    let d = run(
        &review("Pod", "prod", good_pod("v", IMAGE)),
        &policy,
        &verdicts,
    );
    assert_eq!(d.response["response"]["allowed"], false);
    assert!(
        d.reasons[0].contains("CVE-2026-0002") && !d.reasons[0].contains("CVE-2026-0001"),
        "{:?}",
        d.reasons
    );
}

#[test]
fn unknown_images_are_warned_or_denied_as_configured() {
    let policy = policy();
    let image = "registry.example/never-scanned:1";
    let d = run(
        &review("Pod", "prod", good_pod("n", image)),
        &policy,
        &HashMap::new(),
    );
    assert_eq!(d.response["response"]["allowed"], true);
    let warnings = d.response["response"]["warnings"].to_string();
    assert!(warnings.contains("no scan result"), "{warnings}");

    let mut deny = self::policy();
    deny.section.unknown_images = UnknownImages::Deny;
    let d = run(
        &review("Pod", "prod", good_pod("n", image)),
        &deny,
        &HashMap::new(),
    );
    assert_eq!(d.response["response"]["allowed"], false);
}

#[test]
fn dry_run_is_reported_so_the_host_skips_side_effects() {
    let mut r = review("Pod", "prod", privileged_pod("p"));
    r["request"]["dryRun"] = json!(true);
    let d = run(&r, &policy(), &known());
    assert!(d.dry_run);
    // The answer is the same as for the real request: a dry run shows what would happen.
    assert_eq!(d.response["response"]["allowed"], false);
}

#[test]
fn deletes_subresources_and_other_kinds_are_allowed() {
    let policy = policy();
    let mut r = review("Pod", "prod", privileged_pod("p"));
    r["request"]["operation"] = json!("DELETE");
    assert_eq!(
        run(&r, &policy, &known()).response["response"]["allowed"],
        true
    );
    let mut r = review("Pod", "prod", privileged_pod("p"));
    r["request"]["subResource"] = json!("status");
    assert_eq!(
        run(&r, &policy, &known()).response["response"]["allowed"],
        true
    );
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "b"}});
    let mut r = review("Pod", "prod", cm);
    r["request"]["kind"] = json!({"group": "", "version": "v1", "kind": "ConfigMap"});
    let parsed = parse_review(r.to_string().as_bytes()).unwrap();
    assert_eq!(
        decide(&parsed, &policy, &NoVerdicts, today()).response["response"]["allowed"],
        true
    );
}

#[test]
fn malformed_reviews_are_clear_errors() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"not json".to_vec(), "not JSON"),
        (b"[]".to_vec(), "AdmissionReview object"),
        (json!({"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview", "request": {}}).to_string().into_bytes(), "admissionReviewVersions"),
        (json!({"apiVersion": "admission.k8s.io/v1", "kind": "Pod"}).to_string().into_bytes(), "expected \"AdmissionReview\""),
        (json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}).to_string().into_bytes(), "no request"),
        (json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"kind": {"kind": "Pod"}, "operation": "CREATE"}}).to_string().into_bytes(), "request.uid"),
        (json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "u", "kind": "Pod", "operation": "CREATE"}}).to_string().into_bytes(), "request.kind is a string"),
        (json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "u", "kind": {"kind": "Pod"}, "operation": "CREATE", "dryRun": "yes"}}).to_string().into_bytes(), "request.dryRun"),
        (json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "u", "kind": {"kind": "Pod"}, "operation": "CREATE", "object": [1]}}).to_string().into_bytes(), "request.object"),
    ];
    for (body, expected) in cases {
        let err: ReviewError = parse_review(&body).expect_err(expected);
        assert!(
            err.to_string().contains(expected),
            "{err} lacks {expected:?}"
        );
    }
}

#[test]
fn the_admission_section_reads_modes_and_resolves_the_key_path() {
    let s = AdmissionSection::from_config_text(
        "format: json\nadmission:\n  default: warn\n  namespaces: {prod: enforce}\n  require-signature: keys/cosign.pub\n  unknown-images: deny\n",
        "bulwark.yaml",
        Path::new("/etc/bulwark"),
    )
    .unwrap();
    assert_eq!(s.mode(Some("prod")), Mode::Enforce);
    assert_eq!(s.mode(Some("other")), Mode::Warn);
    assert_eq!(s.mode(None), Mode::Warn);
    assert_eq!(
        s.require_signature.as_deref(),
        Some(Path::new("/etc/bulwark/keys/cosign.pub"))
    );
    assert_eq!(s.unknown_images, UnknownImages::Deny);
    let err = AdmissionSection::from_config_text(
        "admission:\n  default: block\n",
        "bulwark.yaml",
        Path::new("."),
    )
    .unwrap_err();
    assert!(
        err.contains("bulwark.yaml") && err.contains("block"),
        "{err}"
    );
    assert_eq!(
        AdmissionSection::from_config_text("", "bulwark.yaml", Path::new(".")).unwrap(),
        AdmissionSection::default()
    );
}

#[test]
fn many_findings_keep_the_response_bounded() {
    let mut pod = privileged_pod("p");
    let containers: Vec<Value> = (0..200)
        .map(|i| {
            let mut c = pod["spec"]["containers"][0].clone();
            c["name"] = json!(format!("c{i}"));
            c
        })
        .collect();
    pod["spec"]["containers"] = json!(containers);
    let d = run(&review("Pod", "dev", pod.clone()), &policy(), &known());
    let warnings = d.response["response"]["warnings"].as_array().unwrap();
    assert!(warnings.len() <= bulwark_k8s::admission::MAX_WARNINGS + 1);
    assert!(warnings
        .iter()
        .all(|w| w.as_str().unwrap().chars().count() <= bulwark_k8s::admission::MAX_WARNING_CHARS));
    let d = run(&review("Pod", "prod", pod), &policy(), &known());
    let message = d.response["response"]["status"]["message"]
        .as_str()
        .unwrap();
    assert!(message.chars().count() <= bulwark_k8s::admission::MAX_MESSAGE_CHARS);
}
