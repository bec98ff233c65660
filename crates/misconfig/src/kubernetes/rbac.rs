//! RBAC checks on Role/ClusterRole rules and RoleBinding/ClusterRoleBinding subjects.

use super::{Object, Out};
use crate::yaml::Node;

/// Resources whose `create` lets a subject run code of its choosing in the namespace, with
/// their API groups (`extensions` still serves the old workload kinds).
const WORKLOAD_RESOURCES: &[(&str, &[&str])] = &[
    ("pods", &[""]),
    ("deployments", &["apps", "extensions"]),
    ("daemonsets", &["apps", "extensions"]),
    ("statefulsets", &["apps"]),
    ("replicasets", &["apps", "extensions"]),
    ("replicationcontrollers", &[""]),
    ("jobs", &["batch"]),
    ("cronjobs", &["batch"]),
];

/// Resources whose control undermines the cluster's own security, with their API group and
/// the verbs that do it: admission webhooks (see or change every object), persistent volumes
/// (mount any host path), token requests (act as any service account), Service status
/// (CVE-2020-8554 traffic interception). Approving CSRs is judged on the whole role, below.
const CRITICAL: &[(&str, &str, &[&str])] = &[
    (
        "mutatingwebhookconfigurations",
        "admissionregistration.k8s.io",
        &["create", "update", "patch", "delete", "*"],
    ),
    (
        "validatingwebhookconfigurations",
        "admissionregistration.k8s.io",
        &["create", "update", "patch", "delete", "*"],
    ),
    ("persistentvolumes", "", &["create", "*"]),
    ("serviceaccounts/token", "", &["create", "*"]),
    ("services/status", "", &["update", "patch", "*"]),
];

/// RBAC's own resources: `bind` and `escalate` on them (or every verb) lets a subject grant
/// itself permissions it does not hold.
const RBAC_RESOURCES: &[&str] = &[
    "roles",
    "clusterroles",
    "rolebindings",
    "clusterrolebindings",
];

pub(crate) fn check(obj: &Object, out: &mut Out) {
    match obj.kind {
        "Role" | "ClusterRole" => rules(obj, out),
        "RoleBinding" | "ClusterRoleBinding" => binding(obj, out),
        _ => {}
    }
}

/// One rule's lists, matched the way the API server's authorizer matches them: `*` is every
/// group, resource or verb, and `*/sub` is that subresource of every resource. `*/*` is not
/// a wildcard to the authorizer, but whoever writes it means one, so it is read as `*`.
struct Rule<'a> {
    groups: Option<Vec<&'a str>>,
    resources: Vec<&'a str>,
    verbs: Vec<&'a str>,
}

impl Rule<'_> {
    fn group(&self, group: &str) -> bool {
        // A rule without apiGroups is invalid for resources; read it as unrestricted rather
        // than miss what its author meant.
        self.groups
            .as_ref()
            .is_none_or(|gs| gs.iter().any(|g| *g == "*" || *g == group))
    }

    fn resource(&self, wanted: &str) -> bool {
        let sub = wanted.split_once('/').map(|(_, s)| s);
        self.resources.iter().any(|r| {
            *r == "*"
                || *r == "*/*"
                || *r == wanted
                || sub.is_some_and(|s| r.strip_prefix("*/") == Some(s))
        })
    }

    fn grants(&self, group: &str, resource: &str, verbs: &[&str]) -> bool {
        self.group(group)
            && self.resource(resource)
            && self.verbs.iter().any(|v| *v == "*" || verbs.contains(v))
    }
}

