//! Types that cross bulwark's crate boundaries, and nothing else.
//!
//! The image engine (`bulwark-image`) produces [`Digest`]s and [`LayerRef`]s, the analyzers
//! (`bulwark-catalog`) produce [`Package`]s attributed to layers, and the reporters
//! (`bulwark-report`) render them. Keeping these small, typed and serde-friendly here lets every
//! stage agree on one vocabulary: ecosystems and package kinds are enums, not strings, and a
//! package always carries its [`Purl`] and the [`LayerRef`] that introduced it.
#![forbid(unsafe_code)]

mod digest;
mod ecosystem;
mod misconfig;
mod os;
mod package;
mod purl;
mod runtime;
mod secret;
mod severity;
mod text;
mod vulnerability;

pub use digest::{Digest, DigestAlgorithm, DigestError};
pub use ecosystem::{Ecosystem, EcosystemInfo, NameRule};
pub use misconfig::{ComplianceRef, Framework, MisconfigLocation, Misconfiguration};
pub use os::{OsFamily, OsRelease};
pub use package::{Evidence, LayerRef, Package, PackageRole, PackageSource};
pub use purl::Purl;
pub use runtime::{
    ContainerAudit, DriftEntry, InUse, InUseEvidence, InUseState, LeastPrivilegeAdvice,
};
pub use secret::{Confidence, SecretFinding, SecretHit, SecretLocation};
pub use severity::Severity;
pub use text::BorrowedText;
pub use vulnerability::{
    CvssInfo, EpssScore, FindingPackage, FindingStatus, KevEntry, MatchOutcome, Priority,
    ReachVerdict, Reachability, SeveritySource, VulnerabilityFinding,
};
