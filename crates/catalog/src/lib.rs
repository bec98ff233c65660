//! Package analyzers: what is installed, according to the image's own package databases.
//!
//! Each analyzer implements [`bulwark_analyze::Analyzer`] and is listed once in [`analyzers`],
//! the explicit table the walker runs (a test keeps ids unique). They read, and produce:
//!
//! | analyzer | reads | produces |
//! | --- | --- | --- |
//! | `os-release` | `/etc/os-release`, `/usr/lib/os-release`, `alpine-release`, `*-release`, `debian_version` | the OS |
//! | `dpkg` | `/var/lib/dpkg/status`, distroless `status.d/*`, `info/*.list`, `*.md5sums`, `/usr/share/doc/*/copyright` | deb packages, owned files, licences |
//! | `apk` | `/lib/apk/db/installed` | apk packages with files and licences |
//! | `rpm` | `rpmdb.sqlite`, BerkeleyDB `Packages`, ndb `Packages.db` under `/var/lib/rpm` or `/usr/lib/sysimage/rpm` | rpm packages with files and licences |
//! | `pacman` | `/var/lib/pacman/local/*/desc`, `files` | Arch packages (`pkg:alpm`) with files and licences |
//! | `opkg` | `/usr/lib/opkg/status` | OpenWrt packages (`pkg:opkg`) |
//! | `portage` | `/var/db/pkg/<category>/<pf>/PF`, `CONTENTS`, `LICENSE` | Gentoo packages (`pkg:ebuild`) |
//! | `homebrew` | `Cellar/<formula>/<version>/INSTALL_RECEIPT.json` | Homebrew formulae (`pkg:brew`) |
//! | `snap` | `snap/<name>/<revision>/meta/snap.yaml` | snaps (`pkg:snap`) |
//! | `rpm-manifest` | `/var/lib/rpmmanifest/container-manifest-2` | Azure Linux/Mariner distroless rpm packages |
//! | `bottlerocket` | `/usr/share/bottlerocket/application-inventory.json` | Bottlerocket packages |
//! | `sbom` | `*.spdx.json`, `*.cdx.json`, CycloneDX `bom.json`, `/usr/share/sbom/*.json`, Bitnami `.spdx-<app>.spdx` | the packages an embedded SBOM lists by purl, merged into natively found ones |
//! | `github-actions`, `pylock`, `wordpress`, `jvm-release`, `sbt`, `pecl`, `python-egg` | workflows' `uses:`, `pylock.toml`, `wp-content/plugins/*`, a Java runtime's `release`, `build.sbt.lock`, PEAR's `.channel.pecl.php.net/*.reg`, zipped `.egg` | see each module |
//! | (assembly) | `/nix/store/<hash>-<name>-<version>` directories in the file index | Nix packages (`pkg:nix`) |
//!
//! Analyzers only describe one file. Once per image, `bulwark-analyze`'s assembly applies the
//! layers (whiteouts, overwrites, hard links, which layer introduced each database entry), and
//! [`finalize_packages`] turns what the final filesystem shows into the inventory: the purl,
//! the files and licences recorded apart from a package joined in, language packages an OS
//! package owns dropped, and one language package seen in several places merged into one.
#![forbid(unsafe_code)]

mod apk;
mod dpkg;
pub mod lang;
pub mod license;
mod os;
mod packages;
mod rpm;
// Issue 18: OS-like package databases and installed-state formats.
mod bottlerocket;
mod homebrew;
mod nix;
mod opkg;
mod pacman;
mod portage;
mod rpm_manifest;
mod sbom;
mod snap;

use bulwark_analyze::Analyzer;

pub use packages::finalize_packages;

/// Every package analyzer, in one explicit table.
pub fn analyzers() -> Vec<Box<dyn Analyzer>> {
    vec![
        Box::new(os::OsReleaseAnalyzer),
        Box::new(dpkg::DpkgAnalyzer),
        Box::new(apk::ApkAnalyzer),
        Box::new(rpm::RpmAnalyzer),
        Box::new(lang::python::PythonAnalyzer),
        Box::new(lang::javascript::NodeAnalyzer),
        Box::new(lang::golang::GoAnalyzer),
        Box::new(lang::rust::RustAnalyzer),
        Box::new(lang::java::JavaAnalyzer),
        Box::new(lang::ruby::RubyAnalyzer),
        Box::new(lang::php::PhpAnalyzer),
        Box::new(lang::dotnet::DotnetAnalyzer),
        Box::new(lang::swift::analyzer()),
        Box::new(lang::cocoapods::analyzer()),
        Box::new(lang::conan::analyzer()),
        Box::new(lang::vcpkg::analyzer()),
        Box::new(lang::conda::analyzer()),
        Box::new(lang::haskell::analyzer()),
        Box::new(lang::hex::analyzer()),
        Box::new(lang::dart::analyzer()),
        Box::new(lang::julia::analyzer()),
        Box::new(lang::lua::analyzer()),
        Box::new(lang::r::analyzer()),
        Box::new(lang::opam::analyzer()),
        Box::new(pacman::PacmanAnalyzer),
        Box::new(opkg::OpkgAnalyzer),
        Box::new(portage::PortageAnalyzer),
        Box::new(homebrew::HomebrewAnalyzer),
        Box::new(snap::SnapAnalyzer),
        Box::new(rpm_manifest::RpmManifestAnalyzer),
        Box::new(bottlerocket::BottlerocketAnalyzer),
        Box::new(sbom::SbomAnalyzer),
        Box::new(lang::github_actions::GitHubActionsAnalyzer),
        Box::new(lang::pylock::PylockAnalyzer),
        Box::new(lang::wordpress::WordPressAnalyzer),
        Box::new(lang::jvm::JvmReleaseAnalyzer),
        Box::new(lang::sbt::SbtAnalyzer),
        Box::new(lang::pecl::PeclAnalyzer),
        Box::new(lang::egg::EggAnalyzer),
    ]
}

/// Splits an RFC 822-style control file (dpkg status, apk is different) into stanzas of
/// `(field, value)`; continuation lines are folded into the previous value with a newline.
pub(crate) fn control_stanzas(text: &str) -> Vec<Vec<(&str, String)>> {
    let mut stanzas = Vec::new();
    let mut current: Vec<(&str, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                stanzas.push(std::mem::take(&mut current));
            }
            continue;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            if let Some((_, value)) = current.last_mut() {
                value.push('\n');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            current.push((k.trim(), v.trim().to_string()));
        }
    }
    if !current.is_empty() {
        stanzas.push(current);
    }
    stanzas
}

#[cfg(test)]
mod tests {
    #[test]
    fn analyzer_ids_are_unique() {
        let mut ids: Vec<&str> = super::analyzers().iter().map(|a| a.id()).collect();
        let before = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), before);
    }
}
