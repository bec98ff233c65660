//! Every ecosystem bulwark knows, in one table: what its purls, its advisories and its
//! registry call it, how it orders versions, and how it compares names. Code that needs one of
//! these facts looks it up here instead of matching on the ecosystem itself, so adding an
//! ecosystem is one row.

use std::fmt;

use bulwark_version::Scheme;
use serde::{Deserialize, Serialize};

/// Where a package comes from: decides its version rules, its purl type and its advisories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    Deb,
    Apk,
    Rpm,
    PyPI,
    Npm,
    Go,
    Cargo,
    Maven,
    Gem,
    Composer,
    NuGet,
    Swift,
    CocoaPods,
    Conan,
    Vcpkg,
    Conda,
    Hackage,
    Hex,
    Pub,
    Julia,
    LuaRocks,
    Cran,
    Opam,
    /// Arch Linux pacman (libalpm) packages.
    Alpm,
    /// OpenWrt opkg packages.
    Opkg,
    /// Gentoo portage packages (the purl namespace is the category).
    Ebuild,
    /// Homebrew formulae.
    Brew,
    /// Nix store paths.
    Nix,
    /// Snap packages.
    Snap,
    /// Bottlerocket's application inventory.
    Bottlerocket,
    /// Bitnami's packaged applications and their components.
    Bitnami,
    /// WordPress plugins.
    WordPress,
    /// GitHub Actions a workflow pins with `uses:`.
    GitHubActions,
    /// PHP extensions installed by PECL.
    Pecl,
    /// Software no package ecosystem covers (a Java runtime), named `pkg:generic/vendor/name`.
    Generic,
}

/// How an ecosystem's registry compares two package names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// As written: two spellings are two packages (npm, Go, crates.io, Maven, RubyGems and the
    /// distributions).
    Exact,
    /// ASCII case ignored (Packagist, NuGet).
    Lowercase,
    /// PEP 503: lowercase, every run of `-`, `_` and `.` one `-` (PyPI).
    Pep503,
}

impl NameRule {
    /// `name` as the registry compares it (surrounding whitespace dropped).
    pub fn normalize(self, name: &str) -> String {
        let name = name.trim();
        match self {
            NameRule::Exact => name.to_string(),
            NameRule::Lowercase => name.to_ascii_lowercase(),
            NameRule::Pep503 => {
                let mut out = String::with_capacity(name.len());
                let mut in_run = false;
                for c in name.chars() {
                    if matches!(c, '-' | '_' | '.') {
                        if !in_run {
                            out.push('-');
                        }
                        in_run = true;
                    } else {
                        out.push(c.to_ascii_lowercase());
                        in_run = false;
                    }
                }
                out
            }
        }
    }
}

/// One row of the ecosystem table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EcosystemInfo {
    pub ecosystem: Ecosystem,
    /// The package-url type (`pkg:<type>/…`).
    pub purl_type: &'static str,
    /// The OSV `affected[].package.ecosystem` its advisories are filed under; `None` for a
    /// distribution's packages, whose OSV ecosystem is the distribution release (`Debian:12`,
    /// `Alpine:v3.19`), known only from the image's OS.
    pub osv_name: Option<&'static str>,
    /// How its versions are ordered (`bulwark-version`).
    pub version_scheme: Scheme,
    /// How its registry, and its advisories, compare names.
    pub names: NameRule,
    /// How the purl spec normalises its names (only PyPI's are).
    pub purl_names: NameRule,
    /// A distribution's package, installed by its package manager.
    pub os: bool,
    /// The namespace of an OS package's purl when the image's os-release `ID` is unknown.
    pub default_purl_namespace: Option<&'static str>,
    /// The package name carries the purl namespace as `namespace/name` (`@babel/core`,
    /// `golang.org/x/net`, `monolog/monolog`).
    pub namespace_in_name: bool,
    /// The package database names a binary package's source package only when it differs
    /// (absent means itself), and the distribution's advisories are keyed by it (dpkg, apk;
    /// rpm advisories name binary packages).
    pub keyed_by_source: bool,
    /// The purl carries the version's epoch as the `epoch` qualifier, not in the version, and
    /// `upstream` is the source rpm's file name (rpm).
    pub epoch_qualifier: bool,
    /// A language-like package whose purl carries the `arch` qualifier from its record and the
    /// `distro` qualifier from the image's OS (Bitnami's `pkg:bitnami/redis@7.2.4?arch=amd64&distro=debian-12`).
    pub arch_distro_qualifiers: bool,
}

