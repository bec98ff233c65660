//! bulwark-k8s against the test API server (`bulwark_k8s::testing`): kube-rs over TLS with a
//! bearer token, discovery, pagination, 403, 410 Gone, metadata-only Secrets, and the same
//! results from a live read and from a dump of the same objects.

use std::path::{Path, PathBuf};

use bulwark_k8s::source::dump::read_dump;
use bulwark_k8s::source::live::{Cluster, Credentials};
use bulwark_k8s::testing::{ApiServer, Spec};
use bulwark_k8s::{ClusterOptions, ClusterOutcome, ClusterScan, Consumer, Selection};
use serde_json::Value;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clusters/live/cluster.json")
}

fn fixture_objects() -> Vec<Value> {
    let text = std::fs::read_to_string(fixture()).unwrap();
    let list: Value = serde_json::from_str(&text).unwrap();
    list["items"].as_array().unwrap().clone()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Every object and warning handed over, in order.
#[derive(Default)]
struct Recorder {
    objects: Vec<Value>,
    warnings: Vec<String>,
}

impl Consumer for Recorder {
    fn object(&mut self, object: Value) {
        self.objects.push(object);
    }
    fn warning(&mut self, message: String) {
        self.warnings.push(message);
    }
}

fn read_live(server: &ApiServer, selection: &Selection, page: u32, consumer: &mut dyn Consumer) {
    let credentials = Credentials::Kubeconfig {
        files: vec![server.kubeconfig.clone()],
        context: None,
    };
    runtime().block_on(async {
        let cluster = Cluster::connect(&credentials).await.unwrap();
        assert_eq!(cluster.name, "test-ctx");
        cluster.read(selection, page, consumer).await.unwrap();
    });
}

fn scan_live(server: &ApiServer, origin: &str, page: u32) -> ClusterOutcome {
    let mut scan = ClusterScan::new(origin);
    read_live(server, &Selection::default(), page, &mut scan);
    scan.finish(&ClusterOptions::default())
}

fn scan_dump(origin: &str) -> ClusterOutcome {
    let mut scan = ClusterScan::new(origin);
    read_dump(&fixture(), &Selection::default(), &mut scan).unwrap();
    scan.finish(&ClusterOptions::default())
}

fn name(o: &Value) -> String {
    let kind = o["kind"].as_str().unwrap_or("");
    let ns = o["metadata"]["namespace"].as_str().unwrap_or("");
    format!(
        "{kind}/{ns}/{}",
        o["metadata"]["name"].as_str().unwrap_or("")
    )
}

#[test]
fn a_live_read_and_a_dump_of_the_same_objects_give_the_same_results() {
    let server = ApiServer::start(Spec {
        objects: fixture_objects(),
        ..Spec::default()
    });
    // Pages of 2: every kind with more objects than that is read through continue tokens.
    let live = scan_live(&server, "cluster://test", 2);
    let dump = scan_dump("cluster://test");
    assert!(!live.findings.is_empty());
    assert_eq!(live.findings, dump.findings);
    assert_eq!(live.images, dump.images);
    assert_eq!(live.namespace_owners, dump.namespace_owners);
    assert_eq!(live.objects, dump.objects);
    assert_eq!(live.objects, fixture_objects().len());
    assert!(live.warnings.is_empty(), "{:?}", live.warnings);
    assert!(dump.warnings.is_empty(), "{:?}", dump.warnings);
    let continued = server
        .log()
        .iter()
        .filter(|l| l.path == "/api/v1/pods" && l.query.contains("continue="))
        .count();
    assert_eq!(continued, 2, "5 pods in pages of 2: {:#?}", server.log());
    assert!(server
        .log()
        .iter()
        .filter(|l| l.path.ends_with("/pods"))
        .all(|l| l.query.contains("limit=2")));
}

#[test]
fn findings_name_the_controller_once_never_its_replicas() {
    let out = scan_dump("cluster://test");
    let resources: std::collections::BTreeSet<_> = out
        .findings
        .iter()
        .filter_map(|f| f.location.resource.clone())
        .collect();
    assert!(
        resources.contains("Deployment/prod/nginx-deployment"),
        "{resources:?}"
    );
    assert!(resources.contains("CronJob/batch/hello"), "{resources:?}");
    // The bare pod has no controller: it is checked itself.
    assert!(resources.contains("Pod/prod/nginx"), "{resources:?}");
    for r in &resources {
        assert!(
            !(r.starts_with("ReplicaSet/")
                || r.starts_with("Job/")
                || r.starts_with("Pod/prod/nginx-deployment")),
            "{r} is owned by a controller: {resources:?}"
        );
    }
    // Each check fires at most once on the Deployment (not once per replica).
    let mut ids: Vec<_> = out
        .findings
        .iter()
        .filter(|f| f.location.resource.as_deref() == Some("Deployment/prod/nginx-deployment"))
        .map(|f| (f.check_id.clone(), f.message.clone()))
        .collect();
    let all = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), all);
    assert_eq!(
        out.owned_skipped, 6,
        "3 nginx pods and their ReplicaSet, hello's Job and its pod"
    );
    assert!(out
        .findings
        .iter()
        .all(|f| f.location.path == "cluster://test" && f.location.line.is_none()));
}

