//! Checks that need the whole cluster: each returns misconfiguration hits whose `resource` names
//! the object reported and whose message shows the path (binding, role, verb; Service, Ingress,
//! policy) that makes it a finding. One module per family:
//!
//! - [`rbac`]: who can reach cluster-admin-equivalent power, and through which path.
//! - [`network`]: namespaces and workloads no NetworkPolicy isolates, allow-all policies, and
//!   workloads reachable from outside the cluster.
//! - [`exposure`]: dashboards and APIs (Kubernetes Dashboard, Argo CD, Grafana, ...) reachable from
//!   outside or running without authentication.
//! - [`mesh`]: service-to-service authentication (Istio mTLS and authorization, Linkerd
//!   injection) and Ingress/Gateway listeners without TLS.
//! - [`images`]: images not pinned by digest and images from registries outside the allow-list.
//!
//! Every family is linear in the objects, or in subjects × roles for RBAC: workloads are
//! grouped per namespace and per label set before selectors are evaluated, so 20,000 pods of a
//! few controllers cost a few selector evaluations.

pub mod exposure;
pub mod images;
pub mod mesh;
pub mod network;
pub mod rbac;

use std::collections::{BTreeMap, HashMap};

use bulwark_misconfig::Hit;

use crate::facts::{Labels, ObjectRef, Selector, WorkloadFacts};
use crate::ClusterFacts;

/// Every check id this module reports, in one table (a test keeps it and the catalogue in
/// step).
pub const CHECK_IDS: &[&str] = &[
    rbac::ESCALATION,
    rbac::PRIVILEGED_TOKEN,
    network::NAMESPACE_NO_INGRESS_POLICY,
    network::NAMESPACE_NO_EGRESS_POLICY,
    network::WORKLOAD_NO_INGRESS_POLICY,
    network::WORKLOAD_NO_EGRESS_POLICY,
    network::ALLOW_ALL,
    network::EXPOSED_UNISOLATED,
    exposure::EXPOSED_DASHBOARD,
    exposure::UNAUTHENTICATED_DASHBOARD,
    mesh::NAMESPACE_NOT_STRICT,
    mesh::WORKLOAD_MTLS_DOWNGRADED,
    mesh::NO_AUTHORIZATION_POLICY,
    mesh::AUTHORIZATION_ALLOWS_ALL,
    mesh::NOT_IN_LINKERD,
    mesh::INGRESS_WITHOUT_TLS,
    mesh::GATEWAY_WITHOUT_TLS,
    images::NOT_PINNED,
    images::REGISTRY_NOT_ALLOWED,
];

/// Namespaces the network, mesh and image-pinning checks leave alone by default: they hold the
/// control plane and node agents (host-network pods that no NetworkPolicy applies to, images
/// the distribution pins for you), or nothing at all.
pub const SYSTEM_NAMESPACES: &[&str] = &["kube-system", "kube-public", "kube-node-lease"];

/// What the user decides about the cluster-wide checks.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Registries (`registry.example.com`, `ghcr.io/org`) images may come from; empty: any.
    pub allowed_registries: Vec<String>,
    /// Namespaces the network, mesh and image-pinning checks skip; [`SYSTEM_NAMESPACES`] by
    /// default. RBAC, exposed dashboards and the registry allow-list still look at them.
    pub exempt_namespaces: Vec<String>,
    /// Istio's root namespace: a PeerAuthentication or AuthorizationPolicy there without a
    /// selector applies to the whole mesh.
    pub istio_root_namespace: String,
}

impl Default for ClusterOptions {
    fn default() -> ClusterOptions {
        ClusterOptions {
            allowed_registries: Vec::new(),
            exempt_namespaces: SYSTEM_NAMESPACES.iter().map(|s| s.to_string()).collect(),
            istio_root_namespace: "istio-system".to_string(),
        }
    }
}

impl ClusterOptions {
    pub(crate) fn exempt(&self, namespace: &str) -> bool {
        self.exempt_namespaces.iter().any(|n| n == namespace)
    }
}

