//! Exposed dashboards and APIs: the Kubernetes Dashboard, Argo CD's server, Grafana,
//! Prometheus, Alertmanager, Kibana, Jupyter, the Docker API, the kubelet API and etcd,
//! recognised by image name, then by their well-known ports (2375, 10250/10255, 2379) and
//! arguments. Each is reported when reachable from outside the cluster (the exposures of
//! [`super::network`]) and, separately, when it runs with authentication turned off
//! (`--enable-skip-login`, `--insecure`, `--disable-auth`, `GF_AUTH_ANONYMOUS_ENABLED=true`,
//! an empty Jupyter token, the plain-text Docker API on 2375, the kubelet read-only port).
//! All namespaces are looked at, kube-system included; there, hostNetwork and hostPort are
//! not counted as exposure (static control-plane pods such as etcd listen on the node by design
//! and authenticate clients with certificates).

use bulwark_misconfig::Hit;

use super::{ClusterView, Exposures};

pub const EXPOSED_DASHBOARD: &str = "BW-CLU-020";
pub const UNAUTHENTICATED_DASHBOARD: &str = "BW-CLU-021";

pub(crate) fn check(view: &ClusterView, exposures: &Exposures, hits: &mut Vec<Hit>) {
    for (i, (key, w)) in view.workloads.iter().enumerate() {
        for c in &w.containers {
            let Some(product) = c.product else { continue };
            let what = format!("{} ({}, container {})", product.name(), c.image, c.name);
            if let Some(how) = exposures.get(&i) {
                let auth = if c.unauthenticated.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", without authentication ({})",
                        c.unauthenticated.join(", ")
                    )
                };
                hits.push(
                    Hit::new(
                        EXPOSED_DASHBOARD,
                        format!(
                            "{key} runs {what}, reachable from outside the cluster through {}{auth}",
                            how.join(", ")
                        ),
                    )
                    .on(key.to_string()),
                );
            }
            if !c.unauthenticated.is_empty() {
                hits.push(
                    Hit::new(
                        UNAUTHENTICATED_DASHBOARD,
                        format!(
                            "{key} runs {what} with authentication turned off: {}",
                            c.unauthenticated.join(", ")
                        ),
                    )
                    .on(key.to_string()),
                );
            }
        }
    }
}