#[test]
fn running_images_are_listed_once_by_digest_with_their_workloads() {
    let out = scan_dump("x");
    let shown: Vec<(String, Vec<String>)> = out
        .images
        .iter()
        .map(|i| {
            (
                i.reference.clone(),
                i.workloads.iter().map(|w| w.resource()).collect(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            (
                "docker.io/library/busybox@sha256:141c253bc4c3fd0a201d32dc1f493bcf3fff003b6df416dea4f41046e0f37d47".to_string(),
                vec!["CronJob/batch/hello".to_string()]
            ),
            (
                "docker.io/library/nginx@sha256:f7988fb6c02e0ce69257d9bd9cf37ae20a60f1df7563c3a2a6abe24160306b8d".to_string(),
                vec!["Deployment/prod/nginx-deployment".to_string()]
            ),
            // The pending bare pod has no status yet: its spec's image.
            ("nginx:1.14.2".to_string(), vec!["Pod/prod/nginx".to_string()]),
        ]
    );
    let busybox = &out.images[0];
    assert_eq!(
        busybox.pull_secrets.iter().collect::<Vec<_>>(),
        [&("batch".to_string(), "regcred".to_string())]
    );
    assert_eq!(
        out.namespace_owners.get("prod").map(String::as_str),
        Some("team-web")
    );
    assert_eq!(
        out.namespace_owners.get("batch").map(String::as_str),
        Some("team-data")
    );
}

#[test]
fn secrets_cross_the_wire_as_metadata_only() {
    let server = ApiServer::start(Spec {
        objects: fixture_objects(),
        ..Spec::default()
    });
    let mut recorder = Recorder::default();
    read_live(&server, &Selection::default(), 500, &mut recorder);
    let secret_requests: Vec<_> = server
        .log()
        .into_iter()
        .filter(|l| l.path.ends_with("/secrets"))
        .collect();
    assert!(!secret_requests.is_empty());
    for l in &secret_requests {
        assert!(l.accept.contains("as=PartialObjectMetadataList"), "{l:?}");
    }
    let secret = recorder
        .objects
        .iter()
        .find(|o| o["kind"] == "Secret")
        .expect("the secret's metadata");
    assert_eq!(secret["metadata"]["name"], "db-credentials");
    let text = serde_json::to_string(&recorder.objects).unwrap();
    assert!(
        !text.contains("c2VjcmV0LXZhbHVlLW5vdC1yZWFs"),
        "a secret value was read"
    );

    // The dump holds the value: it is dropped before any check sees it.
    let mut recorder = Recorder::default();
    read_dump(&fixture(), &Selection::default(), &mut recorder).unwrap();
    let text = serde_json::to_string(&recorder.objects).unwrap();
    assert!(!text.contains("c2VjcmV0LXZhbHVlLW5vdC1yZWFs"));

    // Asked for explicitly (`--scanners secret`), values are read.
    let mut recorder = Recorder::default();
    let selection = Selection {
        secret_values: true,
        ..Selection::default()
    };
    read_live(&server, &selection, 500, &mut recorder);
    let text = serde_json::to_string(&recorder.objects).unwrap();
    assert!(text.contains("c2VjcmV0LXZhbHVlLW5vdC1yZWFs"));
}

#[test]
fn a_kind_the_identity_may_not_list_is_a_warning_and_the_scan_goes_on() {
    let server = ApiServer::start(Spec {
        objects: fixture_objects(),
        forbidden: vec!["clusterroles".into(), "secrets".into()],
        ..Spec::default()
    });
    let out = scan_live(&server, "cluster://test", 500);
    assert_eq!(out.warnings.len(), 2, "{:?}", out.warnings);
    assert!(
        out.warnings[0].contains("cannot list secrets") && out.warnings[0].contains("`list` verb")
    );
    assert!(out.warnings[1].contains("clusterroles") && out.warnings[1].contains("403"));
    assert!(out
        .findings
        .iter()
        .any(|f| f.location.resource.as_deref() == Some("Deployment/prod/nginx-deployment")));
    assert_eq!(out.objects, fixture_objects().len() - 2);
}

#[test]
fn an_expired_continue_token_restarts_the_list_once_and_no_object_is_seen_twice() {
    let server = ApiServer::start(Spec {
        objects: fixture_objects(),
        expire_continue_once: vec!["pods".into()],
        ..Spec::default()
    });
    let mut recorder = Recorder::default();
    read_live(&server, &Selection::default(), 2, &mut recorder);
    let pods: Vec<String> = recorder
        .objects
        .iter()
        .filter(|o| o["kind"] == "Pod")
        .map(name)
        .collect();
    let mut unique = pods.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(pods.len(), 5, "{pods:?}");
    assert_eq!(unique.len(), 5);
    assert_eq!(recorder.warnings.len(), 1, "{:?}", recorder.warnings);
    assert!(recorder.warnings[0].contains("410 Gone") && recorder.warnings[0].contains("pods"));
    assert!(server.log().iter().any(|l| l.status == 410));
}

#[test]
fn kinds_not_served_are_skipped_quietly_and_served_ones_are_read() {
    let mut objects = fixture_objects();
    objects.push(serde_json::json!({
        "apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
        "metadata": {"name": "default", "namespace": "prod", "uid": "pa-1"},
        "spec": {"mtls": {"mode": "PERMISSIVE"}}
    }));
    let server = ApiServer::start(Spec {
        objects,
        ..Spec::default()
    });
    let mut recorder = Recorder::default();
    read_live(&server, &Selection::default(), 500, &mut recorder);
    assert!(recorder.warnings.is_empty(), "{:?}", recorder.warnings);
    assert!(recorder
        .objects
        .iter()
        .any(|o| o["kind"] == "PeerAuthentication" && o["apiVersion"] == "security.istio.io/v1"));
    // The Gateway API is not installed: never listed.
    assert!(!server
        .log()
        .iter()
        .any(|l| l.path.contains("gateway.networking.k8s.io/v1/")));
}

#[test]
fn namespaces_chosen_are_the_only_ones_listed() {
    let server = ApiServer::start(Spec {
        objects: fixture_objects(),
        ..Spec::default()
    });
    let mut recorder = Recorder::default();
    let selection = Selection {
        namespaces: vec!["batch".into()],
        ..Selection::default()
    };
    read_live(&server, &selection, 500, &mut recorder);
    let names: Vec<String> = recorder.objects.iter().map(name).collect();
    assert!(names.contains(&"CronJob/batch/hello".to_string()));
    assert!(names.contains(&"Namespace//batch".to_string()));
    assert!(
        !names
            .iter()
            .any(|n| n.contains("/prod/") || n == "Namespace//prod"),
        "{names:?}"
    );
    // Cluster-scoped kinds are still read.
    assert!(names.contains(&"ClusterRole//secret-reader".to_string()));
    assert!(server
        .log()
        .iter()
        .any(|l| l.path == "/api/v1/namespaces/batch/pods"));
    assert!(!server.log().iter().any(|l| l.path == "/api/v1/pods"));
}

#[test]
fn a_wrong_token_is_an_error_that_names_the_server() {
    let server = ApiServer::start(Spec::default());
    let text = std::fs::read_to_string(&server.kubeconfig).unwrap();
    let bad = server.kubeconfig.with_file_name("bad-kubeconfig");
    std::fs::write(&bad, text.replace("test-token-0123456789abcdef", "wrong")).unwrap();
    let credentials = Credentials::Kubeconfig {
        files: vec![bad],
        context: None,
    };
    let err = runtime().block_on(async {
        let cluster = Cluster::connect(&credentials).await.unwrap();
        let mut recorder = Recorder::default();
        cluster
            .read(&Selection::default(), 500, &mut recorder)
            .await
            .unwrap_err()
    });
    let text = err.to_string();
    assert!(
        text.contains("127.0.0.1") && text.contains("authenticate"),
        "{text}"
    );
}
