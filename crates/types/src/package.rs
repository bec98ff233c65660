use serde::{Deserialize, Serialize};

use crate::{Digest, Ecosystem, Purl};

/// The layer that introduced something: its position, its uncompressed digest and the build
/// step (history `created_by`) that made it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LayerRef {
    pub index: usize,
    /// `None` for sources without layers (an unpacked root filesystem).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff_id: Option<Digest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
}

/// The source package a binary package was built from (dpkg `Source:`, rpm `SOURCERPM`, apk
/// origin). Distribution advisories are keyed by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PackageSource {
    pub name: String,
    pub version: String,
}

/// How the scan knows a package is there.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Evidence {
    /// Its own metadata is in the image: a package database entry, an installed package's
    /// manifest (`.dist-info`, `node_modules/*/package.json`, a gemspec, Composer's
    /// `installed.json`, `.deps.json`), a jar, or build info embedded in a binary.
    #[default]
    Installed,
    /// Only a manifest or lockfile names it (`requirements.txt`, `package-lock.json`,
    /// `go.mod`, `Cargo.lock`, `pom.xml`, `Gemfile.lock`, `composer.lock`,
    /// `packages.lock.json`, a project file): what a build would install, not proof that it is
    /// present. Lower confidence than [`Evidence::Installed`].
    Declared,
}

impl Evidence {
    pub fn is_installed(&self) -> bool {
        *self == Evidence::Installed
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::Installed => "installed",
            Evidence::Declared => "declared",
        }
    }

    /// The name [`Evidence::as_str`] gives, back.
    pub fn from_name(name: &str) -> Option<Evidence> {
        match name {
            "installed" => Some(Evidence::Installed),
            "declared" => Some(Evidence::Declared),
            _ => None,
        }
    }
}

/// What a package is to the project it was found in (see "Projects, roots and workspace
/// members" in docs/architecture.md).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum PackageRole {
    /// Something a project uses (the default, not written).
    #[default]
    Dependency,
    /// The project itself, as its manifest names it: go.mod's module, a pom's project, a
    /// deps.json `project`, a package-lock's root package, a uv.lock editable root.
    Root,
    /// A member of the project's workspace (npm/yarn/pnpm workspaces, uv and Cargo members).
    Member,
}

impl PackageRole {
    pub fn is_dependency(&self) -> bool {
        *self == PackageRole::Dependency
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PackageRole::Dependency => "dependency",
            PackageRole::Root => "root",
            PackageRole::Member => "member",
        }
    }

    /// The name [`PackageRole::as_str`] gives, back.
    pub fn from_name(name: &str) -> Option<PackageRole> {
        match name {
            "dependency" => Some(PackageRole::Dependency),
            "root" => Some(PackageRole::Root),
            "member" => Some(PackageRole::Member),
            _ => None,
        }
    }
}

/// One package, as the inventory (SBOM) lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub ecosystem: Ecosystem,
    pub name: String,
    /// The full version in the ecosystem's own syntax, epoch included (`1:1.2.13.dfsg-1`).
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<PackageSource>,
    /// SPDX license expressions, one per declared licence; `LicenseRef-…` where no SPDX id fits.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    pub purl: Purl,
    pub layer: LayerRef,
    /// The files the package was read from (its database or metadata), image-absolute.
    pub found_in: Vec<String>,
    /// Files the package manager says the package owns, image-absolute and sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// Only needed to develop or build, not at run time.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dev: bool,
    /// Identified by a heuristic (e.g. a jar's file name) rather than package metadata.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inferred: bool,
    /// Names of the packages this one depends on, as its metadata lists them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
    /// Installed (the default, not written) or only declared by a manifest or lockfile.
    #[serde(default, skip_serializing_if = "Evidence::is_installed")]
    pub evidence: Evidence,
    /// The project itself or a workspace member; a dependency (the default) is not written.
    #[serde(default, skip_serializing_if = "PackageRole::is_dependency")]
    pub role: PackageRole,
}

impl Package {
    /// A stable ordering key, so every rendering is deterministic.
    pub fn sort_key(&self) -> (Ecosystem, &str, &str, Option<&str>, &[String]) {
        (
            self.ecosystem,
            &self.name,
            &self.version,
            self.arch.as_deref(),
            &self.found_in,
        )
    }
}
