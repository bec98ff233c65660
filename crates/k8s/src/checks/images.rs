//! Image provenance over the running workloads, once per controller (not per replica): images
//! not pinned by digest (outside exempt namespaces), and images whose registry is not in
//! [`ClusterOptions::allowed_registries`] (every namespace; only when the list is set). An
//! allow-list entry names a registry host (`registry.example.com`) or a registry path prefix
//! (`ghcr.io/org`, `docker.io/library`); Docker Hub short names are normalised
//! (`nginx` is `docker.io/library/nginx`).

use bulwark_misconfig::Hit;

use super::{ClusterOptions, ClusterView};
use crate::facts::image_repository;

pub const NOT_PINNED: &str = "BW-CLU-040";
pub const REGISTRY_NOT_ALLOWED: &str = "BW-CLU-041";

pub(crate) fn check(view: &ClusterView, options: &ClusterOptions, hits: &mut Vec<Hit>) {
    let allowed: Vec<String> = options
        .allowed_registries
        .iter()
        .map(|r| r.trim_end_matches('/').to_ascii_lowercase())
        .collect();
    for (key, w) in &view.workloads {
        let namespace = key.namespace.as_deref().unwrap_or("default");
        let mut unpinned: Vec<&str> = Vec::new();
        let mut outside: Vec<&str> = Vec::new();
        for c in &w.containers {
            if !c.image.contains("@sha256:") && !unpinned.contains(&c.image.as_str()) {
                unpinned.push(&c.image);
            }
            let repo = image_repository(&c.image);
            if !allowed.is_empty()
                && !allowed
                    .iter()
                    .any(|a| repo == *a || repo.starts_with(&format!("{a}/")))
                && !outside.contains(&c.image.as_str())
            {
                outside.push(&c.image);
            }
        }
        if !unpinned.is_empty() && !options.exempt(namespace) {
            hits.push(
                Hit::new(
                    NOT_PINNED,
                    format!(
                        "{key} runs {} not pinned by digest: the tag can be moved to other content between two pod starts",
                        unpinned.join(", ")
                    ),
                )
                .on(key.to_string()),
            );
        }
        if !outside.is_empty() {
            hits.push(
                Hit::new(
                    REGISTRY_NOT_ALLOWED,
                    format!(
                        "{key} runs {} from outside the allowed registries ({})",
                        outside.join(", "),
                        options.allowed_registries.join(", ")
                    ),
                )
                .on(key.to_string()),
            );
        }
    }
}
