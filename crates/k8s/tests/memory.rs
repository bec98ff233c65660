//! Memory does not hold the cluster: the peak heap of reading and checking 20,000 objects
//! (pods and their deployments, all distinct, served in pages by the test API server) is
//! compared with that of 1,000, and what it adds per object with what holding one would cost. One test in its own binary: the allocator counts the whole
//! process, so nothing else may run beside it.

use std::sync::Arc;

use bulwark_k8s::source::live::{Cluster, Credentials};
use bulwark_k8s::testing::{ApiServer, Generated, Spec};
use bulwark_k8s::{ClusterOptions, ClusterScan, Selection};
use peak_alloc::PeakAlloc;
use serde_json::{json, Value};

#[global_allocator]
static PEAK: PeakAlloc = PeakAlloc;

/// A pod template that passes the per-object checks (so the findings, which are the output
/// and grow with the cluster, stay few and the measure is of the reading).
fn hardened_spec(image: &str) -> Value {
    json!({
        "serviceAccountName": "app",
        "automountServiceAccountToken": false,
        "securityContext": {"runAsNonRoot": true, "runAsUser": 10001, "runAsGroup": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{
            "name": "app", "image": image, "imagePullPolicy": "Always",
            "ports": [{"containerPort": 8080}],
            "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "runAsNonRoot": true, "capabilities": {"drop": ["ALL"]}},
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
            "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
            "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}}
        }]
    })
}

fn image(i: usize) -> String {
    format!(
        "registry.example.com/team/app-{}@sha256:{:064x}",
        i % 40,
        i % 40
    )
}

/// `n` objects: n/2 Deployments and n/2 pods, one per Deployment's ReplicaSet, each as the
/// API server returns it (status with the running digest).
fn spec(n: usize) -> Spec {
    let half = n / 2;
    let deployment = Generated {
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        count: half,
        make: Arc::new(|i| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": format!("app-{i}"), "namespace": format!("ns-{}", i % 50), "uid": format!("dep-{i}"), "labels": {"app": format!("app-{i}")}},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": format!("app-{i}")}},
                    "template": {"metadata": {"labels": {"app": format!("app-{i}")}}, "spec": hardened_spec(&image(i))}}})
        }),
    };
    let pod = Generated {
        api_version: "v1".into(),
        kind: "Pod".into(),
        count: half,
        make: Arc::new(|i| {
            json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("app-{i}-5d9f7c-x2k4p"), "namespace": format!("ns-{}", i % 50), "uid": format!("pod-{i}"),
                    "labels": {"app": format!("app-{i}"), "pod-template-hash": "5d9f7c"},
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("app-{i}-5d9f7c"), "uid": format!("rs-{i}"), "controller": true}]},
                "spec": hardened_spec(&image(i)),
                "status": {"phase": "Running", "containerStatuses": [{"name": "app", "ready": true, "image": image(i), "imageID": image(i)}]}})
        }),
    };
    Spec {
        generated: vec![deployment, pod],
        ..Spec::default()
    }
}

/// Peak heap above the level before the read (bytes), objects read, findings.
fn measure(n: usize) -> (usize, usize, usize) {
    let server = ApiServer::start(spec(n));
    let credentials = Credentials::Kubeconfig {
        files: vec![server.kubeconfig.clone()],
        context: None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let base = PEAK.current_usage();
    PEAK.reset_peak_usage();
    let (objects, findings) = runtime.block_on(async {
        let cluster = Cluster::connect(&credentials).await.unwrap();
        let mut scan = ClusterScan::new("cluster://load");
        cluster
            .read(&Selection::default(), 500, &mut scan)
            .await
            .unwrap();
        let out = scan.finish(&ClusterOptions::default());
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        (out.objects, out.findings.len())
    });
    let peak = PEAK.peak_usage().saturating_sub(base);
    (peak, objects, findings)
}

/// The cluster-wide checks keep compact facts per distinct workload (labels, service account,
/// images and ports: the joins of RBAC, exposure and policy checks need them), never the
/// objects: an object held as JSON costs several KiB (measured below), its facts under 1 KiB (the bound leaves room twice over). Every
/// generated Deployment is distinct, so this is the worst case; replicas of one controller
/// collapse (crates/k8s/tests/checks_scale.rs).
const MAX_GROWTH_PER_OBJECT: usize = 2048;

#[test]
fn peak_heap_grows_by_compact_facts_only_from_1000_to_20000_objects() {
    let (small, small_objects, small_findings) = measure(1_000);
    let (large, large_objects, large_findings) = measure(20_000);
    eprintln!(
        "peak heap: {small_objects} objects {:.1} MiB ({small_findings} findings), {large_objects} objects {:.1} MiB ({large_findings} findings), {:.0} bytes per added object",
        small as f64 / (1 << 20) as f64,
        large as f64 / (1 << 20) as f64,
        large.saturating_sub(small) as f64 / 19_000.0
    );
    assert_eq!(small_objects, 1_000);
    assert_eq!(large_objects, 20_000);
    // What holding the objects would cost: the bound must tell that apart from compact facts.
    let before = PEAK.current_usage();
    let generated = spec(2_000).generated;
    let held: Vec<Value> = generated
        .iter()
        .flat_map(|g| (0..g.count).map(|i| (g.make)(i)))
        .collect();
    let per_object_held = (PEAK.current_usage() - before) / held.len();
    drop(held);
    eprintln!("an object held as a JSON value: {per_object_held} bytes");
    assert!(
        per_object_held > 4 * MAX_GROWTH_PER_OBJECT,
        "the bound ({MAX_GROWTH_PER_OBJECT} bytes) must be well under the cost of holding an object ({per_object_held})"
    );
    assert!(
        large.saturating_sub(small) < 19_000 * MAX_GROWTH_PER_OBJECT,
        "20,000 objects peaked at {large} bytes, 1,000 at {small}: more than {MAX_GROWTH_PER_OBJECT} bytes per object, so objects are being held"
    );
}
