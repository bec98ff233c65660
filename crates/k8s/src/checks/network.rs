//! Network segmentation: namespaces without any ingress or egress NetworkPolicy, workloads no
//! policy of their namespace selects, policies that allow all traffic, and workloads reachable
//! from outside the cluster (a LoadBalancer or NodePort Service selecting them, an Ingress or a
//! Gateway API route to such a Service, hostNetwork, hostPort) that no ingress policy isolates,
//! joined with the images they run.
//!
//! Namespaces in [`ClusterOptions::exempt_namespaces`] (kube-system, kube-public,
//! kube-node-lease by default) are skipped: their pods are the control plane and node agents,
//! mostly on the host network where NetworkPolicy does not apply. Namespaces without workloads
//! are skipped too: there is nothing to isolate.
//!
//! A LoadBalancer annotated as internal (AWS, Azure, GKE, OCI) is not counted as outside
//! exposure; a Gateway API route is, whatever Gateway it attaches to.
//!
//! A policy counts as isolating its pods even when one of its rules allows everything; that
//! rule is reported on the policy instead ([`ALLOW_ALL`]). "Allows all" means a rule with no
//! peers and no ports, or a peer `ipBlock` of `0.0.0.0/0` (`::/0`) without exceptions and no
//! ports: a rule with no peers but a port list is the usual way to publish one port and is not
//! reported.

use std::collections::{BTreeSet, HashMap, HashSet};

use bulwark_misconfig::Hit;

use super::{images_of, ClusterOptions, ClusterView, Exposures};
use crate::facts::{ClusterFacts, NetworkPolicyFacts, ObjectRef, PolicyRule};

pub const NAMESPACE_NO_INGRESS_POLICY: &str = "BW-CLU-010";
pub const NAMESPACE_NO_EGRESS_POLICY: &str = "BW-CLU-011";
pub const WORKLOAD_NO_INGRESS_POLICY: &str = "BW-CLU-012";
pub const WORKLOAD_NO_EGRESS_POLICY: &str = "BW-CLU-013";
pub const ALLOW_ALL: &str = "BW-CLU-014";
pub const EXPOSED_UNISOLATED: &str = "BW-CLU-015";

/// Runs the segmentation checks and returns how each workload is reachable from outside (for
/// the exposure checks).
pub(crate) fn check(
    facts: &ClusterFacts,
    view: &ClusterView,
    options: &ClusterOptions,
    hits: &mut Vec<Hit>,
) -> Exposures {
    let exposures = exposures(facts, view, options);

    let mut policies: Vec<_> = facts.network_policies.iter().collect();
    policies.sort_by(|a, b| a.0.cmp(b.0));
    for (key, p) in &policies {
        for (direction, rules) in [("ingress", &p.ingress), ("egress", &p.egress)] {
            for (i, rule) in rules.iter().flatten().enumerate() {
                if let Some(what) = allows_all(rule) {
                    hits.push(
                        Hit::new(
                            ALLOW_ALL,
                            format!(
                                "{key}: {direction} rule {} {what}; the pods it selects are not isolated for {direction}",
                                i + 1
                            ),
                        )
                        .on(key.to_string()),
                    );
                }
            }
        }
    }

    let mut by_namespace: HashMap<&str, Vec<(&ObjectRef, &NetworkPolicyFacts)>> = HashMap::new();
    for (key, p) in &policies {
        by_namespace
            .entry(key.namespace.as_deref().unwrap_or("default"))
            .or_default()
            .push((key, p));
    }
    let mut ingress_isolated: HashSet<usize> = HashSet::new();
    for (namespace, groups) in &view.namespaces {
        if options.exempt(namespace) {
            continue;
        }
        let in_ns = by_namespace.get(namespace).map_or(&[][..], Vec::as_slice);
        let count = groups.workload_count();
        for (direction, ns_check, workload_check) in [
            (
                "ingress",
                NAMESPACE_NO_INGRESS_POLICY,
                WORKLOAD_NO_INGRESS_POLICY,
            ),
            (
                "egress",
                NAMESPACE_NO_EGRESS_POLICY,
                WORKLOAD_NO_EGRESS_POLICY,
            ),
        ] {
            let relevant: Vec<_> = in_ns
                .iter()
                .filter(|(_, p)| match direction {
                    "ingress" => p.ingress.is_some(),
                    _ => p.egress.is_some(),
                })
                .collect();
            if relevant.is_empty() {
                hits.push(
                    Hit::new(
                        ns_check,
                        format!(
                            "Namespace {namespace} runs {count} workload(s) and has no NetworkPolicy isolating {direction}: {}",
                            match direction {
                                "ingress" => "every pod accepts connections from every pod in the cluster",
                                _ => "every pod may connect anywhere, inside the cluster or out",
                            }
                        ),
                    )
                    .on(format!("Namespace/{namespace}")),
                );
                continue;
            }
            let mut covered: HashSet<usize> = HashSet::new();
            for (_, p) in &relevant {
                covered.extend(view.select(namespace, &p.pod_selector));
            }
            let names = policy_names(&relevant);
            for (_, idx) in &groups.sets {
                for &i in idx {
                    let (key, w) = view.workloads[i];
                    if covered.contains(&i) || w.host_network {
                        continue;
                    }
                    hits.push(
                        Hit::new(
                            workload_check,
                            format!(
                                "{key} is selected by none of the {direction} NetworkPolicies of {namespace} ({names}): its pods are not isolated for {direction}"
                            ),
                        )
                        .on(key.to_string()),
                    );
                }
            }
            if direction == "ingress" {
                ingress_isolated.extend(covered);
            }
        }
    }

    let mut exposed: Vec<_> = exposures.iter().collect();
    exposed.sort();
    for (&i, how) in exposed {
        let (key, w) = view.workloads[i];
        let namespace = key.namespace.as_deref().unwrap_or("default");
        if options.exempt(namespace) {
            continue;
        }
        let host_port = w
            .containers
            .iter()
            .any(|c| c.ports.iter().any(|p| p.1.is_some()));
        let bypass = w.host_network || host_port;
        if ingress_isolated.contains(&i) && !bypass {
            continue;
        }
        let why = if w.host_network {
            "it uses the host's network, where NetworkPolicy does not apply"
        } else if host_port {
            "its hostPort is published on the node, where whether NetworkPolicy applies depends on the network plugin"
        } else {
            "no NetworkPolicy restricts who may connect to it"
        };
        hits.push(
            Hit::new(
                EXPOSED_UNISOLATED,
                format!(
                    "{key} (running {}) is reachable from outside the cluster through {}, and {why}",
                    images_of(w),
                    how.join(", ")
                ),
            )
            .on(key.to_string()),
        );
    }
    exposures
}

