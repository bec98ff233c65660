//! Scale: pods collapse into their controllers (the facts stay the same size from 1,000 to
//! 20,000 pods), and 20,000 pods with labels of their own, each behind its own Service, are
//! checked in well under a few seconds on a debug build (no pods × objects scans).

use std::time::{Duration, Instant};

use bulwark_k8s::{check_cluster, ClusterFacts, ClusterOptions};
use serde_json::{json, Value};

fn replica(ns: &str, deployment: &str, hash: &str, i: usize) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": format!("{deployment}-{hash}-{i:05}"), "namespace": ns,
                        "labels": {"app": deployment, "pod-template-hash": hash},
                        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                             "name": format!("{deployment}-{hash}"), "controller": true}]},
           "spec": {"containers": [{"name": "app", "image": format!("registry.example.com/{deployment}:1"),
                                    "ports": [{"containerPort": 8080}]}]},
           "status": {"phase": "Running"}})
}

/// Facts from `pods` replicas spread over 10 Deployments in 5 namespaces.
fn replicated(pods: usize) -> ClusterFacts {
    let mut facts = ClusterFacts::new();
    for i in 0..pods {
        let d = i % 10;
        facts.observe(&replica(
            &format!("ns{}", d % 5),
            &format!("app{d}"),
            "5d9c7b7f8",
            i,
        ));
    }
    facts
}

#[test]
fn replicas_collapse_into_their_controller_whatever_the_count() {
    let small = replicated(1_000);
    let large = replicated(20_000);
    assert_eq!(small.workloads.len(), 10);
    assert_eq!(large.workloads.len(), 10);
    let pairs = |facts: &ClusterFacts| -> Vec<(String, String)> {
        check_cluster(facts, &ClusterOptions::default())
            .into_iter()
            .map(|h| (h.check_id.to_string(), h.resource.unwrap_or_default()))
            .collect()
    };
    let findings = pairs(&large);
    assert_eq!(findings, pairs(&small));
    // Each Deployment is named once, not once per replica.
    assert_eq!(
        findings
            .iter()
            .filter(|(id, r)| id == "BW-CLU-040" && r == "Deployment/ns0/app0")
            .count(),
        1
    );
}

#[test]
fn twenty_thousand_distinct_pods_are_checked_quickly() {
    let start = Instant::now();
    let mut facts = ClusterFacts::new();
    for i in 0..20_000 {
        let ns = format!("ns{}", i % 4);
        let name = format!("pod{i:05}");
        facts.observe(&json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": {"app": name, "tier": "web"}},
            "spec": {"containers": [{"name": "c", "image": "registry.example.com/app:1", "ports": [{"containerPort": 8080}]}]}}));
        facts.observe(&json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"type": "NodePort", "selector": {"tier": "web", "app": name}, "ports": [{"port": 80}]}}));
        if i % 10 == 0 {
            facts.observe(&json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": format!("allow-{name}"), "namespace": ns},
                "spec": {"podSelector": {"matchLabels": {"app": name}}, "policyTypes": ["Ingress"],
                         "ingress": [{"from": [{"podSelector": {"matchLabels": {"role": "client"}}}]}]}}));
        }
    }
    let observed = start.elapsed();
    let hits = check_cluster(&facts, &ClusterOptions::default());
    let elapsed = start.elapsed();
    eprintln!("observe {observed:?}, check {:?}", elapsed - observed);
    assert_eq!(facts.workloads.len(), 20_000);
    // Every pod is exposed by its NodePort; a tenth (1,000 in each of ns0 and ns2, where the
    // even indices land) are isolated by their policy. ns1 and ns3 have no policy at all: they
    // are reported as namespaces, their pods only as exposed.
    assert_eq!(
        hits.iter().filter(|h| h.check_id == "BW-CLU-015").count(),
        18_000
    );
    assert_eq!(
        hits.iter().filter(|h| h.check_id == "BW-CLU-012").count(),
        8_000
    );
    assert_eq!(
        hits.iter().filter(|h| h.check_id == "BW-CLU-010").count(),
        2
    );
    assert!(
        elapsed < Duration::from_secs(5),
        "20,000 pods, 20,000 Services and 2,000 policies took {elapsed:?}"
    );
}