fn rules(obj: &Object, out: &mut Out) {
    // Approving a CSR takes both `update` on certificatesigningrequests/approval and `approve`
    // on the signer; either alone approves nothing, so the pair is judged across the role.
    let mut csr_approval: Option<&Node> = None;
    let mut csr_signer: Option<&Node> = None;
    for rule in obj.node.get("rules").map(Node::seq).unwrap_or_default() {
        let r = Rule {
            groups: rule.get("apiGroups").map(Node::strs),
            resources: rule.get("resources").map(Node::strs).unwrap_or_default(),
            verbs: rule.get("verbs").map(Node::strs).unwrap_or_default(),
        };
        let verbs_key = rule.entry("verbs").map(|(k, _)| k);
        let resources_key = rule.entry("resources").map(|(k, _)| k);
        // Wildcards: each field that holds one (`*`, `*/scale`), at its key.
        for field in ["apiGroups", "resources", "verbs", "nonResourceURLs"] {
            if let Some((k, v)) = rule.entry(field) {
                if v.strs().iter().any(|s| s.contains('*')) {
                    out.hit(
                        obj,
                        k,
                        "BW-K8S-034",
                        format!("a rule grants every {field} (\"*\")"),
                    );
                }
            }
        }
        let mut dangerous: Vec<&str> = r
            .verbs
            .iter()
            .copied()
            .filter(|v| matches!(*v, "escalate" | "bind" | "impersonate"))
            .collect();
        if r.verbs.contains(&"*")
            && RBAC_RESOURCES
                .iter()
                .any(|res| r.grants("rbac.authorization.k8s.io", res, &[]))
        {
            dangerous.push("every verb (bind and escalate included) on roles or bindings");
        }
        if r.verbs.contains(&"*")
            && ["users", "groups", "serviceaccounts"]
                .iter()
                .any(|res| r.grants("", res, &[]))
        {
            dangerous
                .push("every verb (impersonate included) on users, groups or service accounts");
        }
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
        // A rule limited to named Secrets (`resourceNames`) is the least privilege this check
        // asks for, not a finding; an empty or null list limits nothing.
        let named = rule
            .get("resourceNames")
            .is_some_and(|n| !n.strs().is_empty());
        if !named && r.grants("", "secrets", &["get", "list", "watch"]) {
            out.hit(
                obj,
                rk,
                "BW-K8S-037",
                "a rule lets its subjects read Secrets".into(),
            );
        }
        let exec: Vec<&str> = ["pods/exec", "pods/attach"]
            .into_iter()
            .filter(|res| r.grants("", res, &["create", "get"]))
            .collect();
        if !exec.is_empty() {
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
        // Named outright, any verb is a way in; through a wildcard, only the verbs that are.
        if r.resources.contains(&"nodes/proxy") && r.group("")
            || r.grants("", "nodes/proxy", &["create", "get"])
        {
            out.hit(
                obj,
                rk,
                "BW-K8S-039",
                "a rule grants nodes/proxy: direct access to the kubelet API".into(),
            );
        }
        let critical: Vec<&str> = CRITICAL
            .iter()
            .filter(|(res, group, vs)| r.grants(group, res, vs))
            .map(|(res, _, _)| *res)
            .collect();
        if !critical.is_empty() {
            out.hit(
                obj,
                rk,
                "BW-K8S-048",
                format!("a rule grants control of {}", critical.join(", ")),
            );
        }
        if r.grants(
            "certificates.k8s.io",
            "certificatesigningrequests/approval",
            &["update", "patch"],
        ) {
            csr_approval.get_or_insert(rk);
        }
        if r.grants("certificates.k8s.io", "signers", &["approve"]) {
            csr_signer.get_or_insert(rk);
        }
        let created: Vec<&str> = WORKLOAD_RESOURCES
            .iter()
            .filter(|(res, groups)| groups.iter().any(|g| r.grants(g, res, &["create"])))
            .map(|(res, _)| *res)
            .collect();
        if !created.is_empty() {
            out.hit(
                obj,
                rk,
                "BW-K8S-040",
                format!("a rule lets its subjects create {}", created.join(", ")),
            );
        }
    }
    if let (Some(at), Some(_)) = (csr_approval, csr_signer) {
        out.hit(
            obj,
            at,
            "BW-K8S-048",
            "the role can approve CertificateSigningRequests (update on the approval subresource and approve on signers): it can mint client certificates for any user".into(),
        );
    }
}

fn binding(obj: &Object, out: &mut Out) {
    let subjects = obj.node.get("subjects").map(Node::seq).unwrap_or_default();
    let role = obj.node.get("roleRef");
    if let Some((k, v)) = role.and_then(|r| r.entry("name")) {
        if v.as_str() == Some("cluster-admin") {
            // system:masters holds cluster-admin by design (BW-K8S-041 reports binding to
            // it); every other subject, `system:serviceaccounts` groups included, is a finding.
            let users: Vec<&str> = subjects
                .iter()
                .filter_map(|s| s.get("name").and_then(Node::as_str))
                .filter(|n| *n != "system:masters")
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
