use serde::{Deserialize, Serialize};

/// Distribution families bulwark knows how to catalog and, later, match advisories for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OsFamily {
    Debian,
    Ubuntu,
    Alpine,
    Rhel,
    Centos,
    Rocky,
    Alma,
    Fedora,
    Amazon,
    Oracle,
    Suse,
    Photon,
    Wolfi,
    Chainguard,
    Distroless,
    Other,
}

impl OsFamily {
    /// The family for an os-release `ID` (falling back on `ID_LIKE` is the caller's choice).
    pub fn from_os_release_id(id: &str) -> OsFamily {
        match id {
            "debian" => OsFamily::Debian,
            "ubuntu" => OsFamily::Ubuntu,
            "alpine" => OsFamily::Alpine,
            "rhel" => OsFamily::Rhel,
            "centos" => OsFamily::Centos,
            "rocky" => OsFamily::Rocky,
            "almalinux" => OsFamily::Alma,
            "fedora" => OsFamily::Fedora,
            "amzn" => OsFamily::Amazon,
            "ol" => OsFamily::Oracle,
            "sles" | "opensuse-leap" | "opensuse-tumbleweed" | "opensuse" | "sle-micro" => {
                OsFamily::Suse
            }
            "photon" => OsFamily::Photon,
            "wolfi" => OsFamily::Wolfi,
            "chainguard" => OsFamily::Chainguard,
            _ => OsFamily::Other,
        }
    }
}

/// What the image says about its operating system (`/etc/os-release` and distro release files).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsRelease {
    pub family: OsFamily,
    /// The raw `ID` (e.g. `debian`), used as the purl namespace.
    pub id: String,
    /// `VERSION_ID` (e.g. `12`, `3.19.1`, `9.4`); may be absent on rolling releases.
    pub version_id: Option<String>,
    pub version_codename: Option<String>,
    pub pretty_name: Option<String>,
    /// The file the facts were read from, for explaining a detection.
    pub source_path: String,
}

impl OsRelease {
    /// The `distro` purl qualifier, as syft and trivy write it (`debian-12`, `alpine-3.19.1`).
    pub fn purl_distro(&self) -> String {
        match &self.version_id {
            Some(v) => format!("{}-{}", self.id, v),
            None => self.id.clone(),
        }
    }
}
