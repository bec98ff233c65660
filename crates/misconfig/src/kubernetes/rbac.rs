//! RBAC checks on Role/ClusterRole rules and RoleBinding/ClusterRoleBinding subjects.

use super::{Object, Out};
use crate::yaml::Node;

/// Resources whose `create` lets a subject run code of its choosing in the namespace.
const WORKLOAD_RESOURCES: &[&str] = &[
    "pods",
    "deployments",
    "daemonsets",
    "statefulsets",
    "replicasets",
    "replicationcontrollers",
    "jobs",
    "cronjobs",
];

/// Resources whose control undermines the cluster's own security, with the verbs that do it:
/// admission webhooks (see or change every object), CSR approval (mint client certificates),
/// persistent volumes (mount any host path), token requests (act as any service account),
/// Service status (CVE-2020-8554 traffic interception).
const CRITICAL: &[(&str, &[&str])] = &[
    (
        "mutatingwebhookconfigurations",
        &["create", "update", "patch", "delete", "*"],
    ),
    (
        "validatingwebhookconfigurations",
        &["create", "update", "patch", "delete", "*"],
    ),
    (
        "certificatesigningrequests/approval",
        &["update", "patch", "*"],
    ),
    ("signers", &["approve", "sign", "*"]),
    ("persistentvolumes", &["create", "*"]),
    ("serviceaccounts/token", &["create", "*"]),
    ("services/status", &["update", "patch", "*"]),
];

pub(crate) fn check(obj: &Object, out: &mut Out) {
    match obj.kind {
        "Role" | "ClusterRole" => rules(obj, out),
        "RoleBinding" | "ClusterRoleBinding" => binding(obj, out),
        _ => {}
    }
}

fn rules(obj: &Object, out: &mut Out) {
    for rule in obj.node.get("rules").map(Node::seq).unwrap_or_default() {
        let verbs = rule.get("verbs").map(Node::strs).unwrap_or_default();
        let resources = rule.get("resources").map(Node::strs).unwrap_or_default();
        let verbs_key = rule.entry("verbs").map(|(k, _)| k);
        let resources_key = rule.entry("resources").map(|(k, _)| k);
        // Wildcards: each field that holds one, at its key.
        for field in ["apiGroups", "resources", "verbs", "nonResourceURLs"] {
            if let Some((k, v)) = rule.entry(field) {
                if v.strs().contains(&"*") {
                    out.hit(
                        obj,
                        k,
                        "BW-K8S-034",
                        format!("a rule grants every {field} (\"*\")"),
                    );
                }
            }
        }
        let any_verb = |vs: &[&str]| verbs.iter().any(|v| vs.contains(v));
        let has_res = |r: &str| resources.contains(&r);
        let dangerous: Vec<&str> = verbs
            .iter()
            .copied()
            .filter(|v| matches!(*v, "escalate" | "bind" | "impersonate"))
            .collect();
        if let (false, Some(k)) = (dangerous.is_empty(), verbs_key) {
            out.hit(
                obj,
                k,
                "BW-K8S-036",
                format!(
                    "a rule grants {}: a path to more privileges than the role holds",
                    dangerous.join(", ")
                ),
            );
        }
        let Some(rk) = resources_key else { continue };
        if has_res("secrets") && any_verb(&["get", "list", "watch", "*"]) {
            out.hit(
                obj,
                rk,
                "BW-K8S-037",
                "a rule lets its subjects read Secrets".into(),
            );
        }
        let exec: Vec<&str> = ["pods/exec", "pods/attach"]
            .into_iter()
            .filter(|r| has_res(r))
            .collect();
        if !exec.is_empty() && any_verb(&["create", "get", "*"]) {
            out.hit(
                obj,
                rk,
                "BW-K8S-038",
                format!(
                    "a rule grants {}: a shell in any pod it can reach",
                    exec.join(", ")
                ),
            );
        }
        if has_res("nodes/proxy") {
            out.hit(
                obj,
                rk,
                "BW-K8S-039",
                "a rule grants nodes/proxy: direct access to the kubelet API".into(),
            );
        }
        let critical: Vec<&str> = CRITICAL
            .iter()
            .filter(|(r, vs)| has_res(r) && any_verb(vs))
            .map(|(r, _)| *r)
            .collect();
        if !critical.is_empty() {
            out.hit(
                obj,
                rk,
                "BW-K8S-048",
                format!("a rule grants control of {}", critical.join(", ")),
            );
        }
        let created: Vec<&str> = WORKLOAD_RESOURCES
            .iter()
            .copied()
            .filter(|r| has_res(r))
            .collect();
        if !created.is_empty() && any_verb(&["create", "*"]) {
            out.hit(
                obj,
                rk,
                "BW-K8S-040",
                format!("a rule lets its subjects create {}", created.join(", ")),
            );
        }
    }
}

fn binding(obj: &Object, out: &mut Out) {
    let subjects = obj.node.get("subjects").map(Node::seq).unwrap_or_default();
    let role = obj.node.get("roleRef");
    if let Some((k, v)) = role.and_then(|r| r.entry("name")) {
        if v.as_str() == Some("cluster-admin") {
            let users: Vec<&str> = subjects
                .iter()
                .filter_map(|s| s.get("name").and_then(Node::as_str))
                .filter(|n| !n.starts_with("system:"))
                .collect();
            if !users.is_empty() {
                out.hit(
                    obj,
                    k,
                    "BW-K8S-035",
                    format!("binds cluster-admin to {}", users.join(", ")),
                );
            }
        }
    }
    for s in subjects {
        if let Some((k, v)) = s.entry("name") {
            let name = v.as_str().unwrap_or("");
            if name == "default" && s.get("kind").and_then(Node::as_str) == Some("ServiceAccount") {
                out.hit(
                    obj,
                    k,
                    "BW-K8S-030",
                    format!(
                        "grants role {:?} to a namespace's default service account, which every pod without its own account runs as",
                        role.and_then(|r| r.get("name")).and_then(Node::as_str).unwrap_or("")
                    ),
                );
            }
            if matches!(
                name,
                "system:anonymous"
                    | "system:unauthenticated"
                    | "system:authenticated"
                    | "system:masters"
            ) {
                out.hit(
                    obj,
                    k,
                    "BW-K8S-041",
                    format!(
                        "binds role {:?} to {name}",
                        role.and_then(|r| r.get("name"))
                            .and_then(Node::as_str)
                            .unwrap_or("")
                    ),
                );
            }
        }
    }
}