/// Runs every cluster-wide check over the facts gathered from a cluster; hits are sorted by
/// check id, resource and message, so the output does not depend on the order objects came in.
pub fn check_cluster(facts: &ClusterFacts, options: &ClusterOptions) -> Vec<Hit> {
    let view = ClusterView::new(facts);
    let mut hits = Vec::new();
    rbac::check(facts, &view, &mut hits);
    let exposures = network::check(facts, &view, options, &mut hits);
    exposure::check(&view, &exposures, &mut hits);
    mesh::check(facts, &view, options, &mut hits);
    images::check(&view, options, &mut hits);
    hits.sort_by(|a, b| {
        (a.check_id, &a.resource, &a.message).cmp(&(b.check_id, &b.resource, &b.message))
    });
    hits.dedup();
    hits
}

/// The workloads of one namespace grouped by label set, with an index from each `key=value`
/// to the label sets that carry it: a selector with `matchLabels` only looks at the label sets
/// sharing its rarest pair, so evaluating every Service and policy stays near-linear even when
/// each of 20,000 pods has labels of its own.
#[derive(Debug, Default)]
pub(crate) struct NamespaceWorkloads<'a> {
    pub sets: Vec<(&'a Labels, Vec<usize>)>,
    index: HashMap<(&'a str, &'a str), Vec<usize>>,
}

impl NamespaceWorkloads<'_> {
    pub fn workload_count(&self) -> usize {
        self.sets.iter().map(|(_, idx)| idx.len()).sum()
    }
}

/// The workloads to report (controllers collapsed, sorted), indexed by namespace.
pub(crate) struct ClusterView<'a> {
    pub workloads: Vec<(&'a ObjectRef, &'a WorkloadFacts)>,
    pub namespaces: BTreeMap<&'a str, NamespaceWorkloads<'a>>,
}

impl<'a> ClusterView<'a> {
    fn new(facts: &'a ClusterFacts) -> ClusterView<'a> {
        let workloads = facts.workloads();
        let mut grouped: BTreeMap<&str, BTreeMap<&Labels, Vec<usize>>> = BTreeMap::new();
        for (i, (key, w)) in workloads.iter().enumerate() {
            let ns = key.namespace.as_deref().unwrap_or("default");
            grouped
                .entry(ns)
                .or_default()
                .entry(&w.labels)
                .or_default()
                .push(i);
        }
        let namespaces = grouped
            .into_iter()
            .map(|(ns, by_labels)| {
                let sets: Vec<_> = by_labels.into_iter().collect();
                let mut index: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
                for (set, (labels, _)) in sets.iter().enumerate() {
                    for (k, v) in labels.iter() {
                        index.entry((k.as_str(), v.as_str())).or_default().push(set);
                    }
                }
                (ns, NamespaceWorkloads { sets, index })
            })
            .collect();
        ClusterView {
            workloads,
            namespaces,
        }
    }

    /// Workload indices in `namespace` that `selector` selects.
    pub fn select(&self, namespace: &str, selector: &Selector) -> Vec<usize> {
        let mut out = Vec::new();
        let Some(ns) = self.namespaces.get(namespace) else {
            return out;
        };
        let rarest = selector
            .match_labels
            .iter()
            .map(|(k, v)| {
                ns.index
                    .get(&(k.as_str(), v.as_str()))
                    .map_or(&[][..], Vec::as_slice)
            })
            .min_by_key(|sets| sets.len());
        let mut take = |set: usize| {
            let (labels, idx) = &ns.sets[set];
            if selector.matches(labels) {
                out.extend_from_slice(idx);
            }
        };
        match rarest {
            Some(sets) => sets.iter().copied().for_each(&mut take),
            None => (0..ns.sets.len()).for_each(take),
        }
        out
    }
}

/// `nginx:1.25, redis:7` for a message.
pub(crate) fn images_of(w: &WorkloadFacts) -> String {
    let mut images: Vec<&str> = w.containers.iter().map(|c| c.image.as_str()).collect();
    images.sort_unstable();
    images.dedup();
    images.join(", ")
}

/// How a workload can be reached from outside the cluster, by workload index.
pub(crate) type Exposures = HashMap<usize, Vec<String>>;
