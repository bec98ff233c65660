//! The recorded cluster fixture (`tests/clusters/checks/cluster.json`): the exact set of
//! (check id, resource) pairs, each expected finding's path, and nothing on the hardened
//! namespace.

use bulwark_k8s::{check_cluster, ClusterFacts, ClusterOptions};
use bulwark_misconfig::Hit;

fn fixture_hits() -> Vec<Hit> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clusters/checks/cluster.json"
    );
    let dump: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).expect("fixture")).expect("JSON");
    let mut facts = ClusterFacts::new();
    facts.observe(&dump);
    let options = ClusterOptions {
        allowed_registries: vec![
            "registry.k8s.io".into(),
            "registry.example.com".into(),
            "docker.io".into(),
            "quay.io".into(),
        ],
        ..ClusterOptions::default()
    };
    check_cluster(&facts, &options)
}

/// Every finding the fixture must produce, and nothing else.
const EXPECTED: &[(&str, &str)] = &[
    ("BW-CLU-001", "Group/manager"),
    ("BW-CLU-001", "Group/platform-ops"),
    ("BW-CLU-001", "ServiceAccount/ci/deployer"),
    ("BW-CLU-001", "ServiceAccount/kube-system/legacy-admin"),
    ("BW-CLU-001", "ServiceAccount/legacy/default"),
    ("BW-CLU-001", "ServiceAccount/monitoring/prometheus"),
    ("BW-CLU-001", "ServiceAccount/tools/rbac-manager"),
    ("BW-CLU-001", "User/carol"),
    ("BW-CLU-001", "User/dave"),
    ("BW-CLU-002", "Deployment/ci/runner"),
    ("BW-CLU-002", "Deployment/legacy/app"),
    ("BW-CLU-002", "Deployment/monitoring/prometheus"),
    ("BW-CLU-010", "Namespace/argocd"),
    ("BW-CLU-010", "Namespace/bookinfo"),
    ("BW-CLU-010", "Namespace/build"),
    ("BW-CLU-010", "Namespace/ci"),
    ("BW-CLU-010", "Namespace/ds"),
    ("BW-CLU-010", "Namespace/kubernetes-dashboard"),
    ("BW-CLU-010", "Namespace/legacy"),
    ("BW-CLU-010", "Namespace/monitoring"),
    ("BW-CLU-011", "Namespace/argocd"),
    ("BW-CLU-011", "Namespace/bookinfo"),
    ("BW-CLU-011", "Namespace/build"),
    ("BW-CLU-011", "Namespace/ci"),
    ("BW-CLU-011", "Namespace/ds"),
    ("BW-CLU-011", "Namespace/kubernetes-dashboard"),
    ("BW-CLU-011", "Namespace/legacy"),
    ("BW-CLU-011", "Namespace/monitoring"),
    ("BW-CLU-011", "Namespace/shop"),
    ("BW-CLU-012", "Deployment/shop/worker"),
    ("BW-CLU-012", "Pod/shop/debug"),
    ("BW-CLU-014", "NetworkPolicy/payments/legacy-open"),
    ("BW-CLU-015", "Deployment/argocd/argocd-server"),
    (
        "BW-CLU-015",
        "Deployment/kubernetes-dashboard/kubernetes-dashboard",
    ),
    ("BW-CLU-015", "Deployment/monitoring/grafana"),
    ("BW-CLU-015", "Pod/build/dind"),
    ("BW-CLU-015", "Pod/shop/debug"),
    ("BW-CLU-020", "Deployment/argocd/argocd-server"),
    (
        "BW-CLU-020",
        "Deployment/kubernetes-dashboard/kubernetes-dashboard",
    ),
    ("BW-CLU-020", "Deployment/monitoring/grafana"),
    ("BW-CLU-020", "Pod/build/dind"),
    ("BW-CLU-021", "Deployment/argocd/argocd-server"),
    ("BW-CLU-021", "Deployment/ds/notebook"),
    (
        "BW-CLU-021",
        "Deployment/kubernetes-dashboard/kubernetes-dashboard",
    ),
    ("BW-CLU-021", "Deployment/monitoring/grafana"),
    ("BW-CLU-021", "Pod/build/dind"),
    ("BW-CLU-030", "Namespace/bookinfo"),
    ("BW-CLU-031", "Deployment/payments/legacy-api"),
    ("BW-CLU-032", "Namespace/bookinfo"),
    (
        "BW-CLU-033",
        "AuthorizationPolicy/payments/allow-everything",
    ),
    ("BW-CLU-035", "Ingress/kubernetes-dashboard/dashboard"),
    ("BW-CLU-036", "Gateway/shop/shop"),
    ("BW-CLU-040", "CronJob/ds/cleanup"),
    ("BW-CLU-040", "Deployment/argocd/argocd-server"),
    ("BW-CLU-040", "Deployment/bookinfo/details-v1"),
    ("BW-CLU-040", "Deployment/bookinfo/productpage-v1"),
    ("BW-CLU-040", "Deployment/ci/runner"),
    ("BW-CLU-040", "Deployment/ds/notebook"),
    ("BW-CLU-040", "Deployment/istio-system/istiod"),
    (
        "BW-CLU-040",
        "Deployment/kubernetes-dashboard/kubernetes-dashboard",
    ),
    ("BW-CLU-040", "Deployment/legacy/app"),
    ("BW-CLU-040", "Deployment/monitoring/grafana"),
    ("BW-CLU-040", "Deployment/monitoring/prometheus"),
    ("BW-CLU-040", "Deployment/shop/web"),
    ("BW-CLU-040", "Deployment/shop/worker"),
    ("BW-CLU-040", "Pod/build/dind"),
    ("BW-CLU-040", "Pod/shop/debug"),
    ("BW-CLU-041", "Deployment/ci/runner"),
];

