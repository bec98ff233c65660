//! Kubernetes clusters as bulwark sees them: this crate owns reading a live cluster (or a
//! `kubectl get -A -o json` dump) page by page, the compact [`ClusterFacts`] kept from each
//! object so memory stays flat however many objects the cluster holds, the cluster-wide checks
//! that only make sense over the whole cluster (RBAC escalation paths, network segmentation,
//! exposed dashboards, service-to-service authentication, image provenance), and the admission
//! decision as a pure function of an AdmissionReview and the policy. Per-object checks are the
//! manifest checks of `bulwark-misconfig`, run on the live objects; images are scanned by the
//! caller through `bulwark-scan`.
#![forbid(unsafe_code)]

pub mod admission;
pub mod checks;
pub mod facts;
pub mod scan;
pub mod source;
#[cfg(feature = "test-support")]
pub mod testing;

pub use checks::{check_cluster, ClusterOptions};
pub use facts::ClusterFacts;
pub use scan::{ClusterOutcome, ClusterScan, RunningImage, Workload};
pub use source::{Consumer, Error, Selection};
