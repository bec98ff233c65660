//! PodSecurityPolicy objects (policy/v1beta1, removed in Kubernetes 1.25 but still in many
//! repositories and charts): the Pod Security Standards controls judged on what the policy
//! admits, reported under the same check ids as the pods themselves.

use super::caps::{cap_name, BASELINE_CAPS};
use super::{Object, Out};
use crate::yaml::Node;

/// A PodSecurityPolicy (policy/v1beta1, removed in Kubernetes 1.25 but still in many
/// repositories): the same controls, judged on what the policy admits.
pub(crate) fn check(obj: &Object, out: &mut Out) {
    let Some((spec_key, spec)) = obj.node.entry("spec") else {
        return;
    };
    for (key, id, what) in [
        ("privileged", "BW-K8S-001", "privileged containers"),
        ("hostNetwork", "BW-K8S-002", "the host network namespace"),
        ("hostPID", "BW-K8S-003", "the host process namespace"),
        ("hostIPC", "BW-K8S-004", "the host IPC namespace"),
    ] {
        if let Some((k, v)) = spec.entry(key) {
            if v.as_bool() == Some(true) {
                out.hit(
                    obj,
                    k,
                    id,
                    format!("the policy admits {what} ({key}: true)"),
                );
            }
        }
    }
    match spec.entry("allowPrivilegeEscalation") {
        Some((_, v)) if v.as_bool() == Some(false) => {}
        Some((k, _)) => out.hit(
            obj,
            k,
            "BW-K8S-009",
            "the policy admits privilege escalation".into(),
        ),
        None => out.hit(
            obj,
            spec_key,
            "BW-K8S-009",
            "the policy does not set allowPrivilegeEscalation: false (it defaults to true)".into(),
        ),
    }
    let rule = spec.path(&["runAsUser", "rule"]).and_then(Node::as_str);
    let min_uid = spec
        .path(&["runAsUser", "ranges"])
        .map(|r| {
            r.seq()
                .iter()
                .filter_map(|x| x.get("min").and_then(Node::as_i64))
                .min()
                .unwrap_or(0)
        })
        .unwrap_or(0);
    let non_root = rule == Some("MustRunAsNonRoot") || (rule == Some("MustRunAs") && min_uid > 0);
    if !non_root {
        out.hit(
            obj,
            spec.deepest_key(&["runAsUser", "rule"]).unwrap_or(spec_key),
            "BW-K8S-010",
            format!(
                "the policy admits root containers (runAsUser rule {})",
                rule.unwrap_or("unset")
            ),
        );
    }
    let drops_all = spec
        .get("requiredDropCapabilities")
        .is_some_and(|d| d.strs().into_iter().any(|c| cap_name(c) == "ALL"));
    if !drops_all {
        out.hit(
            obj,
            spec.entry("requiredDropCapabilities")
                .map(|(k, _)| k)
                .unwrap_or(spec_key),
            "BW-K8S-008",
            "the policy does not require dropping ALL capabilities".into(),
        );
    }
    for key in ["allowedCapabilities", "defaultAddCapabilities"] {
        if let Some((k, v)) = spec.entry(key) {
            let extra: Vec<String> = v
                .strs()
                .into_iter()
                .map(cap_name)
                .filter(|c| !BASELINE_CAPS.contains(&c.as_str()))
                .collect();
            if !extra.is_empty() {
                out.hit(
                    obj,
                    k,
                    "BW-K8S-007",
                    format!("the policy's {key} include {}", extra.join(", ")),
                );
            }
        }
    }
    if let Some((k, v)) = spec.entry("volumes") {
        let vols = v.strs();
        if vols.contains(&"*") || vols.contains(&"hostPath") {
            out.hit(
                obj,
                k,
                "BW-K8S-005",
                "the policy admits hostPath volumes".into(),
            );
        }
    }
    if let Some((k, v)) = spec.entry("hostPorts") {
        if !v.is_empty() {
            out.hit(obj, k, "BW-K8S-006", "the policy admits host ports".into());
        }
    }
    let meta = obj.node.entry("metadata");
    let allowed = meta
        .and_then(|(_, m)| m.get("annotations"))
        .and_then(|a| a.get("seccomp.security.alpha.kubernetes.io/allowedProfileNames"))
        .and_then(Node::as_str);
    let confined = allowed.is_some_and(|names| {
        names
            .split(',')
            .map(str::trim)
            .all(|n| n == "runtime/default" || n == "docker/default" || n.starts_with("localhost/"))
    });
    if !confined {
        out.hit(
            obj,
            meta.map(|(k, _)| k).unwrap_or_else(|| obj.at()),
            "BW-K8S-013",
            format!(
                "the policy admits pods without a seccomp profile (allowedProfileNames: {})",
                allowed.unwrap_or("unset")
            ),
        );
    }
}
