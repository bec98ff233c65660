//! Exposure checks: namespaces without a NetworkPolicy, allow-all policies, admin and database
//! ports on LoadBalancer/NodePort Services, the Kubernetes Dashboard, Ingress without TLS, and
//! objects placed in the `default` namespace.

use std::collections::{BTreeMap, BTreeSet};

use super::workload::{is_workload, pod_labels};
use super::{Object, Out};
use crate::yaml::Node;

/// Ports that must not face the outside: (port, what listens there).
const ADMIN_PORTS: &[(i64, &str)] = &[
    (22, "SSH"),
    (23, "telnet"),
    (2375, "the Docker API without TLS"),
    (2376, "the Docker API"),
    (2379, "etcd"),
    (2380, "etcd peers"),
    (3306, "MySQL"),
    (3389, "RDP"),
    (5432, "PostgreSQL"),
    (5984, "CouchDB"),
    (6379, "Redis"),
    (6443, "the Kubernetes API server"),
    (8443, "the Kubernetes Dashboard"),
    (9200, "Elasticsearch"),
    (9300, "Elasticsearch transport"),
    (10250, "the kubelet API"),
    (10255, "the kubelet read-only API"),
    (11211, "memcached"),
    (27017, "MongoDB"),
];

/// Namespaced kinds whose placement in `default` is reported.
const NAMESPACED: &[&str] = &[
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "Service",
    "Secret",
    "ConfigMap",
    "Role",
    "RoleBinding",
    "ServiceAccount",
    "Ingress",
    "PersistentVolumeClaim",
];

pub(crate) fn check(obj: &Object, out: &mut Out) {
    match obj.kind {
        "Service" => service(obj, out),
        "Ingress" => ingress(obj, out),
        "NetworkPolicy" => policy(obj, out),
        _ => {}
    }
    // The default namespace's own `default` ServiceAccount and the API server's `kubernetes`
    // Service exist in every cluster; a manifest of them is a dump, not a placement choice.
    let built_in = matches!(
        (obj.kind, obj.name),
        ("ServiceAccount", "default") | ("Service", "kubernetes")
    );
    if NAMESPACED.contains(&obj.kind) && !built_in {
        let meta = obj.node.entry("metadata");
        match meta.and_then(|(_, m)| m.entry("namespace")) {
            Some((k, v)) if v.as_str() == Some("default") => out.hit(
                obj,
                k,
                "BW-K8S-029",
                format!("{} is placed in the default namespace", obj.kind),
            ),
            Some(_) => {}
            None => out.hit(
                obj,
                meta.map(|(k, _)| k).unwrap_or_else(|| obj.at()),
                "BW-K8S-029",
                format!(
                    "{} names no namespace, so it lands in the current one (often default)",
                    obj.kind
                ),
            ),
        }
    }
}

fn service(obj: &Object, out: &mut Out) {
    let Some(spec) = obj.node.get("spec") else {
        return;
    };
    for p in spec.get("ports").map(Node::seq).unwrap_or_default() {
        if let Some((k, v)) = p.entry("port") {
            if v.as_i64() == Some(44134) || obj.name == "tiller-deploy" {
                out.hit(
                    obj,
                    k,
                    "BW-K8S-049",
                    "the Service exposes Helm v2 Tiller's gRPC port".into(),
                );
            }
        }
    }
    let Some((type_key, t)) = spec.entry("type") else {
        return;
    };
    let t = t.as_str().unwrap_or("");
    if !matches!(t, "LoadBalancer" | "NodePort") {
        return;
    }
    let dashboard = obj.name.contains("dashboard")
        || spec.get("selector").is_some_and(|s| {
            s.map()
                .iter()
                .any(|(_, v)| v.as_str().is_some_and(|v| v.contains("dashboard")))
        });
    if dashboard {
        out.hit(
            obj,
            type_key,
            "BW-K8S-045",
            format!("the Kubernetes Dashboard is exposed by a {t} Service"),
        );
    }
    for p in spec.get("ports").map(Node::seq).unwrap_or_default() {
        let found = ["port", "targetPort"].into_iter().find_map(|key| {
            let (k, v) = p.entry(key)?;
            let n = v.as_i64()?;
            ADMIN_PORTS
                .iter()
                .find(|(port, _)| *port == n)
                .map(|(port, what)| (k, *port, *what))
        });
        if let Some((k, port, what)) = found {
            if port == 8443 && !dashboard {
                continue;
            }
            out.hit(
                obj,
                k,
                "BW-K8S-044",
                format!("a {t} Service exposes port {port} ({what}) outside the cluster"),
            );
        }
    }
}

