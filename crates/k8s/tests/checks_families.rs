//! One test per check family, positive and negative, on small clusters written inline.

use std::collections::BTreeSet;

use bulwark_k8s::{check_cluster, ClusterFacts, ClusterOptions};
use bulwark_misconfig::Hit;
use serde_json::{json, Value};

fn hits_with(objects: &[Value], options: &ClusterOptions) -> Vec<Hit> {
    let mut facts = ClusterFacts::new();
    for o in objects {
        facts.observe(o);
    }
    check_cluster(&facts, options)
}

fn hits(objects: &[Value]) -> Vec<Hit> {
    hits_with(objects, &ClusterOptions::default())
}

/// (check id, resource) pairs of the hits whose id starts with `prefix`.
fn found(hits: &[Hit], prefix: &str) -> BTreeSet<(String, String)> {
    hits.iter()
        .filter(|h| h.check_id.starts_with(prefix))
        .map(|h| {
            (
                h.check_id.to_string(),
                h.resource.clone().unwrap_or_default(),
            )
        })
        .collect()
}

fn set(pairs: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn message<'a>(hits: &'a [Hit], check: &str, resource: &str) -> &'a str {
    &hits
        .iter()
        .find(|h| h.check_id == check && h.resource.as_deref() == Some(resource))
        .unwrap_or_else(|| panic!("no {check} on {resource}"))
        .message
}

fn namespace(name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
}

fn cluster_role(name: &str, rules: Value) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
           "metadata": {"name": name}, "rules": rules})
}

fn subject(s: &str) -> Value {
    match s.split_once(' ') {
        Some(("sa", rest)) => {
            let (ns, name) = rest.split_once('/').unwrap();
            json!({"kind": "ServiceAccount", "name": name, "namespace": ns})
        }
        Some((kind, name)) => {
            json!({"kind": kind, "name": name, "apiGroup": "rbac.authorization.k8s.io"})
        }
        None => panic!("subject {s}"),
    }
}

fn cluster_binding(name: &str, role: &str, subjects: &[&str]) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
           "metadata": {"name": name},
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
           "subjects": subjects.iter().map(|s| subject(s)).collect::<Vec<_>>()})
}

fn binding(ns: &str, name: &str, role: &str, subjects: &[&str]) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
           "metadata": {"name": name, "namespace": ns},
           "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
           "subjects": subjects.iter().map(|s| subject(s)).collect::<Vec<_>>()})
}

fn deployment(ns: &str, name: &str, labels: Value, spec: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": name, "namespace": ns},
           "spec": {"selector": {"matchLabels": labels.clone()},
                    "template": {"metadata": {"labels": labels}, "spec": spec}}})
}

fn simple(ns: &str, name: &str, image: &str) -> Value {
    deployment(
        ns,
        name,
        json!({"app": name}),
        json!({"containers": [{"name": name, "image": image}]}),
    )
}

fn service(ns: &str, name: &str, kind: &str, selector: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
           "spec": {"type": kind, "selector": selector, "ports": [{"port": 80, "targetPort": 8080}]}})
}

fn policy(ns: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
           "metadata": {"name": name, "namespace": ns}, "spec": spec})
}

fn deny_all(ns: &str) -> Value {
    policy(
        ns,
        "default-deny",
        json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}),
    )
}

// ---- RBAC -------------------------------------------------------------------------------

