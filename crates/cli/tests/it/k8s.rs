//! `bulwark k8s` end to end: the binary against the test API server of bulwark-k8s (TLS,
//! kubeconfig with the CA and a bearer token), and the same objects as a `--from-dump` file.

use std::path::PathBuf;

use bulwark_k8s::testing::{ApiServer, Spec};
use serde_json::Value;

use crate::util::*;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../k8s/tests/clusters/live/cluster.json")
}

fn server() -> ApiServer {
    let list: Value = serde_json::from_slice(&std::fs::read(fixture()).unwrap()).unwrap();
    ApiServer::start(Spec {
        objects: list["items"].as_array().unwrap().clone(),
        ..Spec::default()
    })
}

fn json_of(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// (check, resource, message) of every misconfiguration, without the file (cluster or dump).
fn findings(report: &Value) -> Vec<(String, String, String)> {
    report["misconfigurations"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|m| {
            (
                m["check_id"].as_str().unwrap().to_string(),
                m["location"]["resource"].as_str().unwrap_or("").to_string(),
                m["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn k8s_reports_a_manifest_finding_once_per_controller_and_gates_decide_the_exit() {
    let server = server();
    let kubeconfig = server.kubeconfig.to_str().unwrap();
    let out = bulwark(&[
        "k8s",
        "--kubeconfig",
        kubeconfig,
        "--format",
        "json",
        "--skip-images",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let report = json_of(&out);
    assert_eq!(report["schema"], "bulwark.report/v1");
    assert_eq!(report["image"]["reference"], "cluster://test-ctx");
    let found = findings(&report);
    let escalation: Vec<_> = found
        .iter()
        .filter(|(id, _, m)| id == "BW-K8S-009" && m.contains("\"nginx\""))
        .map(|(_, r, _)| r.as_str())
        .collect();
    // Three replicas, one ReplicaSet, one Deployment: one finding, on the Deployment (and one
    // on the bare pod, which has no controller).
    assert_eq!(
        escalation,
        ["Deployment/prod/nginx-deployment", "Pod/prod/nginx"]
    );
    assert!(found
        .iter()
        .all(|(_, r, _)| !r.starts_with("ReplicaSet/")
            && !r.starts_with("Pod/prod/nginx-deployment")));
    assert!(report["misconfigurations"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["location"]["path"] == "cluster://test-ctx"));

    // A gate on misconfigurations fails the run.
    let out = bulwark(&[
        "k8s",
        "--kubeconfig",
        kubeconfig,
        "--format",
        "json",
        "--skip-images",
        "--fail-on-misconfig",
        "medium",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The same objects as a dump: the same findings.
    let dump = bulwark(&[
        "k8s",
        "--from-dump",
        fixture().to_str().unwrap(),
        "--format",
        "json",
        "--skip-images",
    ]);
    assert_eq!(
        dump.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    assert_eq!(findings(&json_of(&dump)), found);
}

#[test]
fn k8s_compliance_view_and_a_forbidden_kind() {
    let list: Value = serde_json::from_slice(&std::fs::read(fixture()).unwrap()).unwrap();
    let server = ApiServer::start(Spec {
        objects: list["items"].as_array().unwrap().clone(),
        forbidden: vec!["clusterroles".into()],
        ..Spec::default()
    });
    let kubeconfig = server.kubeconfig.to_str().unwrap();
    let out = bulwark(&[
        "k8s",
        "--kubeconfig",
        kubeconfig,
        "--format",
        "json",
        "--skip-images",
        "--compliance",
        "pss-restricted",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // A kind that could not be listed: the results are incomplete, and say which.
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("cannot list clusterroles") && stderr.contains("`list` verb"),
        "{stderr}"
    );
    let view = json_of(&out);
    assert!(view.to_string().contains("restricted"), "{view}");
}

#[test]
fn k8s_refuses_sbom_formats_and_a_missing_dump() {
    let out = bulwark(&[
        "k8s",
        "--from-dump",
        "/nonexistent/dump.json",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the dump"));
    let out = bulwark(&[
        "k8s",
        "--from-dump",
        fixture().to_str().unwrap(),
        "--format",
        "cyclonedx",
    ]);
    assert_eq!(out.status.code(), Some(2));
}
