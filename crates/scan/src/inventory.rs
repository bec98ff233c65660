//! What a server receives instead of an image: an uploaded document (bulwark's own
//! `bulwark.report/v1` JSON, a CycloneDX JSON SBOM from bulwark, syft or Trivy, an SPDX 2.x
//! JSON SBOM) read into the OS and package list an image scan would produce, so it is matched
//! the same way, OS packages included, and rematched package by package when advisories
//! change.
//!
//! The documents are parsed by the readers the rest of bulwark uses
//! ([`bulwark_report::read_report_capped`], [`bulwark_report::import::read_sbom`]); this module
//! only detects the format, enforces a size limit on bytes that arrive over the network, and
//! reads the image's identity from the SBOM's metadata (which the package reader skips).

use std::collections::BTreeMap;

use bulwark_report::import::SbomError;
use bulwark_report::ReadError;
use bulwark_types::{OsRelease, Package};
use bulwark_vulndb::{
    match_keys, try_match, try_match_indexed, Finding, IndexedMatch, MatchKey, MatchOptions,
    MatchOutcome, Store,
};
use serde::Deserialize;

/// The document formats an [`Inventory`] is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InventoryFormat {
    /// bulwark's own JSON report (`"schema": "bulwark.report/v1"`).
    BulwarkReport,
    /// CycloneDX JSON (`"bomFormat": "CycloneDX"`), 1.4 to 1.6.
    CycloneDx,
    /// SPDX 2.x JSON (`"spdxVersion"`).
    Spdx,
}

/// The image a document describes, as far as it says.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImageInfo {
    /// The reference or name the producer scanned (`alpine:3.20`, a path for an archive).
    pub name: Option<String>,
    /// The manifest (repository) digest when the document names one, else the image id
    /// (config digest); `sha256:…`.
    pub digest: Option<String>,
    /// The image id (config digest) when the document names it.
    pub config_digest: Option<String>,
    /// OCI labels (syft writes them as `syft:image:labels:KEY` properties).
    pub labels: BTreeMap<String, String>,
    /// Layer diff ids, in the order the document lists them.
    pub layers: Vec<String>,
}

/// An uploaded inventory, ready to match.
#[derive(Debug, Clone)]
pub struct Inventory {
    pub format: InventoryFormat,
    /// The image's OS: an `operating-system` component or package, bulwark's detected OS,
    /// else the first purl `distro` qualifier (syft's SPDX). Packages whose purl names
    /// another distro are matched against that one.
    pub os: Option<OsRelease>,
    pub packages: Vec<Package>,
    pub image: Option<ImageInfo>,
    /// The findings the producer recorded (bulwark reports only; empty otherwise).
    pub findings: Vec<Finding>,
    /// Components that were not read, with why (no purl, a purl type bulwark does not know).
    pub skipped: Vec<String>,
}

/// Why bytes are not a usable inventory. Each message says what the uploader can do.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("the upload is {size} bytes, over the {limit}-byte limit; split the SBOM or raise the server's upload size limit")]
    TooLarge { size: u64, limit: u64 },
    #[error("the upload is empty: send a bulwark JSON report, a CycloneDX JSON or an SPDX 2.x JSON SBOM")]
    Empty,
    #[error("the upload is not JSON ({0}): send a bulwark JSON report, a CycloneDX JSON or an SPDX 2.x JSON SBOM (XML and tag-value are not read)")]
    NotJson(serde_json::Error),
    #[error("the upload is JSON but neither a bulwark report (\"schema\"), a CycloneDX SBOM (\"bomFormat\": \"CycloneDX\") nor an SPDX SBOM (\"spdxVersion\")")]
    UnknownFormat,
    #[error("bulwark report: {0}")]
    Report(#[from] ReadError),
    #[error("SBOM: {0}")]
    Sbom(#[from] SbomError),
}

/// The top-level fields that tell the formats apart, plus the image identity of each SBOM
/// format (the package reader skips metadata).
#[derive(Deserialize)]
struct Head {
    #[serde(default)]
    schema: Option<serde_json::Value>,
    #[serde(default, rename = "bomFormat")]
    bom_format: Option<serde_json::Value>,
    #[serde(default, rename = "spdxVersion")]
    spdx_version: Option<serde_json::Value>,
    #[serde(default)]
    metadata: Option<CdxMetadata>,
    /// SPDX: only the container package is kept (see [`SpdxHeadPackage`]).
    #[serde(default)]
    packages: Option<SpdxPackages>,
}

#[derive(Deserialize)]
struct CdxMetadata {
    #[serde(default)]
    component: Option<CdxComponent>,
    #[serde(default)]
    properties: Option<Vec<CdxProperty>>,
}

#[derive(Deserialize)]
struct CdxComponent {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    properties: Option<Vec<CdxProperty>>,
}

#[derive(Deserialize)]
struct CdxProperty {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    value: Option<String>,
}

/// The SPDX package list, keeping only the first `CONTAINER` package: a million-package SBOM
/// costs no memory here.
#[derive(Default)]
struct SpdxPackages(Option<SpdxHeadPackage>);

#[derive(Deserialize)]
struct SpdxHeadPackage {
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "versionInfo")]
    version_info: Option<String>,
    #[serde(default, rename = "primaryPackagePurpose")]
    purpose: Option<String>,
}