const fn language(
    ecosystem: Ecosystem,
    purl_type: &'static str,
    osv_name: &'static str,
    version_scheme: Scheme,
    names: NameRule,
    namespace_in_name: bool,
) -> EcosystemInfo {
    EcosystemInfo {
        ecosystem,
        purl_type,
        osv_name: Some(osv_name),
        version_scheme,
        names,
        purl_names: NameRule::Exact,
        os: false,
        default_purl_namespace: None,
        namespace_in_name,
        keyed_by_source: false,
        epoch_qualifier: false,
        arch_distro_qualifiers: false,
    }
}

/// A language ecosystem no OSV feed covers: its packages are listed, never matched.
const fn unmatched_language(
    ecosystem: Ecosystem,
    purl_type: &'static str,
    names: NameRule,
) -> EcosystemInfo {
    EcosystemInfo {
        osv_name: None,
        ..language(ecosystem, purl_type, "", Scheme::Generic, names, false)
    }
}

const fn distribution(
    ecosystem: Ecosystem,
    purl_type: &'static str,
    version_scheme: Scheme,
    default_purl_namespace: &'static str,
    keyed_by_source: bool,
    epoch_qualifier: bool,
) -> EcosystemInfo {
    EcosystemInfo {
        ecosystem,
        purl_type,
        osv_name: None,
        version_scheme,
        names: NameRule::Exact,
        purl_names: NameRule::Exact,
        os: true,
        default_purl_namespace: Some(default_purl_namespace),
        namespace_in_name: false,
        keyed_by_source,
        epoch_qualifier,
        arch_distro_qualifiers: false,
    }
}

/// The table, in [`Ecosystem`] declaration order (a test keeps it so).
const TABLE: [EcosystemInfo; 35] = [
    distribution(Ecosystem::Deb, "deb", Scheme::Dpkg, "debian", true, false),
    distribution(Ecosystem::Apk, "apk", Scheme::Apk, "alpine", true, false),
    distribution(Ecosystem::Rpm, "rpm", Scheme::Rpm, "redhat", false, true),
    EcosystemInfo {
        purl_names: NameRule::Pep503,
        ..language(
            Ecosystem::PyPI,
            "pypi",
            "PyPI",
            Scheme::Pep440,
            NameRule::Pep503,
            false,
        )
    },
    language(
        Ecosystem::Npm,
        "npm",
        "npm",
        Scheme::SemVer,
        NameRule::Exact,
        true,
    ),
    language(
        Ecosystem::Go,
        "golang",
        "Go",
        Scheme::Go,
        NameRule::Exact,
        true,
    ),
    language(
        Ecosystem::Cargo,
        "cargo",
        "crates.io",
        Scheme::SemVer,
        NameRule::Exact,
        false,
    ),
    language(
        Ecosystem::Maven,
        "maven",
        "Maven",
        Scheme::Maven,
        NameRule::Exact,
        false,
    ),
    language(
        Ecosystem::Gem,
        "gem",
        "RubyGems",
        Scheme::RubyGems,
        NameRule::Exact,
        false,
    ),
    language(
        Ecosystem::Composer,
        "composer",
        "Packagist",
        Scheme::Composer,
        NameRule::Lowercase,
        true,
    ),
    language(
        Ecosystem::NuGet,
        "nuget",
        "NuGet",
        Scheme::NuGet,
        NameRule::Lowercase,
        false,
    ),
    // OSV's SwiftURL names are the repository URL without scheme (`github.com/apple/swift-nio`):
    // the purl namespace is its host and owner.
    language(
        Ecosystem::Swift,
        "swift",
        "SwiftURL",
        Scheme::SemVer,
        NameRule::Lowercase,
        true,
    ),
    unmatched_language(Ecosystem::CocoaPods, "cocoapods", NameRule::Exact),
    language(
        Ecosystem::Conan,
        "conan",
        "ConanCenter",
        Scheme::Generic,
        NameRule::Exact,
        false,
    ),
    // The purl type registered in purl-spec#885 (2026); no OSV feed yet.
    unmatched_language(Ecosystem::Vcpkg, "vcpkg", NameRule::Exact),
    unmatched_language(Ecosystem::Conda, "conda", NameRule::Lowercase),
    language(
        Ecosystem::Hackage,
        "hackage",
        "Hackage",
        Scheme::Generic,
        NameRule::Exact,
        false,
    ),
    language(
        Ecosystem::Hex,
        "hex",
        "Hex",
        Scheme::SemVer,
        NameRule::Lowercase,
        false,
    ),
    language(
        Ecosystem::Pub,
        "pub",
        "Pub",
        Scheme::SemVer,
        NameRule::Exact,
        false,
    ),
    language(
        Ecosystem::Julia,
        "julia",
        "Julia",
        Scheme::SemVer,
        NameRule::Exact,
        false,
    ),
    unmatched_language(Ecosystem::LuaRocks, "luarocks", NameRule::Lowercase),
    language(
        Ecosystem::Cran,
        "cran",
        "CRAN",
        Scheme::Generic,
        NameRule::Exact,
        false,
    ),
    language(
        Ecosystem::Opam,
        "opam",
        "opam",
        Scheme::Generic,
        NameRule::Exact,
        false,
    ),
    distribution(Ecosystem::Alpm, "alpm", Scheme::Rpm, "arch", false, false),
    distribution(
        Ecosystem::Opkg,
        "opkg",
        Scheme::Dpkg,
        "openwrt",
        false,
        false,
    ),
    // The purl namespace is the portage category (`pkg:ebuild/dev-libs/openssl@3.0.13`), not the
    // distribution, so no default namespace.
    EcosystemInfo {
        default_purl_namespace: None,
        ..distribution(
            Ecosystem::Ebuild,
            "ebuild",
            Scheme::Generic,
            "",
            false,
            false,
        )
    },
    unmatched_language(Ecosystem::Brew, "brew", NameRule::Exact),
    unmatched_language(Ecosystem::Nix, "nix", NameRule::Exact),
    unmatched_language(Ecosystem::Snap, "snap", NameRule::Exact),
    distribution(
        Ecosystem::Bottlerocket,
        "bottlerocket",
        Scheme::Rpm,
        "bottlerocket",
        false,
        false,
    ),
    EcosystemInfo {
        arch_distro_qualifiers: true,
        ..language(
            Ecosystem::Bitnami,
            "bitnami",
            "Bitnami",
            Scheme::SemVer,
            NameRule::Exact,
            false,
        )
    },
    unmatched_language(Ecosystem::WordPress, "wordpress", NameRule::Exact),
    language(
        Ecosystem::GitHubActions,
        "githubactions",
        "GitHub Actions",
        Scheme::Generic,
        NameRule::Lowercase,
        true,
    ),
    unmatched_language(Ecosystem::Pecl, "pecl", NameRule::Exact),
    unmatched_language(Ecosystem::Generic, "generic", NameRule::Exact),
];