#[test]
fn rbac_reports_each_way_to_cluster_admin() {
    let objects = [
        cluster_role(
            "everything",
            json!([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]),
        ),
        cluster_role(
            "escalator",
            json!([{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["escalate"]}]),
        ),
        cluster_role(
            "binder",
            json!([{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["*"], "verbs": ["bind"]}]),
        ),
        cluster_role(
            "impersonator",
            json!([{"apiGroups": [""], "resources": ["groups"], "verbs": ["impersonate"]}]),
        ),
        cluster_role(
            "kubelet-proxy",
            json!([{"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["get"]}]),
        ),
        cluster_role(
            "csr",
            json!([
            {"apiGroups": ["certificates.k8s.io"], "resources": ["certificatesigningrequests"], "verbs": ["create"]},
            {"apiGroups": ["certificates.k8s.io"], "resources": ["certificatesigningrequests/approval"], "verbs": ["update"]},
            {"apiGroups": ["certificates.k8s.io"], "resources": ["signers"], "verbs": ["approve"]}]),
        ),
        cluster_role(
            "webhooks",
            json!([{"apiGroups": ["admissionregistration.k8s.io"], "resources": ["mutatingwebhookconfigurations"], "verbs": ["patch"]}]),
        ),
        cluster_role(
            "exec-all",
            json!([{"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}]),
        ),
        cluster_role(
            "tokens",
            json!([{"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]}]),
        ),
        cluster_binding(
            "a",
            "everything",
            &["User u-everything", "Group system:authenticated"],
        ),
        cluster_binding("b", "escalator", &["User u-escalate"]),
        cluster_binding("c", "binder", &["User u-bind"]),
        cluster_binding("d", "impersonator", &["User u-impersonate"]),
        cluster_binding("e", "kubelet-proxy", &["User u-proxy"]),
        cluster_binding("f", "csr", &["User u-csr"]),
        cluster_binding("g", "webhooks", &["User u-webhooks"]),
        cluster_binding("h", "exec-all", &["User u-exec"]),
        cluster_binding("i", "tokens", &["User u-tokens"]),
        cluster_role(
            "pv",
            json!([{"apiGroups": [""], "resources": ["persistentvolumes"], "verbs": ["create"]}]),
        ),
        cluster_role(
            "patcher",
            json!([{"apiGroups": ["apps"], "resources": ["daemonsets"], "verbs": ["patch"]}]),
        ),
        cluster_role(
            "debugger",
            json!([{"apiGroups": [""], "resources": ["pods/ephemeralcontainers"], "verbs": ["update"]}]),
        ),
        cluster_binding("j", "pv", &["User u-pv"]),
        cluster_binding("k", "patcher", &["User u-patch"]),
        cluster_binding("l", "debugger", &["User u-debug"]),
    ];
    let hits = hits(&objects);
    assert_eq!(
        found(&hits, "BW-CLU-00"),
        set(&[
            ("BW-CLU-001", "Group/system:authenticated"),
            ("BW-CLU-001", "User/u-bind"),
            ("BW-CLU-001", "User/u-debug"),
            ("BW-CLU-001", "User/u-patch"),
            ("BW-CLU-001", "User/u-pv"),
            ("BW-CLU-001", "User/u-csr"),
            ("BW-CLU-001", "User/u-escalate"),
            ("BW-CLU-001", "User/u-everything"),
            ("BW-CLU-001", "User/u-exec"),
            ("BW-CLU-001", "User/u-impersonate"),
            ("BW-CLU-001", "User/u-proxy"),
            ("BW-CLU-001", "User/u-tokens"),
            ("BW-CLU-001", "User/u-webhooks"),
        ])
    );
    assert!(message(&hits, "BW-CLU-001", "User/u-patch")
        .contains("change daemonsets in every namespace"));
    assert!(message(&hits, "BW-CLU-001", "User/u-proxy")
        .contains("User u-proxy → ClusterRoleBinding e → ClusterRole kubelet-proxy → nodes/proxy"));
}

#[test]
fn rbac_stays_quiet_on_harmless_and_built_in_grants() {
    let objects = [
        namespace("team", json!({})),
        cluster_role(
            "view",
            json!([{"apiGroups": [""], "resources": ["pods", "configmaps"], "verbs": ["get", "list", "watch"]}]),
        ),
        cluster_role(
            "edit-ish",
            json!([
            {"apiGroups": ["", "apps"], "resources": ["pods", "deployments", "pods/exec", "secrets"], "verbs": ["*"]}]),
        ),
        cluster_role(
            "csr-create",
            json!([{"apiGroups": ["certificates.k8s.io"], "resources": ["certificatesigningrequests"], "verbs": ["create"]}]),
        ),
        cluster_role(
            "bind-view-only",
            json!([{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["bind"], "resourceNames": ["view"]}]),
        ),
        cluster_role(
            "kubelet-proxy",
            json!([{"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["get"]}]),
        ),
        cluster_role(
            "cluster-admin",
            json!([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]),
        ),
        cluster_binding("viewers", "view", &["Group everyone-reads"]),
        // Everything in a namespace where no privileged account lives: no path to cluster-admin.
        binding("team", "team-edit", "edit-ish", &["User bob"]),
        cluster_binding("csr-makers", "csr-create", &["User frank"]),
        cluster_binding("view-binders", "bind-view-only", &["User grace"]),
        // A RoleBinding cannot grant a cluster-scoped resource.
        binding("team", "proxy-in-ns", "kubelet-proxy", &["User henry"]),
        // Built-in identities and bootstrap bindings.
        cluster_binding("cluster-admin", "cluster-admin", &["Group system:masters"]),
        cluster_binding(
            "system:controller:x",
            "cluster-admin",
            &["sa kube-system/x-controller"],
        ),
        cluster_binding(
            "scheduler-extra",
            "cluster-admin",
            &["User system:kube-scheduler", "Group system:nodes"],
        ),
        cluster_binding(
            "kubeadm:cluster-admins",
            "cluster-admin",
            &["Group kubeadm:cluster-admins"],
        ),
    ];
    let hits = hits(&objects);
    assert_eq!(found(&hits, "BW-CLU-00"), set(&[]), "{hits:#?}");
}

#[test]
fn rbac_follows_paths_through_namespaces_and_aggregated_roles() {
    let objects = [
        cluster_role(
            "cluster-admin",
            json!([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]),
        ),
        cluster_role(
            "pod-maker",
            json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["create"]}]),
        ),
        cluster_role(
            "secret-reader",
            json!([{"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}]),
        ),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "agg"},
               "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"example.com/agg": "true"}}]}, "rules": []}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": "agg-piece", "labels": {"example.com/agg": "true"}},
               "rules": [{"apiGroups": ["admissionregistration.k8s.io"], "resources": ["validatingwebhookconfigurations"], "verbs": ["update"]}]}),
        // The bootstrap controller account is privileged (not reported) ...
        cluster_binding(
            "system:controller:ds",
            "cluster-admin",
            &["sa kube-system/daemon-set-controller"],
        ),
        // ... so creating pods in kube-system is a path; ops/builder reaches it, dev/alice reaches ops/builder.
        binding("kube-system", "builder", "pod-maker", &["sa ops/builder"]),
        binding("ops", "alice-secrets", "secret-reader", &["User alice"]),
        cluster_binding("agg-users", "agg", &["User webhook-editor"]),
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "builder", "namespace": "ops"}, "automountServiceAccountToken": false}),
        deployment(
            "ops",
            "quiet",
            json!({"app": "quiet"}),
            json!({"serviceAccountName": "builder", "containers": [{"name": "c", "image": "x@sha256:00"}]}),
        ),
        deployment(
            "ops",
            "loud",
            json!({"app": "loud"}),
            json!({"serviceAccountName": "builder", "automountServiceAccountToken": true, "containers": [{"name": "c", "image": "x@sha256:00"}]}),
        ),
    ];
    let hits = hits(&objects);
    assert_eq!(
        found(&hits, "BW-CLU-00"),
        set(&[
            ("BW-CLU-001", "ServiceAccount/ops/builder"),
            ("BW-CLU-001", "User/alice"),
            ("BW-CLU-001", "User/webhook-editor"),
            // The SA opts out of automounting; only the pod that opts back in carries the token.
            ("BW-CLU-002", "Deployment/ops/loud"),
        ])
    );
    assert!(message(&hits, "BW-CLU-001", "User/alice").contains(
        "User alice → RoleBinding ops/alice-secrets → ClusterRole secret-reader → read secrets in ops (ServiceAccount ops/builder is cluster-admin-equivalent: ServiceAccount ops/builder → RoleBinding kube-system/builder → ClusterRole pod-maker → create pods in kube-system (ServiceAccount kube-system/daemon-set-controller is cluster-admin-equivalent"
    ));
}

#[test]
fn rbac_messages_stay_readable_when_many_pods_mount_the_token() {
    let mut objects = vec![
        cluster_role(
            "cluster-admin",
            json!([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]),
        ),
        cluster_binding("ci-admin", "cluster-admin", &["sa ci/default"]),
    ];
    for i in 0..8 {
        objects.push(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("job-{i}"), "namespace": "ci"},
                            "spec": {"containers": [{"name": "c", "image": "x@sha256:00"}]}}));
    }
    let hits = hits(&objects);
    let m = message(&hits, "BW-CLU-001", "ServiceAccount/ci/default");
    assert!(m.ends_with("its token is mounted by Pod/ci/job-0, Pod/ci/job-1, Pod/ci/job-2, Pod/ci/job-3, Pod/ci/job-4, and 3 more"), "{m}");
    assert_eq!(
        hits.iter().filter(|h| h.check_id == "BW-CLU-002").count(),
        8
    );
}

// ---- Network segmentation ------------------------------------------------------------------

#[test]
fn network_reports_unisolated_namespaces_and_workloads() {
    let objects = [
        simple("open", "app", "a@sha256:00"),
        simple("half", "web", "a@sha256:00"),
        simple("half", "db", "a@sha256:00"),
        policy(
            "half",
            "web-only",
            json!({"podSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["web"]}]},
                                          "ingress": [{"from": [{"podSelector": {}}]}],
                                          "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "db"}}}]}]}),
        ),
        simple("lax", "app", "a@sha256:00"),
        policy(
            "lax",
            "everything",
            json!({"podSelector": {}, "policyTypes": ["Ingress", "Egress"],
                                            "ingress": [{}], "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]}),
        ),
        simple("closed", "app", "a@sha256:00"),
        deny_all("closed"),
        policy(
            "closed",
            "publish-8080",
            json!({"podSelector": {}, "ingress": [{"ports": [{"port": 8080}]}],
                                                "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["169.254.169.254/32"]}}]}]}),
        ),
        // Control plane namespaces are left alone by default.
        simple("kube-system", "coredns", "a:1"),
    ];
    let hits = hits(&objects);
    assert_eq!(
        found(&hits, "BW-CLU-01"),
        set(&[
            ("BW-CLU-010", "Namespace/open"),
            ("BW-CLU-011", "Namespace/open"),
            // Without policyTypes, egress rules make it an egress policy too.
            ("BW-CLU-012", "Deployment/half/db"),
            ("BW-CLU-013", "Deployment/half/db"),
            ("BW-CLU-014", "NetworkPolicy/lax/everything"),
        ])
    );
    let lax: Vec<_> = hits.iter().filter(|h| h.check_id == "BW-CLU-014").collect();
    assert_eq!(lax.len(), 2, "one per allow-all rule: {lax:#?}");
}

#[test]
fn network_joins_outside_exposure_with_what_runs() {
    let objects = [
        simple("shop", "lb", "shop/lb:1"),
        service("shop", "lb", "LoadBalancer", json!({"app": "lb"})),
        simple("shop", "private-lb", "shop/private:1"),
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "private-lb", "namespace": "shop",
               "annotations": {"service.beta.kubernetes.io/aws-load-balancer-internal": "true"}},
               "spec": {"type": "LoadBalancer", "selector": {"app": "private-lb"}, "ports": [{"port": 80}]}}),
        simple("shop", "np", "shop/np:1"),
        service("shop", "np", "NodePort", json!({"app": "np"})),
        simple("shop", "internal", "shop/internal:1"),
        service("shop", "internal", "ClusterIP", json!({"app": "internal"})),
        simple("shop", "routed", "shop/routed:1"),
        service("shop", "routed", "ClusterIP", json!({"app": "routed"})),
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "r", "namespace": "shop"},
               "spec": {"rules": [{"backendRefs": [{"name": "routed", "port": 80}]}]}}),
        deployment(
            "shop",
            "host",
            json!({"app": "host"}),
            json!({"hostNetwork": true, "containers": [{"name": "c", "image": "shop/host:1"}]}),
        ),
        policy(
            "shop",
            "lb-from-lb",
            json!({"podSelector": {"matchLabels": {"app": "np"}}, "policyTypes": ["Ingress"],
                                            "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}]}),
        ),
    ];
    let hits = hits(&objects);
    assert_eq!(
        found(&hits, "BW-CLU-015"),
        set(&[
            ("BW-CLU-015", "Deployment/shop/host"),
            ("BW-CLU-015", "Deployment/shop/lb"),
            ("BW-CLU-015", "Deployment/shop/routed"),
        ])
    );
    assert!(message(&hits, "BW-CLU-015", "Deployment/shop/routed")
        .contains("HTTPRoute shop/r → Service shop/routed"));
    assert!(message(&hits, "BW-CLU-015", "Deployment/shop/lb").contains("(running shop/lb:1)"));
}

// ---- Exposed dashboards and APIs ------------------------------------------------------------

#[test]
fn dashboards_are_reported_when_exposed_or_unauthenticated() {
    let grafana = |name: &str, env: Value| {
        deployment(
            "mon",
            name,
            json!({"app": name}),
            json!({"containers": [{"name": "grafana", "image": "grafana/grafana:10.2.3", "env": env}]}),
        )
    };
    let objects = [
        grafana(
            "anon",
            json!([{"name": "GF_AUTH_ANONYMOUS_ENABLED", "value": "true"}]),
        ),
        grafana("exposed", json!([])),
        service("mon", "exposed", "LoadBalancer", json!({"app": "exposed"})),
        grafana(
            "private",
            json!([{"name": "GF_AUTH_ANONYMOUS_ENABLED", "value": "false"}]),
        ),
        deployment(
            "dash",
            "dashboard",
            json!({"k8s-app": "dashboard"}),
            json!({"containers": [{"name": "d", "image": "kubernetesui/dashboard:v2.7.0",
                                   "args": ["--auto-generate-certificates", "--enable-skip-login=false"]}]}),
        ),
        deployment(
            "argocd",
            "repo-server",
            json!({"app": "repo"}),
            json!({"containers": [{"name": "r", "image": "quay.io/argoproj/argocd:v2.9.3", "command": ["argocd-repo-server"], "args": ["--insecure"]}]}),
        ),
        deployment(
            "argocd",
            "server",
            json!({"app": "server"}),
            json!({"containers": [{"name": "s", "image": "quay.io/argoproj/argocd:v2.9.3", "args": ["/usr/local/bin/argocd-server", "--disable-auth"]}]}),
        ),
        deployment(
            "nodes",
            "kubelet-proxy",
            json!({"app": "kp"}),
            json!({"containers": [{"name": "k", "image": "example/kubelet-proxy:1", "ports": [{"containerPort": 10255}]}]}),
        ),
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "etcd-cp", "namespace": "kube-system"},
               "spec": {"hostNetwork": true, "containers": [{"name": "etcd", "image": "registry.k8s.io/etcd:3.5.10-0",
                        "command": ["etcd", "--client-cert-auth=true"], "ports": [{"containerPort": 2379, "hostPort": 2379}]}]}}),
        deployment(
            "ds",
            "lab",
            json!({"app": "lab"}),
            json!({"containers": [{"name": "nb", "image": "quay.io/jupyter/scipy-notebook:2024-01-15", "args": ["start-notebook.py", "--NotebookApp.token="]}]}),
        ),
    ];
    let hits = hits(&objects);
    assert_eq!(
        found(&hits, "BW-CLU-02"),
        set(&[
            ("BW-CLU-020", "Deployment/mon/exposed"),
            ("BW-CLU-021", "Deployment/argocd/server"),
            ("BW-CLU-021", "Deployment/ds/lab"),
            ("BW-CLU-021", "Deployment/mon/anon"),
            ("BW-CLU-021", "Deployment/nodes/kubelet-proxy"),
        ])
    );
    assert!(message(&hits, "BW-CLU-021", "Deployment/argocd/server").contains("--disable-auth"));
}

#[test]
fn dashboards_without_authentication_are_recognised_by_arguments_and_ports() {
    let one = |ns: &str, name: &str, container: Value| {
        deployment(
            ns,
            name,
            json!({"app": name}),
            json!({"containers": [container]}),
        )
    };
    let objects = [
        one(
            "kv",
            "etcd-open",
            json!({"name": "etcd", "image": "quay.io/coreos/etcd:v3.5.10",
            "command": ["/usr/local/bin/etcd", "--listen-client-urls=http://0.0.0.0:2379"]}),
        ),
        one(
            "kv",
            "etcd-certs",
            json!({"name": "etcd", "image": "quay.io/coreos/etcd:v3.5.10",
            "command": ["etcd", "--client-cert-auth=true", "--trusted-ca-file=/pki/ca.crt"]}),
        ),
        one(
            "kv",
            "etcdctl-backup",
            json!({"name": "backup", "image": "quay.io/coreos/etcd:v3.5.10",
            "command": ["etcdctl", "snapshot", "save", "/backup/db"]}),
        ),
        one(
            "dash",
            "plain-http",
            json!({"name": "d", "image": "kubernetesui/dashboard:v2.7.0",
            "args": ["--namespace=dash", "--insecure-port=9090"]}),
        ),
        one(
            "dash",
            "with-certs",
            json!({"name": "d", "image": "kubernetesui/dashboard:v2.7.0",
            "args": ["--tls-cert-file=/certs/tls.crt", "--tls-key-file=/certs/tls.key"]}),
        ),
        one(
            "ci",
            "dockerd",
            json!({"name": "d", "image": "example/builder:1",
            "args": ["dockerd", "-H", "tcp://0.0.0.0:2375"]}),
        ),
        one(
            "ci",
            "dockerd-tls",
            json!({"name": "d", "image": "example/builder:1",
            "args": ["dockerd", "--tlsverify", "-H", "tcp://0.0.0.0:2375"]}),
        ),
        one(
            "mon",
            "prom-admin",
            json!({"name": "p", "image": "prom/prometheus:v2.48.1",
            "args": ["--web.enable-admin-api", "--web.enable-lifecycle"]}),
        ),
        one(
            "mon",
            "prom-admin-auth",
            json!({"name": "p", "image": "prom/prometheus:v2.48.1",
            "args": ["--web.enable-admin-api", "--web.config.file=/etc/web.yml"]}),
        ),
        one(
            "mon",
            "grafana-sso",
            json!({"name": "g", "image": "grafana/grafana-oss:10.2.3",
            "env": [{"name": "GF_AUTH_DISABLE_LOGIN_FORM", "value": "true"}]}),
        ),
    ];
    let hits = hits(&objects);
    assert_eq!(
        found(&hits, "BW-CLU-021"),
        set(&[
            ("BW-CLU-021", "Deployment/ci/dockerd"),
            ("BW-CLU-021", "Deployment/dash/plain-http"),
            ("BW-CLU-021", "Deployment/kv/etcd-open"),
            ("BW-CLU-021", "Deployment/mon/grafana-sso"),
            ("BW-CLU-021", "Deployment/mon/prom-admin"),
        ])
    );
    assert!(
        message(&hits, "BW-CLU-021", "Deployment/kv/etcd-open").contains("no --client-cert-auth")
    );
    assert!(!message(&hits, "BW-CLU-021", "Deployment/mon/prom-admin").contains("lifecycle"));
}

// ---- Service-to-service authentication ------------------------------------------------------

fn peer_auth(ns: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": "security.istio.io/v1beta1", "kind": "PeerAuthentication",
           "metadata": {"name": name, "namespace": ns}, "spec": spec})
}