impl<'de> Deserialize<'de> for SpdxPackages {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = SpdxPackages;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array of SPDX packages")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<SpdxPackages, A::Error> {
                let mut found = None;
                while let Some(p) = seq.next_element::<SpdxHeadPackage>()? {
                    if found.is_none() && p.purpose.as_deref() == Some("CONTAINER") {
                        found = Some(p);
                    }
                }
                Ok(SpdxPackages(found))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<SpdxPackages, E> {
                Ok(SpdxPackages(None))
            }
        }
        d.deserialize_any(Visit)
    }
}

fn is_digest(s: &str) -> bool {
    s.split_once(':')
        .is_some_and(|(algo, hex)| !algo.is_empty() && !hex.is_empty())
        && s.starts_with("sha")
}

impl CdxMetadata {
    fn image(self) -> Option<ImageInfo> {
        let component = self.component?;
        let mut info = ImageInfo {
            name: component.name.filter(|n| !n.is_empty()),
            ..ImageInfo::default()
        };
        let version = component.version.filter(|v| is_digest(v));
        let props = component
            .properties
            .unwrap_or_default()
            .into_iter()
            .chain(self.properties.unwrap_or_default())
            .filter_map(|p| Some((p.name?, p.value?)));
        let mut manifest = None;
        let mut bulwark_layers = Vec::new();
        for (name, value) in props {
            match name.as_str() {
                // bulwark
                "bulwark:image:reference" => info.name = Some(value),
                "bulwark:image:manifest_digest" => manifest = Some(value),
                "bulwark:image:layer_diff_id" => {
                    // `INDEX:sha256:…`
                    if let Some((i, d)) = value.split_once(':') {
                        if let Ok(i) = i.parse::<usize>() {
                            bulwark_layers.push((i, d.to_string()));
                        }
                    }
                }
                // Trivy
                "aquasecurity:trivy:RepoDigest" => {
                    if manifest.is_none() {
                        manifest = value.rsplit_once('@').map(|(_, d)| d.to_string());
                    }
                }
                "aquasecurity:trivy:ImageID" => info.config_digest = Some(value),
                "aquasecurity:trivy:DiffID" => info.layers.push(value),
                "aquasecurity:trivy:RepoTag" => {
                    if info.name.is_none() {
                        info.name = Some(value);
                    }
                }
                _ => {
                    if let Some(key) = name.strip_prefix("syft:image:labels:") {
                        info.labels.insert(key.to_string(), value);
                    }
                }
            }
        }
        if !bulwark_layers.is_empty() {
            bulwark_layers.sort();
            info.layers = bulwark_layers.into_iter().map(|(_, d)| d).collect();
        }
        // bulwark and syft put the image id in the container component's version.
        if info.config_digest.is_none() {
            info.config_digest = version;
        }
        info.digest = manifest.or_else(|| info.config_digest.clone());
        Some(info)
    }
}

