//! Checks that need the whole cluster: each returns misconfiguration hits whose `resource` names
//! the object reported and whose message shows the path (binding, role, verb) that makes it a
//! finding.

use bulwark_misconfig::Hit;

use crate::ClusterFacts;

/// What the user decides about the cluster-wide checks.
#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// Registries (`registry.example.com`, `ghcr.io/org`) images may come from; empty: any.
    pub allowed_registries: Vec<String>,
}

/// Runs every cluster-wide check over the facts gathered from a cluster.
pub fn check_cluster(facts: &ClusterFacts, options: &ClusterOptions) -> Vec<Hit> {
    let _ = (facts, options);
    Vec::new()
}
