//! What `bulwark runtime` learns about a running container beyond its findings: the
//! capabilities it was given and really holds, what its processes use, what changed in it since
//! it started, and the settings it could run with instead.

use serde::{Deserialize, Serialize};

/// Whether a vulnerable package is in use by a running container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InUseState {
    /// A process of the container has one of the package's files mapped or open.
    Loaded,
    /// The container's processes were read and none uses a file of the package.
    NotLoaded,
    /// The processes could not be read (a remote engine, no permission, no file list for
    /// the package's ecosystem).
    Unknown,
}

impl InUseState {
    pub fn as_str(self) -> &'static str {
        match self {
            InUseState::Loaded => "loaded",
            InUseState::NotLoaded => "not-loaded",
            InUseState::Unknown => "unknown",
        }
    }
}

/// One file a process of the container uses, as seen in the container's root.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InUseEvidence {
    /// The host pid of the process.
    pub pid: u32,
    /// The path inside the container.
    pub path: String,
}

/// The runtime view of one vulnerability: which container, and whether its package is used.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct InUse {
    pub state: InUseState,
    /// The container's name.
    pub container: String,
    /// The files (with the process) that make it `loaded`; at most a few per package.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<InUseEvidence>,
    /// Why it is `unknown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A file added or changed in a container's root filesystem since it started.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DriftEntry {
    pub path: String,
    /// `added`, `changed` or `deleted`.
    pub kind: String,
    /// An executable file (executable bit or ELF magic) that the image did not have as such.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub executable: bool,
    /// A package database (dpkg, apk, rpm): software was installed or removed after start.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub package_database: bool,
}

/// Settings a container could run with instead, ready to paste.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeastPrivilegeAdvice {
    /// Capabilities it was given but does not need by default (`--cap-add` to remove).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drop_capabilities: Vec<String>,
    /// Mount destinations to make read-only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub read_only_mounts: Vec<String>,
    /// `docker run` flags, one per element.
    pub docker_run: Vec<String>,
    /// A compose service snippet (YAML).
    pub compose: String,
    /// A Kubernetes container `securityContext` (and `resources`) snippet (YAML).
    pub kubernetes: String,
}

/// One audited container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerAudit {
    /// The name without Docker's leading `/`.
    pub name: String,
    pub id: String,
    /// The image as the container names it (`nginx:1.25`, `sha256:…`).
    pub image: String,
    pub image_id: String,
    /// `docker` or `podman`.
    pub engine: String,
    /// The pid of its first process on the host, when running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Capabilities from the inspect document: the engine's default set with `CapAdd` added
    /// and `CapDrop` removed (every capability when privileged).
    pub declared_capabilities: Vec<String>,
    /// `CapEff` of its processes, decoded, when /proc was readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_capabilities: Option<Vec<String>>,
    /// Files its processes map or hold open that belong to packages, at most a few hundred.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub in_use_files: Vec<InUseEvidence>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drift: Vec<DriftEntry>,
    pub advice: LeastPrivilegeAdvice,
    /// What could not be read (its /proc, its changes), and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}
