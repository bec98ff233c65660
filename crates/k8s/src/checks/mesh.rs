//! Service-to-service authentication.
//!
//! Istio: a namespace is in the mesh when labelled `istio-injection=enabled` or `istio.io/rev`.
//! Its mTLS mode follows Istio's precedence: a workload PeerAuthentication (selector matching
//! the pod labels) over the namespace's (no selector) over the mesh-wide one (no selector, in
//! the root namespace), each level's UNSET inheriting the next; with none, Istio's default is
//! PERMISSIVE (plain text accepted). Reported: meshed namespaces whose mode is not STRICT,
//! workloads a PeerAuthentication downgrades (PERMISSIVE, DISABLE, or a weaker port-level
//! mode) inside a STRICT namespace, and workloads of a meshed namespace that opt out of the
//! sidecar (`sidecar.istio.io/inject: "false"`, annotation or label). Authorization: a meshed namespace that no
//! AuthorizationPolicy covers (in the namespace, or mesh-wide without selector in the root
//! namespace), and ALLOW policies with a rule `{}` (every request).
//!
//! Linkerd: when the cluster runs it (a `linkerd` namespace or its destination controller),
//! workloads whose pod template and namespace do not say `linkerd.io/inject: enabled` (outside
//! exempt namespaces, Linkerd's own and Istio-meshed ones; host-network pods cannot be meshed).
//!
//! Edges: Ingresses without `tls`, Gateway API listeners on plain HTTP.

use bulwark_misconfig::Hit;

use std::collections::{HashMap, HashSet};

use super::{ClusterOptions, ClusterView};
use crate::facts::{ClusterFacts, MtlsMode, ObjectRef, PeerAuthenticationFacts};

pub const NAMESPACE_NOT_STRICT: &str = "BW-CLU-030";
pub const WORKLOAD_MTLS_DOWNGRADED: &str = "BW-CLU-031";
pub const NO_AUTHORIZATION_POLICY: &str = "BW-CLU-032";
pub const AUTHORIZATION_ALLOWS_ALL: &str = "BW-CLU-033";
pub const NOT_IN_LINKERD: &str = "BW-CLU-034";
pub const INGRESS_WITHOUT_TLS: &str = "BW-CLU-035";
pub const GATEWAY_WITHOUT_TLS: &str = "BW-CLU-036";

pub(crate) fn check(
    facts: &ClusterFacts,
    view: &ClusterView,
    options: &ClusterOptions,
    hits: &mut Vec<Hit>,
) {
    istio(facts, view, options, hits);
    linkerd(facts, view, options, hits);

    let mut ingresses: Vec<_> = facts.ingresses.iter().collect();
    ingresses.sort_by(|a, b| a.0.cmp(b.0));
    for (key, ing) in ingresses {
        if !ing.tls {
            hits.push(
                Hit::new(
                    INGRESS_WITHOUT_TLS,
                    format!(
                        "{key} has no tls section: traffic to {} travels in plain text",
                        if ing.services.is_empty() {
                            "its backends".to_string()
                        } else {
                            ing.services.iter().cloned().collect::<Vec<_>>().join(", ")
                        }
                    ),
                )
                .on(key.to_string()),
            );
        }
    }
    let mut gateways: Vec<_> = facts.gateways.iter().collect();
    gateways.sort_by(|a, b| a.0.cmp(b.0));
    for (key, listeners) in gateways {
        for l in listeners {
            if l.protocol == "HTTP" && !l.tls {
                hits.push(
                    Hit::new(
                        GATEWAY_WITHOUT_TLS,
                        format!(
                            "{key}: listener {} serves plain HTTP on port {}",
                            l.name, l.port
                        ),
                    )
                    .on(key.to_string()),
                );
            }
        }
    }
}

fn meshed(facts: &ClusterFacts, namespace: &str) -> bool {
    facts.namespaces.get(namespace).is_some_and(|ns| {
        ns.labels.get("istio-injection").map(String::as_str) == Some("enabled")
            || (ns.labels.contains_key("istio.io/rev")
                && ns.labels.get("istio-injection").map(String::as_str) != Some("disabled"))
    })
}