fn authz(ns: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
           "metadata": {"name": name, "namespace": ns}, "spec": spec})
}

#[test]
fn istio_mtls_follows_precedence_and_authorization_coverage() {
    let meshed = json!({"istio-injection": "enabled"});
    let objects = [
        peer_auth(
            "istio-system",
            "default",
            json!({"mtls": {"mode": "STRICT"}}),
        ),
        namespace("inherits", meshed.clone()),
        peer_auth("inherits", "unset", json!({"mtls": {"mode": "UNSET"}})),
        authz("inherits", "deny-nothing", json!({})),
        namespace("relaxed", json!({"istio.io/rev": "1-20"})),
        peer_auth(
            "relaxed",
            "default",
            json!({"mtls": {"mode": "PERMISSIVE"}}),
        ),
        authz("relaxed", "open", json!({"action": "ALLOW", "rules": [{}]})),
        namespace("strict", meshed.clone()),
        authz(
            "strict",
            "narrow",
            json!({"action": "ALLOW", "rules": [{"from": [{"source": {"namespaces": ["strict"]}}]}]}),
        ),
        simple("strict", "legacy", "a@sha256:00"),
        simple("strict", "metrics", "a@sha256:00"),
        simple("strict", "fine", "a@sha256:00"),
        peer_auth(
            "strict",
            "legacy",
            json!({"selector": {"matchLabels": {"app": "legacy"}}, "mtls": {"mode": "DISABLE"}}),
        ),
        peer_auth(
            "strict",
            "metrics",
            json!({"selector": {"matchLabels": {"app": "metrics"}}, "mtls": {"mode": "STRICT"},
                                               "portLevelMtls": {"9090": {"mode": "PERMISSIVE"}}}),
        ),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "no-sidecar", "namespace": "strict"},
               "spec": {"template": {"metadata": {"labels": {"app": "no-sidecar"}, "annotations": {"sidecar.istio.io/inject": "false"}},
                                     "spec": {"containers": [{"name": "c", "image": "a@sha256:00"}]}}}}),
        namespace("bare", meshed),
        namespace("outside", json!({})),
    ];
    let hits = hits(&objects);
    assert_eq!(
        found(&hits, "BW-CLU-03"),
        set(&[
            ("BW-CLU-030", "Namespace/relaxed"),
            ("BW-CLU-031", "Deployment/strict/legacy"),
            ("BW-CLU-031", "Deployment/strict/metrics"),
            ("BW-CLU-031", "Deployment/strict/no-sidecar"),
            ("BW-CLU-032", "Namespace/bare"),
            ("BW-CLU-033", "AuthorizationPolicy/relaxed/open"),
        ])
    );
    assert!(
        message(&hits, "BW-CLU-031", "Deployment/strict/metrics").contains("port 9090 PERMISSIVE")
    );

    // Without a mesh-wide policy, Istio's default is PERMISSIVE.
    let alone = hits_with(
        &[namespace("solo", json!({"istio-injection": "enabled"}))],
        &ClusterOptions::default(),
    );
    assert!(message(&alone, "BW-CLU-030", "Namespace/solo").contains("Istio's default"));
}