/// The policies' names for a message, the first few when there are many.
fn policy_names(policies: &[&(&ObjectRef, &NetworkPolicyFacts)]) -> String {
    const SHOWN: usize = 5;
    let mut names: Vec<&str> = policies.iter().map(|(k, _)| k.name.as_str()).collect();
    if names.len() > SHOWN {
        let more = names.len() - SHOWN;
        names.truncate(SHOWN);
        return format!("{}, and {more} more", names.join(", "));
    }
    names.join(", ")
}

fn allows_all(rule: &PolicyRule) -> Option<&'static str> {
    if rule.ports_restricted {
        return None;
    }
    if rule.any_peer {
        Some("has no peers and no ports: it allows all traffic")
    } else if rule.any_address {
        Some("allows every address (0.0.0.0/0) on every port")
    } else {
        None
    }
}

/// How each workload is reachable from outside the cluster: Services of type LoadBalancer or
/// NodePort that select it, Ingresses and Gateway API routes to a Service that selects it
/// (whatever its type), hostNetwork and hostPort (outside exempt namespaces).
fn exposures(facts: &ClusterFacts, view: &ClusterView, options: &ClusterOptions) -> Exposures {
    let mut out: Exposures = Exposures::new();
    let mut add = |i: usize, how: String| {
        let list = out.entry(i).or_default();
        if !list.contains(&how) {
            list.push(how);
        }
    };
    let mut services: Vec<_> = facts.services.iter().collect();
    services.sort_by(|a, b| a.0.cmp(b.0));
    let selected_by = |namespace: &str, name: &str| -> Vec<usize> {
        facts
            .services
            .get(&crate::facts::ObjectRef::new(
                "Service",
                Some(namespace),
                name,
            ))
            .and_then(|s| s.selector.as_ref())
            .map(|sel| view.select(namespace, sel))
            .unwrap_or_default()
    };
    for (key, s) in &services {
        let external = match s.service_type.as_str() {
            "LoadBalancer" => !s.internal,
            "NodePort" => true,
            _ => false,
        };
        if !external {
            continue;
        }
        let Some(sel) = &s.selector else { continue };
        let ns = key.namespace.as_deref().unwrap_or("default");
        let ports: Vec<String> = s
            .ports
            .iter()
            .map(|p| match p.node_port {
                Some(n) => format!("{}→node port {n}", p.port),
                None => p.port.to_string(),
            })
            .collect();
        for i in view.select(ns, sel) {
            add(
                i,
                format!(
                    "Service {ns}/{} ({} {})",
                    key.name,
                    s.service_type,
                    ports.join(", ")
                ),
            );
        }
    }
    let mut ingresses: Vec<_> = facts.ingresses.iter().collect();
    ingresses.sort_by(|a, b| a.0.cmp(b.0));
    for (key, ing) in ingresses {
        let ns = key.namespace.as_deref().unwrap_or("default");
        for svc in &ing.services {
            for i in selected_by(ns, svc) {
                add(i, format!("Ingress {ns}/{} → Service {ns}/{svc}", key.name));
            }
        }
    }
    let mut routes: Vec<_> = facts.routes.iter().collect();
    routes.sort_by(|a, b| a.0.cmp(b.0));
    for (key, route) in routes {
        let ns = key.namespace.as_deref().unwrap_or("default");
        for (svc_ns, svc) in &route.services {
            for i in selected_by(svc_ns, svc) {
                add(
                    i,
                    format!("{} {ns}/{} → Service {svc_ns}/{svc}", key.kind, key.name),
                );
            }
        }
    }
    for (i, (key, w)) in view.workloads.iter().enumerate() {
        if options.exempt(key.namespace.as_deref().unwrap_or("default")) {
            continue;
        }
        if w.host_network {
            add(
                i,
                "hostNetwork (it listens on the node's addresses)".to_string(),
            );
        }
        let host_ports: BTreeSet<u16> = w
            .containers
            .iter()
            .flat_map(|c| c.ports.iter().filter_map(|p| p.1))
            .collect();
        if !host_ports.is_empty() {
            let list: Vec<String> = host_ports.iter().map(u16::to_string).collect();
            add(i, format!("hostPort {}", list.join(", ")));
        }
    }
    out
}