impl Ecosystem {
    /// Every ecosystem, in declaration order.
    pub const ALL: [Ecosystem; 35] = [
        Ecosystem::Deb,
        Ecosystem::Apk,
        Ecosystem::Rpm,
        Ecosystem::PyPI,
        Ecosystem::Npm,
        Ecosystem::Go,
        Ecosystem::Cargo,
        Ecosystem::Maven,
        Ecosystem::Gem,
        Ecosystem::Composer,
        Ecosystem::NuGet,
        Ecosystem::Swift,
        Ecosystem::CocoaPods,
        Ecosystem::Conan,
        Ecosystem::Vcpkg,
        Ecosystem::Conda,
        Ecosystem::Hackage,
        Ecosystem::Hex,
        Ecosystem::Pub,
        Ecosystem::Julia,
        Ecosystem::LuaRocks,
        Ecosystem::Cran,
        Ecosystem::Opam,
        Ecosystem::Alpm,
        Ecosystem::Opkg,
        Ecosystem::Ebuild,
        Ecosystem::Brew,
        Ecosystem::Nix,
        Ecosystem::Snap,
        Ecosystem::Bottlerocket,
        Ecosystem::Bitnami,
        Ecosystem::WordPress,
        Ecosystem::GitHubActions,
        Ecosystem::Pecl,
        Ecosystem::Generic,
    ];