impl Inventory {
    /// Reads an uploaded document of at most `size_limit` bytes: detects its format, parses it
    /// with bulwark's readers and returns the OS, packages and image identity. Bad input is an
    /// error saying what was wrong, never a panic.
    pub fn from_bytes(bytes: &[u8], size_limit: u64) -> Result<Inventory, InventoryError> {
        if bytes.len() as u64 > size_limit {
            return Err(InventoryError::TooLarge {
                size: bytes.len() as u64,
                limit: size_limit,
            });
        }
        let Some(first) = bytes.iter().find(|b| !b.is_ascii_whitespace()) else {
            return Err(InventoryError::Empty);
        };
        // Every accepted format is a JSON object (serde would read an array into `Head`).
        if *first == b'[' {
            return Err(
                match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
                    Ok(_) => InventoryError::UnknownFormat,
                    Err(e) => InventoryError::NotJson(e),
                },
            );
        }
        let head: Head = match serde_json::from_slice(bytes) {
            Ok(head) => head,
            Err(e) if e.classify() == serde_json::error::Category::Data => {
                return Err(InventoryError::UnknownFormat)
            }
            Err(e) => return Err(InventoryError::NotJson(e)),
        };
        if head.schema.is_some() {
            let report = bulwark_report::read_report_capped(bytes, size_limit)?;
            let layers = report
                .layers
                .iter()
                .filter_map(|l| l.diff_id.as_ref().map(ToString::to_string))
                .collect();
            let config_digest = report.image.config_digest.as_ref().map(ToString::to_string);
            let image = ImageInfo {
                name: Some(report.image.reference.clone()),
                digest: report
                    .image
                    .manifest_digest
                    .as_ref()
                    .map(ToString::to_string)
                    .or_else(|| config_digest.clone()),
                config_digest,
                labels: BTreeMap::new(),
                layers,
            };
            return Ok(Inventory {
                format: InventoryFormat::BulwarkReport,
                os: report.os,
                packages: report.packages,
                image: Some(image),
                findings: report.vulnerabilities,
                skipped: Vec::new(),
            });
        }
        let format = if head.bom_format.as_ref().and_then(|v| v.as_str()) == Some("CycloneDX") {
            InventoryFormat::CycloneDx
        } else if head.spdx_version.is_some() {
            InventoryFormat::Spdx
        } else {
            return Err(InventoryError::UnknownFormat);
        };
        let image = match format {
            InventoryFormat::CycloneDx => head.metadata.and_then(CdxMetadata::image),
            _ => head.packages.and_then(|p| p.0).map(|p| {
                let version = p.version_info.filter(|v| is_digest(v));
                ImageInfo {
                    name: p.name,
                    digest: version.clone(),
                    config_digest: version,
                    ..ImageInfo::default()
                }
            }),
        };
        let sbom = bulwark_report::import::read_sbom(bytes)?;
        Ok(Inventory {
            format,
            os: sbom.os,
            packages: sbom.packages,
            image,
            findings: Vec::new(),
            skipped: sbom.skipped,
        })
    }

    /// Each package's match keys, by package index (an error: why it cannot be matched). A
    /// server indexes these to find the packages an advisory change touches.
    pub fn match_keys(&self) -> Vec<Result<Vec<MatchKey>, String>> {
        self.packages
            .iter()
            .map(|p| match_keys(self.os.as_ref(), p))
            .collect()
    }
}

/// Matches every package of `inventory` against `store`, as an image scan would.
pub fn match_inventory(
    store: &Store,
    inventory: &Inventory,
    opts: &MatchOptions,
) -> crate::Result<MatchOutcome> {
    Ok(try_match(
        store,
        inventory.os.as_ref(),
        &inventory.packages,
        opts,
    )?)
}

/// Matches only the packages at `indices` (a rematch after an advisory change): their
/// findings by package index, each the same as [`match_inventory`] gives for that package.
pub fn rematch_packages(
    store: &Store,
    inventory: &Inventory,
    indices: &[usize],
    opts: &MatchOptions,
) -> crate::Result<IndexedMatch> {
    Ok(try_match_indexed(
        store,
        inventory.os.as_ref(),
        &inventory.packages,
        indices,
        opts,
    )?)
}
