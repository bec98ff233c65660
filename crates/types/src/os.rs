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
    Arch,
    Gentoo,
    OpenWrt,
    /// CBL-Mariner and its successor Azure Linux.
    Mariner,
    Bottlerocket,
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
            "arch" | "archarm" => OsFamily::Arch,
            "gentoo" => OsFamily::Gentoo,
            "openwrt" => OsFamily::OpenWrt,
            "mariner" | "azurelinux" => OsFamily::Mariner,
            "bottlerocket" => OsFamily::Bottlerocket,
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

    /// The release a purl's `distro` qualifier names, the inverse of [`OsRelease::purl_distro`]:
    /// `debian-12`, `alpine-3.19.1`, `opensuse-leap-15.5` (the version starts at the first `-`
    /// followed by a digit, since ids contain `-` too), `debian-bookworm` (a codename), `wolfi`.
    /// `source_path` says where it was read (`sbom`, `purl`).
    pub fn from_purl_distro(distro: &str, source_path: &str) -> OsRelease {
        let distro = distro.trim().to_ascii_lowercase();
        let version_at = distro
            .char_indices()
            .find(|&(i, c)| c == '-' && distro[i + 1..].starts_with(|d: char| d.is_ascii_digit()))
            .map(|(i, _)| i);
        let (id, version_id, version_codename) = match version_at {
            Some(i) => (&distro[..i], Some(distro[i + 1..].to_string()), None),
            None if OsFamily::from_os_release_id(&distro) != OsFamily::Other => {
                (distro.as_str(), None, None)
            }
            None => match distro.split_once('-') {
                Some((id, codename)) if OsFamily::from_os_release_id(id) != OsFamily::Other => {
                    (id, None, Some(codename.to_string()))
                }
                _ => (distro.as_str(), None, None),
            },
        };
        OsRelease {
            family: OsFamily::from_os_release_id(id),
            id: id.to_string(),
            version_id,
            version_codename,
            pretty_name: None,
            source_path: source_path.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purl_distro_round_trips() {
        for (text, id, version, codename) in [
            ("debian-12", "debian", Some("12"), None),
            ("alpine-3.19.1", "alpine", Some("3.19.1"), None),
            ("opensuse-leap-15.5", "opensuse-leap", Some("15.5"), None),
            ("opensuse-tumbleweed", "opensuse-tumbleweed", None, None),
            ("Ubuntu-22.04", "ubuntu", Some("22.04"), None),
            ("debian-bookworm", "debian", None, Some("bookworm")),
            ("wolfi", "wolfi", None, None),
        ] {
            let os = OsRelease::from_purl_distro(text, "purl");
            assert_eq!(
                (
                    os.id.as_str(),
                    os.version_id.as_deref(),
                    os.version_codename.as_deref()
                ),
                (id, version, codename),
                "{text}"
            );
            if codename.is_none() {
                assert_eq!(os.purl_distro(), text.to_ascii_lowercase());
            }
        }
        assert_eq!(
            OsRelease::from_purl_distro("rhel-9.3", "purl").family,
            OsFamily::Rhel
        );
    }
}