/// The path each finding must show: (check id, resource, text its message contains).
const PATHS: &[(&str, &str, &str)] = &[
    (
        "BW-CLU-001",
        "ServiceAccount/ci/deployer",
        "ServiceAccount ci/deployer → RoleBinding kube-system/ci-deploy → ClusterRole deploy-anywhere → create deployments in kube-system (ServiceAccount kube-system/legacy-admin is cluster-admin-equivalent: ServiceAccount kube-system/legacy-admin → ClusterRoleBinding legacy-admin → ClusterRole cluster-admin",
    ),
    ("BW-CLU-001", "ServiceAccount/ci/deployer", "its token is mounted by Deployment/ci/runner"),
    (
        "BW-CLU-001",
        "Group/manager",
        "Group manager → ClusterRoleBinding read-secrets-global → ClusterRole secret-reader → read secrets in every namespace",
    ),
    (
        "BW-CLU-001",
        "ServiceAccount/monitoring/prometheus",
        "ClusterRoleBinding prometheus-monitoring → ClusterRole monitoring → nodes/proxy",
    ),
    ("BW-CLU-001", "User/carol", "→ ClusterRole impersonator → impersonate users and groups"),
    ("BW-CLU-001", "User/dave", "→ ClusterRole csr-approver → create and approve certificate signing requests"),
    ("BW-CLU-001", "Group/platform-ops", "→ ClusterRole webhook-admin → change admission webhook configurations"),
    ("BW-CLU-001", "ServiceAccount/tools/rbac-manager", "→ ClusterRole role-escalator → escalate roles in every namespace"),
    ("BW-CLU-001", "ServiceAccount/tools/rbac-manager", "→ ClusterRole role-escalator → bind roles in every namespace"),
    (
        "BW-CLU-002",
        "Deployment/legacy/app",
        "runs as ServiceAccount legacy/default with its token mounted",
    ),
    ("BW-CLU-012", "Deployment/shop/worker", "(frontend-ingress)"),
    ("BW-CLU-015", "Deployment/monitoring/grafana", "Service monitoring/grafana (LoadBalancer 80)"),
    ("BW-CLU-015", "Deployment/monitoring/grafana", "docker.io/grafana/grafana:10.2.3"),
    ("BW-CLU-015", "Pod/build/dind", "hostPort 2375"),
    (
        "BW-CLU-020",
        "Deployment/kubernetes-dashboard/kubernetes-dashboard",
        "Ingress kubernetes-dashboard/dashboard → Service kubernetes-dashboard/kubernetes-dashboard",
    ),
    ("BW-CLU-020", "Deployment/argocd/argocd-server", "NodePort 80→node port 30080"),
    ("BW-CLU-021", "Deployment/kubernetes-dashboard/kubernetes-dashboard", "--enable-skip-login"),
    ("BW-CLU-021", "Deployment/argocd/argocd-server", "--insecure"),
    ("BW-CLU-021", "Deployment/monitoring/grafana", "GF_AUTH_ANONYMOUS_ENABLED=true"),
    ("BW-CLU-021", "Deployment/ds/notebook", "--ServerApp.token=''"),
    ("BW-CLU-021", "Pod/build/dind", "port 2375"),
    ("BW-CLU-030", "Namespace/bookinfo", "PERMISSIVE (mesh-wide PeerAuthentication istio-system/default)"),
    ("BW-CLU-031", "Deployment/payments/legacy-api", "PeerAuthentication/payments/legacy-api sets mode PERMISSIVE"),
];