    /// This ecosystem's row of the table.
    pub fn info(self) -> &'static EcosystemInfo {
        &TABLE[self as usize]
    }

    /// The package-url type (`pkg:<type>/…`).
    pub fn purl_type(self) -> &'static str {
        self.info().purl_type
    }

    /// The ecosystem a purl type names (`pkg:golang/…` → Go); ASCII case ignored, as the purl
    /// spec says.
    pub fn from_purl_type(ty: &str) -> Option<Ecosystem> {
        TABLE
            .iter()
            .find(|row| row.purl_type.eq_ignore_ascii_case(ty))
            .map(|row| row.ecosystem)
    }

    /// The OSV ecosystem a language package's advisories are filed under; `None` for OS
    /// packages (see [`EcosystemInfo::osv_name`]).
    pub fn osv_name(self) -> Option<&'static str> {
        self.info().osv_name
    }

    /// The ecosystem an OSV ecosystem name stands for (`crates.io` → Cargo); only the part
    /// before a `:` counts. `None` for distribution releases and ecosystems bulwark does not
    /// catalog.
    pub fn from_osv_name(name: &str) -> Option<Ecosystem> {
        let base = name.split(':').next().unwrap_or("").trim();
        TABLE
            .iter()
            .find(|row| row.osv_name == Some(base))
            .map(|row| row.ecosystem)
    }

    /// How the ecosystem orders versions.
    pub fn version_scheme(self) -> Scheme {
        self.info().version_scheme
    }

    /// A package name as the ecosystem's registry (and its advisories) compares names.
    pub fn normalize_name(self, name: &str) -> String {
        self.info().names.normalize(name)
    }

    pub fn is_os(self) -> bool {
        self.info().os
    }

    /// A package of this ecosystem can be matched against advisories: a language with an OSV
    /// ecosystem, or a distribution's package (matched through the image's OS).
    pub fn has_advisories(self) -> bool {
        self.info().os || self.info().osv_name.is_some()
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.purl_type())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_follows_the_enum() {
        for (i, eco) in Ecosystem::ALL.into_iter().enumerate() {
            assert_eq!(eco as usize, i);
            assert_eq!(TABLE[i].ecosystem, eco);
        }
    }

    /// Ecosystems no OSV feed covers (checked against osv-schema's ecosystem list):
    /// cataloged, never matched.
    const WITHOUT_FEED: [Ecosystem; 10] = [
        Ecosystem::CocoaPods,
        Ecosystem::Vcpkg,
        Ecosystem::Conda,
        Ecosystem::LuaRocks,
        Ecosystem::Brew,
        Ecosystem::Nix,
        Ecosystem::Snap,
        Ecosystem::WordPress,
        Ecosystem::Pecl,
        Ecosystem::Generic,
    ];

    #[test]
    fn every_ecosystem_round_trips_its_purl_type_and_osv_name() {
        for eco in Ecosystem::ALL {
            assert_eq!(Ecosystem::from_purl_type(eco.purl_type()), Some(eco));
            assert_eq!(
                Ecosystem::from_purl_type(&eco.purl_type().to_ascii_uppercase()),
                Some(eco)
            );
            match eco.osv_name() {
                Some(osv) => {
                    assert!(!eco.is_os(), "{eco}");
                    assert_eq!(Ecosystem::from_osv_name(osv), Some(eco));
                    assert_eq!(Scheme::for_osv_ecosystem(osv), Some(eco.version_scheme()));
                }
                None => assert!(
                    eco.is_os() || WITHOUT_FEED.contains(&eco),
                    "{eco}: a language needs an OSV name"
                ),
            }
            // The serialised name is the purl type's spelling, lowercased.
            let json = serde_json::to_string(&eco).unwrap();
            assert_eq!(
                json.trim_matches('"'),
                format!("{eco:?}").to_ascii_lowercase()
            );
        }
        assert_eq!(Ecosystem::from_purl_type("golang"), Some(Ecosystem::Go));
        assert_eq!(Ecosystem::from_purl_type("oci"), None);
        assert_eq!(
            Ecosystem::from_osv_name("crates.io"),
            Some(Ecosystem::Cargo)
        );
        assert_eq!(
            Ecosystem::from_osv_name("Packagist"),
            Some(Ecosystem::Composer)
        );
        assert_eq!(Ecosystem::from_osv_name("Debian:12"), None);
        assert_eq!(Ecosystem::from_osv_name("Hex"), Some(Ecosystem::Hex));
        assert_eq!(Ecosystem::from_osv_name("Go-Hex"), None);
    }

    #[test]
    fn names_normalise_per_ecosystem() {
        let cases = [
            (Ecosystem::PyPI, "Django", "django"),
            (Ecosystem::PyPI, "zope.interface", "zope-interface"),
            (Ecosystem::PyPI, "Foo__Bar-.baz", "foo-bar-baz"),
            (Ecosystem::PyPI, " Jinja2 ", "jinja2"),
            (Ecosystem::Composer, "Monolog/Monolog", "monolog/monolog"),
            (Ecosystem::NuGet, "Newtonsoft.Json", "newtonsoft.json"),
            (Ecosystem::Npm, "Axios", "Axios"),
            (
                Ecosystem::Go,
                "github.com/Sirupsen/logrus",
                "github.com/Sirupsen/logrus",
            ),
            (Ecosystem::Cargo, "Serde_Json", "Serde_Json"),
            (Ecosystem::Maven, "org.Apache:Log4j", "org.Apache:Log4j"),
            (Ecosystem::Gem, "Rack", "Rack"),
            (Ecosystem::Deb, "libc6", "libc6"),
            (Ecosystem::Apk, "musl", "musl"),
            (Ecosystem::Rpm, "OpenSSL-libs", "OpenSSL-libs"),
        ];
        for (eco, name, want) in cases {
            assert_eq!(eco.normalize_name(name), want, "{eco} {name}");
        }
        // Only PyPI's purl names are normalised (the purl spec), the same way.
        for eco in Ecosystem::ALL {
            let want = if eco == Ecosystem::PyPI {
                NameRule::Pep503
            } else {
                NameRule::Exact
            };
            assert_eq!(eco.info().purl_names, want, "{eco}");
        }
    }
}