#[test]
fn linkerd_injection_is_checked_only_when_linkerd_runs() {
    let workloads = [
        namespace("meshed", json!({})),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "annotated", "annotations": {"linkerd.io/inject": "enabled"}}}),
        simple("annotated", "in", "a@sha256:00"),
        deployment(
            "annotated",
            "opted-out",
            json!({"app": "o"}),
            json!({"containers": [{"name": "c", "image": "a@sha256:00"}]}),
        ),
        simple("plain", "out", "a@sha256:00"),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "pod-level", "namespace": "plain"},
               "spec": {"template": {"metadata": {"labels": {"app": "p"}, "annotations": {"linkerd.io/inject": "enabled"}},
                                     "spec": {"containers": [{"name": "c", "image": "a@sha256:00"}]}}}}),
    ];
    let without = hits(&workloads);
    assert_eq!(found(&without, "BW-CLU-034"), set(&[]));

    let mut with = workloads.to_vec();
    with.push(namespace("linkerd", json!({})));
    // The opted-out workload says so on its pod template.
    with[3] = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "opted-out", "namespace": "annotated"},
                     "spec": {"template": {"metadata": {"labels": {"app": "o"}, "annotations": {"linkerd.io/inject": "disabled"}},
                                           "spec": {"containers": [{"name": "c", "image": "a@sha256:00"}]}}}});
    let hits = hits(&with);
    assert_eq!(
        found(&hits, "BW-CLU-034"),
        set(&[
            ("BW-CLU-034", "Deployment/annotated/opted-out"),
            ("BW-CLU-034", "Deployment/plain/out"),
        ])
    );
}