fn pairs(hits: &[Hit]) -> std::collections::BTreeSet<(String, String)> {
    hits.iter()
        .map(|h| {
            (
                h.check_id.to_string(),
                h.resource.clone().unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn the_fixture_yields_exactly_the_expected_findings() {
    let hits = fixture_hits();
    let got = pairs(&hits);
    let want: std::collections::BTreeSet<(String, String)> = EXPECTED
        .iter()
        .map(|(c, r)| (c.to_string(), r.to_string()))
        .collect();
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:#?}\nunexpected {extra:#?}"
    );
    // One finding per (check, resource): a controller is named once, not per replica.
    assert_eq!(hits.len(), want.len());
}

#[test]
fn every_finding_shows_its_path() {
    let hits = fixture_hits();
    for (check, resource, text) in PATHS {
        let hit = hits
            .iter()
            .find(|h| h.check_id == *check && h.resource.as_deref() == Some(*resource))
            .unwrap_or_else(|| panic!("no {check} on {resource}"));
        assert!(
            hit.message.contains(text),
            "{check} on {resource}: {:?} does not contain {text:?}",
            hit.message
        );
    }
}

#[test]
fn the_hardened_namespace_yields_nothing() {
    let hits = fixture_hits();
    let noisy: Vec<_> = hits
        .iter()
        .filter(|h| {
            let r = h.resource.as_deref().unwrap_or_default();
            r == "Namespace/secure" || r.contains("/secure/") || h.message.contains(" secure/")
        })
        .collect();
    assert!(noisy.is_empty(), "{noisy:#?}");
}

#[test]
fn check_ids_and_catalogue_are_in_step() {
    use bulwark_misconfig::CheckKind;
    let catalog = bulwark_misconfig::catalog();
    let ids: std::collections::BTreeSet<&str> =
        bulwark_k8s::checks::CHECK_IDS.iter().copied().collect();
    assert_eq!(
        ids.len(),
        bulwark_k8s::checks::CHECK_IDS.len(),
        "a check id is listed twice"
    );
    for id in &ids {
        let meta = catalog
            .get(*id)
            .unwrap_or_else(|| panic!("{id} has no metadata"));
        assert_eq!(meta.kind, CheckKind::Cluster, "{id}");
    }
    for meta in catalog.values().filter(|m| m.kind == CheckKind::Cluster) {
        assert!(
            ids.contains(meta.id.as_str()),
            "{} is catalogued but never reported",
            meta.id
        );
    }
    for h in fixture_hits() {
        assert!(
            ids.contains(h.check_id),
            "{} is not in CHECK_IDS",
            h.check_id
        );
        // The step the cli takes; it panics on a check without metadata.
        let finding = h.into_finding("cluster");
        assert!(!finding.message.is_empty());
    }
}

#[test]
fn the_order_of_objects_does_not_change_the_result() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/clusters/checks/cluster.json"
    );
    let dump: serde_json::Value =
        serde_json::from_slice(&std::fs::read(path).expect("fixture")).expect("JSON");
    let mut facts = ClusterFacts::new();
    for item in dump["items"].as_array().expect("items").iter().rev() {
        facts.observe(item);
    }
    let options = ClusterOptions {
        allowed_registries: vec![
            "registry.k8s.io".into(),
            "registry.example.com".into(),
            "docker.io".into(),
            "quay.io".into(),
        ],
        ..ClusterOptions::default()
    };
    assert_eq!(
        pairs(&check_cluster(&facts, &options)),
        pairs(&fixture_hits())
    );
}