/// The namespace-wide (or mesh-wide, in the root namespace) PeerAuthentication of each
/// namespace, the first by name, and the namespaces that hold an AuthorizationPolicy: indexed
/// once so that each namespace is a lookup, not a scan of every policy.
struct MeshIndex<'a> {
    wide: HashMap<&'a str, (String, &'a PeerAuthenticationFacts)>,
    /// Workload-level PeerAuthentications by namespace, sorted by name.
    selective: HashMap<&'a str, Vec<(&'a ObjectRef, &'a PeerAuthenticationFacts)>>,
    authorized: HashSet<&'a str>,
}

impl<'a> MeshIndex<'a> {
    fn new(facts: &'a ClusterFacts) -> MeshIndex<'a> {
        let mut pas: Vec<_> = facts.peer_authentications.iter().collect();
        pas.sort_by(|a, b| a.0.cmp(b.0));
        let mut wide = HashMap::new();
        let mut selective: HashMap<&str, Vec<_>> = HashMap::new();
        for (key, p) in pas {
            let ns = key.namespace.as_deref().unwrap_or("default");
            if p.selector.is_some() {
                selective.entry(ns).or_default().push((key, p));
            } else {
                wide.entry(ns)
                    .or_insert_with(|| (format!("{ns}/{}", key.name), p));
            }
        }
        let authorized = facts
            .authorization_policies
            .keys()
            .filter_map(|k| k.namespace.as_deref())
            .collect();
        MeshIndex {
            wide,
            selective,
            authorized,
        }
    }

    fn wide(&self, namespace: &str) -> Option<&(String, &'a PeerAuthenticationFacts)> {
        self.wide.get(namespace)
    }
}

fn istio(facts: &ClusterFacts, view: &ClusterView, options: &ClusterOptions, hits: &mut Vec<Hit>) {
    let root = options.istio_root_namespace.as_str();
    let index = MeshIndex::new(facts);
    let mesh = index.wide(root);
    let mesh_authz = facts
        .authorization_policies
        .iter()
        .any(|(k, p)| k.namespace.as_deref() == Some(root) && p.selector.is_none());

    let mut policies: Vec<_> = facts.authorization_policies.iter().collect();
    policies.sort_by(|a, b| a.0.cmp(b.0));
    for (key, p) in &policies {
        if p.action == "ALLOW" && p.allows_all {
            hits.push(
                Hit::new(
                    AUTHORIZATION_ALLOWS_ALL,
                    format!(
                        "{key}: an ALLOW rule with no from, to or when matches every request{}",
                        if p.selector.is_none() {
                            " to every workload of its namespace"
                        } else {
                            ""
                        }
                    ),
                )
                .on(key.to_string()),
            );
        }
    }

    for namespace in facts.namespaces.keys() {
        if options.exempt(namespace) || namespace == root || !meshed(facts, namespace) {
            continue;
        }
        // Namespace level, then mesh level; UNSET inherits.
        let ns_pa = index.wide(namespace);
        let (mode, source) = match (ns_pa, mesh) {
            (Some((name, p)), _) if p.mode != MtlsMode::Unset => {
                (p.mode, format!("PeerAuthentication {name}"))
            }
            (_, Some((name, p))) if p.mode != MtlsMode::Unset => {
                (p.mode, format!("mesh-wide PeerAuthentication {name}"))
            }
            _ => (
                MtlsMode::Permissive,
                "no PeerAuthentication (Istio's default)".to_string(),
            ),
        };
        if mode != MtlsMode::Strict {
            hits.push(
                Hit::new(
                    NAMESPACE_NOT_STRICT,
                    format!(
                        "Namespace {namespace} is in the Istio mesh but its mTLS mode is {} ({source}): its workloads accept plain-text connections",
                        mode.as_str()
                    ),
                )
                .on(format!("Namespace/{namespace}")),
            );
        } else {
            downgrades(&index, view, namespace, hits);
        }
        opted_out(view, namespace, hits);
        let covered = mesh_authz || index.authorized.contains(namespace.as_str());
        if !covered {
            hits.push(
                Hit::new(
                    NO_AUTHORIZATION_POLICY,
                    format!(
                        "Namespace {namespace} is in the Istio mesh and no AuthorizationPolicy applies to it (none in {namespace}, none mesh-wide in {root}): every mesh identity may call every workload"
                    ),
                )
                .on(format!("Namespace/{namespace}")),
            );
        }
    }
}

/// Workloads of a meshed namespace that refuse the sidecar: they are outside the mesh, so
/// neither mTLS nor authorization policies protect them.
fn opted_out(view: &ClusterView, namespace: &str, hits: &mut Vec<Hit>) {
    let Some(ns) = view.namespaces.get(namespace) else {
        return;
    };
    for (_, idx) in &ns.sets {
        for &i in idx {
            let (key, w) = view.workloads[i];
            if w.host_network || w.istio_inject.as_deref() != Some("false") {
                continue;
            }
            hits.push(
                Hit::new(
                    WORKLOAD_MTLS_DOWNGRADED,
                    format!(
                        "{key} opts out of the Istio sidecar (sidecar.istio.io/inject: \"false\") in meshed Namespace {namespace}: it sends and accepts plain text, outside mTLS and authorization policies"
                    ),
                )
                .on(key.to_string()),
            );
        }
    }
}

/// Workloads of a STRICT namespace that a workload-level PeerAuthentication weakens.
fn downgrades(index: &MeshIndex, view: &ClusterView, namespace: &str, hits: &mut Vec<Hit>) {
    for (key, p) in index.selective.get(namespace).into_iter().flatten() {
        let weaker = matches!(p.mode, MtlsMode::Permissive | MtlsMode::Disable);
        if !weaker && p.weaker_ports.is_empty() {
            continue;
        }
        let Some(sel) = &p.selector else { continue };
        let mut what = Vec::new();
        if weaker {
            what.push(format!("mode {}", p.mode.as_str()));
        }
        for (port, mode) in &p.weaker_ports {
            what.push(format!("port {port} {}", mode.as_str()));
        }
        for i in view.select(namespace, sel) {
            let (wkey, _) = view.workloads[i];
            hits.push(
                Hit::new(
                    WORKLOAD_MTLS_DOWNGRADED,
                    format!(
                        "{wkey}: {key} sets {} although Namespace {namespace} is STRICT: it accepts plain-text connections",
                        what.join(", ")
                    ),
                )
                .on(wkey.to_string()),
            );
        }
    }
}

fn linkerd(
    facts: &ClusterFacts,
    view: &ClusterView,
    options: &ClusterOptions,
    hits: &mut Vec<Hit>,
) {
    if !facts.runs_linkerd {
        return;
    }
    for (key, w) in &view.workloads {
        let namespace = key.namespace.as_deref().unwrap_or("default");
        if options.exempt(namespace)
            || namespace.starts_with("linkerd")
            || meshed(facts, namespace)
            || w.host_network
        {
            continue;
        }
        let ns_inject = facts
            .namespaces
            .get(namespace)
            .and_then(|n| n.linkerd_inject.as_deref());
        let inject = w.linkerd_inject.as_deref().or(ns_inject);
        if inject != Some("enabled") && inject != Some("ingress") {
            let why = match (w.linkerd_inject.as_deref(), ns_inject) {
                (Some(v), _) => format!("its pod template says linkerd.io/inject: {v}"),
                (None, Some(v)) => format!("Namespace {namespace} says linkerd.io/inject: {v}"),
                (None, None) => format!(
                    "neither its pod template nor Namespace {namespace} has linkerd.io/inject: enabled"
                ),
            };
            hits.push(
                Hit::new(
                    NOT_IN_LINKERD,
                    format!(
                        "{key} is outside the Linkerd mesh the cluster runs ({why}): its traffic is neither authenticated nor encrypted"
                    ),
                )
                .on(key.to_string()),
            );
        }
    }
}