fn ingress(obj: &Object, out: &mut Out) {
    // ingress-nginx snippet annotations splice raw NGINX configuration (and, before the fix,
    // Lua) into the controller, which holds every Secret of the cluster (CVE-2021-25742).
    let annotations = obj.node.path(&["metadata", "annotations"]);
    for (k, _) in annotations.map(Node::map).unwrap_or_default() {
        let Some(key) = k.as_str() else { continue };
        if let Some(name) = key.strip_prefix("nginx.ingress.kubernetes.io/") {
            if name.ends_with("-snippet") || name == "configuration-snippet" {
                out.hit(
                    obj,
                    k,
                    "BW-K8S-047",
                    format!("annotation {key} injects raw NGINX configuration into the ingress controller"),
                );
            }
        }
    }
    let Some((k, spec)) = obj.node.entry("spec") else {
        return;
    };
    if spec.get("tls").is_none_or(Node::is_empty) {
        out.hit(
            obj,
            k,
            "BW-K8S-046",
            "the Ingress serves plain HTTP: it has no tls section".into(),
        );
    }
}

fn policy(obj: &Object, out: &mut Out) {
    let Some(spec) = obj.node.get("spec") else {
        return;
    };
    if !spec.get("podSelector").is_none_or(Node::is_empty) {
        return;
    }
    for (dir, peers) in [("ingress", "from"), ("egress", "to")] {
        for rule in spec.get(dir).map(Node::seq).unwrap_or_default() {
            let open = rule.is_empty()
                || (rule.get("ports").is_none()
                    && rule
                        .get(peers)
                        .is_some_and(|p| p.seq().iter().any(Node::is_empty) || p.is_empty()));
            if open {
                out.hit(obj, rule, "BW-K8S-043", format!("an empty {dir} rule allows all {dir} traffic for every pod in the namespace"));
            }
        }
    }
}

/// Namespaces with workloads and no NetworkPolicy in the scanned set: reported once, on the
/// first workload (in file order) of the namespace. In a namespace that has policies, each
/// workload whose pod labels no policy's `podSelector` matches is reported on its own.
pub(crate) fn check_set(objects: &[Object], out: &mut Out) {
    let mut policies: BTreeMap<&str, Vec<&Node>> = BTreeMap::new();
    for o in objects.iter().filter(|o| o.kind == "NetworkPolicy") {
        // Only a policy of type Ingress isolates the pods it selects from incoming traffic;
        // without policyTypes, every policy is of type Ingress.
        let types = o.node.path(&["spec", "policyTypes"]).map(Node::strs);
        if types.is_some_and(|t| !t.contains(&"Ingress")) {
            policies.entry(o.effective_namespace()).or_default();
            continue;
        }
        let selector = o.node.path(&["spec", "podSelector"]);
        // A policy without a podSelector is invalid: it selects nothing.
        policies
            .entry(o.effective_namespace())
            .or_default()
            .extend(selector);
    }
    let mut reported: BTreeSet<&str> = BTreeSet::new();
    for o in objects.iter().filter(|o| is_workload(o.kind)) {
        let ns = o.effective_namespace();
        match policies.get(ns) {
            None if reported.insert(ns) => out.hit(
                o,
                o.at(),
                "BW-K8S-042",
                format!("namespace {ns:?} runs workloads and no NetworkPolicy in the scanned files selects them: every pod accepts traffic from anywhere"),
            ),
            None => {}
            Some(selectors) => {
                let labels = pod_labels(o);
                if !selectors.iter().any(|s| selects(s, labels)) {
                    out.hit(
                        o,
                        o.at(),
                        "BW-K8S-042",
                        format!("no NetworkPolicy of type Ingress in namespace {ns:?} selects the pods of {}: they accept traffic from anywhere", o.resource()),
                    );
                }
            }
        }
    }
}

/// Whether a label selector (`matchLabels`, `matchExpressions`) matches `labels`; an empty
/// selector matches every pod.
fn selects(selector: &Node, labels: Option<&Node>) -> bool {
    let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Node::as_str);
    let labels_ok = selector
        .get("matchLabels")
        .map(Node::map)
        .unwrap_or_default()
        .iter()
        .all(|(k, v)| k.as_str().is_some_and(|k| label(k) == v.as_str()));
    let exprs_ok = selector
        .get("matchExpressions")
        .map(Node::seq)
        .unwrap_or_default()
        .iter()
        .all(|e| {
            let key = e.get("key").and_then(Node::as_str).unwrap_or("");
            let values = e.get("values").map(Node::strs).unwrap_or_default();
            match e.get("operator").and_then(Node::as_str) {
                Some("In") => label(key).is_some_and(|v| values.contains(&v)),
                Some("NotIn") => label(key).is_none_or(|v| !values.contains(&v)),
                Some("Exists") => label(key).is_some(),
                Some("DoesNotExist") => label(key).is_none(),
                _ => true,
            }
        });
    labels_ok && exprs_ok
}
