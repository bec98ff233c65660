use bulwark_analyze::{Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest};
use bulwark_types::{OsFamily, OsRelease};

/// Reads the files that say which distribution an image is.
pub struct OsReleaseAnalyzer;

const FILES: &[&str] = &[
    "etc/os-release",
    "usr/lib/os-release",
    "etc/alpine-release",
    "etc/redhat-release",
    "etc/centos-release",
    "etc/fedora-release",
    "etc/system-release",
    "etc/debian_version",
    "etc/lsb-release",
];

impl Analyzer for OsReleaseAnalyzer {
    fn id(&self) -> &'static str {
        "os-release"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind == FileKind::Regular && FILES.contains(&file.path) {
            Interest::Read {
                max_bytes: 64 * 1024,
            }
        } else {
            Interest::Skip
        }
    }

    fn analyze(&self, file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        let text = String::from_utf8_lossy(content);
        let source_path = format!("/{}", file.path);
        let parsed = match file.file_name() {
            "os-release" => parse_os_release(&text, source_path),
            "alpine-release" => simple("alpine", first_line(&text), source_path),
            "debian_version" => {
                // `12.5` → 12; testing/sid write a codename (`trixie/sid`), which is no version.
                let line = first_line(&text);
                let major = line
                    .split('.')
                    .next()
                    .filter(|m| m.chars().all(|c| c.is_ascii_digit()));
                simple("debian", major.unwrap_or(""), source_path)
            }
            "lsb-release" => parse_lsb(&text, source_path),
            _ => parse_redhat_like(first_line(&text), source_path),
        };
        match parsed {
            Some(os) => out.fact(Fact::Os(os)),
            None => out.problem("no distribution ID could be read from this file"),
        }
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}

fn simple(id: &str, version: &str, source_path: String) -> Option<OsRelease> {
    Some(OsRelease {
        family: OsFamily::from_os_release_id(id),
        id: id.to_string(),
        version_id: (!version.is_empty()).then(|| version.to_string()),
        version_codename: None,
        pretty_name: None,
        source_path,
    })
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    let v = v
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
        .unwrap_or(v);
    v.replace("\\\"", "\"").replace("\\\\", "\\")
}

/// `KEY=value` lines as systemd's os-release(5) defines them.
pub(crate) fn parse_os_release(text: &str, source_path: String) -> Option<OsRelease> {
    let mut id = None;
    let mut version_id = None;
    let mut codename = None;
    let mut pretty = None;
    let mut id_like = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = unquote(v);
        match k.trim() {
            "ID" => id = Some(v.to_ascii_lowercase()),
            "VERSION_ID" => version_id = Some(v),
            "VERSION_CODENAME" => codename = Some(v),
            "PRETTY_NAME" => pretty = Some(v),
            "ID_LIKE" => id_like = Some(v),
            _ => {}
        }
    }
    let id = id.filter(|i| !i.is_empty())?;
    let mut family = OsFamily::from_os_release_id(&id);
    if family == OsFamily::Other {
        if let Some(like) = id_like {
            family = like
                .split_whitespace()
                .map(OsFamily::from_os_release_id)
                .find(|f| *f != OsFamily::Other)
                .unwrap_or(OsFamily::Other);
        }
    }
    Some(OsRelease {
        family,
        id,
        version_id: version_id.filter(|v| !v.is_empty()),
        version_codename: codename.filter(|v| !v.is_empty()),
        pretty_name: pretty,
        source_path,
    })
}

fn parse_lsb(text: &str, source_path: String) -> Option<OsRelease> {
    let mut id = None;
    let mut release = None;
    for line in text.lines() {
        if let Some((k, v)) = line.split_once('=') {
            match k.trim() {
                "DISTRIB_ID" => id = Some(unquote(v).to_ascii_lowercase()),
                "DISTRIB_RELEASE" => release = Some(unquote(v)),
                _ => {}
            }
        }
    }
    simple(&id?, release.as_deref().unwrap_or(""), source_path)
}

/// `Red Hat Enterprise Linux release 8.9 (Ootpa)`, `CentOS Linux release 7.9.2009 (Core)`.
fn parse_redhat_like(line: &str, source_path: String) -> Option<OsRelease> {
    let lower = line.to_ascii_lowercase();
    let id = if lower.starts_with("red hat") {
        "rhel"
    } else if lower.starts_with("centos") {
        "centos"
    } else if lower.starts_with("fedora") {
        "fedora"
    } else if lower.starts_with("rocky") {
        "rocky"
    } else if lower.starts_with("almalinux") {
        "almalinux"
    } else if lower.starts_with("amazon") {
        "amzn"
    } else if lower.starts_with("oracle") {
        "ol"
    } else {
        return None;
    };
    let version = lower
        .split_whitespace()
        .skip_while(|w| *w != "release")
        .nth(1)
        .unwrap_or("");
    simple(id, version, source_path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_debian_os_release() {
        let text = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n";
        let os = parse_os_release(text, "/etc/os-release".into()).unwrap();
        assert_eq!(os.family, OsFamily::Debian);
        assert_eq!(os.version_id.as_deref(), Some("12"));
        assert_eq!(os.purl_distro(), "debian-12");
    }

    /// Issue 18: the distributions whose package databases bulwark now reads are detected
    /// from their os-release (written from each distribution's documented file).
    #[test]
    fn issue_18_detects_arch_gentoo_openwrt_mariner_azure_linux_bottlerocket() {
        let cases = [
            ("NAME=\"Arch Linux\"\nPRETTY_NAME=\"Arch Linux\"\nID=arch\nBUILD_ID=rolling\n", OsFamily::Arch, "arch"),
            ("NAME=Gentoo\nID=gentoo\nPRETTY_NAME=\"Gentoo Linux\"\nVERSION_ID=\"2.15\"\n", OsFamily::Gentoo, "gentoo-2.15"),
            ("NAME=\"OpenWrt\"\nVERSION=\"23.05.2\"\nID=\"openwrt\"\nID_LIKE=\"lede openwrt\"\nVERSION_ID=\"23.05.2\"\n", OsFamily::OpenWrt, "openwrt-23.05.2"),
            ("NAME=\"Common Base Linux Mariner\"\nVERSION=\"2.0.20240123\"\nID=mariner\nVERSION_ID=\"2.0\"\n", OsFamily::Mariner, "mariner-2.0"),
            ("NAME=\"Microsoft Azure Linux\"\nVERSION=\"3.0.20240727\"\nID=azurelinux\nVERSION_ID=\"3.0\"\n", OsFamily::Mariner, "azurelinux-3.0"),
            ("NAME=Bottlerocket\nID=bottlerocket\nVERSION=\"1.19.2 (aws-k8s-1.28)\"\nVERSION_ID=1.19.2\n", OsFamily::Bottlerocket, "bottlerocket-1.19.2"),
        ];
        for (text, family, distro) in cases {
            let os = parse_os_release(text, "/etc/os-release".into()).unwrap();
            assert_eq!(
                (os.family, os.purl_distro().as_str()),
                (family, distro),
                "{text}"
            );
        }
    }

    #[test]
    fn reads_release_files() {
        let os = parse_redhat_like("CentOS Linux release 7.9.2009 (Core)", "x".into()).unwrap();
        assert_eq!(
            (os.id.as_str(), os.version_id.as_deref()),
            ("centos", Some("7.9.2009"))
        );
        assert!(parse_os_release("garbage\n\0\0", "x".into()).is_none());
    }
}