#[test]
fn ingress_and_gateway_listeners_need_tls() {
    let objects = [
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "plain", "namespace": "web"},
               "spec": {"rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "site", "port": {"number": 80}}}}]}}]}}),
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "tls", "namespace": "web"},
               "spec": {"tls": [{"hosts": ["a.example.com"], "secretName": "a"}],
                        "rules": [{"host": "a.example.com", "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "site", "port": {"number": 80}}}}]}}]}}),
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "mixed", "namespace": "web"},
               "spec": {"listeners": [{"name": "http", "protocol": "HTTP", "port": 80},
                                      {"name": "https", "protocol": "HTTPS", "port": 443, "tls": {"certificateRefs": [{"name": "a"}]}}]}}),
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": "secure", "namespace": "web"},
               "spec": {"listeners": [{"name": "https", "protocol": "HTTPS", "port": 443, "tls": {"certificateRefs": [{"name": "a"}]}}]}}),
    ];
    let hits = hits(&objects);
    assert_eq!(
        found(&hits, "BW-CLU-03"),
        set(&[
            ("BW-CLU-035", "Ingress/web/plain"),
            ("BW-CLU-036", "Gateway/web/mixed"),
        ])
    );
}

// ---- Images ----------------------------------------------------------------------------------

#[test]
fn images_pinning_and_registry_allow_list() {
    let objects = [
        simple("app", "pinned", "registry.example.com/team/app@sha256:0123"),
        simple("app", "tagged", "registry.example.com/team/app:1.2"),
        simple("app", "hub", "nginx:1.25"),
        simple("app", "org", "ghcr.io/org/tool@sha256:0123"),
        simple("app", "other-org", "ghcr.io/other/tool@sha256:0123"),
        simple("kube-system", "proxy", "registry.k8s.io/kube-proxy:v1.29.0"),
        simple("kube-system", "rogue", "evil.example.net/miner:1"),
    ];
    let options = ClusterOptions {
        allowed_registries: vec![
            "registry.example.com".into(),
            "ghcr.io/org".into(),
            "docker.io/library".into(),
            "registry.k8s.io".into(),
        ],
        ..ClusterOptions::default()
    };
    let hits = hits_with(&objects, &options);
    assert_eq!(
        found(&hits, "BW-CLU-04"),
        set(&[
            ("BW-CLU-040", "Deployment/app/hub"),
            ("BW-CLU-040", "Deployment/app/tagged"),
            ("BW-CLU-041", "Deployment/app/other-org"),
            ("BW-CLU-041", "Deployment/kube-system/rogue"),
        ])
    );
    // No allow-list: no registry findings.
    assert_eq!(
        found(
            &hits_with(&objects, &ClusterOptions::default()),
            "BW-CLU-041"
        ),
        set(&[])
    );
}
