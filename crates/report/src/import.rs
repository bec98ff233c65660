//! Reading SBOMs back in: CycloneDX (1.4–1.6) and SPDX 2.x JSON, bulwark's own or another
//! tool's (syft, trivy), into the same [`Package`] list an image scan produces, so matching
//! works the same on an SBOM file as on an image.
//!
//! The document is deserialized into typed structs holding only the fields used, borrowing
//! strings from the input where it can; each element of `components` (CycloneDX) or
//! `packages` (SPDX) becomes a [`Package`] as soon as it is read, so memory stays near the
//! size of the input plus the packages, with no intermediate JSON tree.

use std::fmt;

use bulwark_types::BorrowedText as Text;

use bulwark_types::{
    Ecosystem, Evidence, LayerRef, OsFamily, OsRelease, Package, PackageSource, Purl,
};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// What an SBOM says was installed.
#[derive(Debug, Clone, Default)]
pub struct ImportedSbom {
    /// The document's operating system (an `operating-system` component, an SPDX
    /// `OPERATING_SYSTEM` package), else the first purl `distro` qualifier; packages whose purl
    /// names its own distro are matched against that one instead.
    pub os: Option<OsRelease>,
    pub packages: Vec<Package>,
    /// Components skipped, with why (no purl, an unknown purl type).
    pub skipped: Vec<String>,
    pub format: &'static str,
}

#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    #[error("not JSON: {0}")]
    Json(serde_json::Error),
    #[error("not a readable SBOM: {0}")]
    Invalid(serde_json::Error),
    #[error("neither a CycloneDX (bomFormat) nor an SPDX (spdxVersion) JSON document")]
    UnknownFormat,
}

impl From<serde_json::Error> for SbomError {
    fn from(e: serde_json::Error) -> Self {
        match e.classify() {
            serde_json::error::Category::Data => SbomError::Invalid(e),
            _ => SbomError::Json(e),
        }
    }
}

/// The largest SBOM file [`load`] reads by default (`--max-sbom-size`): room for a million
/// components with their properties, while a runaway or hostile file stops before it is read.
pub const DEFAULT_MAX_SBOM_BYTES: u64 = 2 << 30;

/// Errors reading an SBOM file; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum SbomFileError {
    #[error("cannot read the SBOM {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the SBOM {path} is larger than the {max} limit; raise --max-sbom-size (BULWARK_MAX_SBOM_SIZE, bulwark.yaml max-sbom-size) if the file is genuine")]
    TooLarge { path: String, max: String },
    #[error("{path} is not a usable SBOM: {source}")]
    Parse { path: String, source: SbomError },
}

/// Reads and parses the SBOM at `path`, refusing a file over `max_bytes` before reading it.
pub fn load(path: &std::path::Path, max_bytes: u64) -> Result<ImportedSbom, SbomFileError> {
    let shown = path.display().to_string();
    let bytes = match crate::input::read_capped(path, max_bytes) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            return Err(SbomFileError::TooLarge {
                path: shown,
                max: crate::input::size_text(max_bytes),
            })
        }
        Err(source) => {
            return Err(SbomFileError::Read {
                path: shown,
                source,
            })
        }
    };
    read_sbom(&bytes).map_err(|source| SbomFileError::Parse {
        path: shown,
        source,
    })
}

/// Parses a CycloneDX or SPDX JSON document.
pub fn read_sbom(bytes: &[u8]) -> Result<ImportedSbom, SbomError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let doc = de.deserialize_any(DocumentVisitor)?;
    de.end()?;
    if doc.bom_format.as_deref() == Some("CycloneDX") {
        Ok(doc.cyclonedx.finish("cyclonedx"))
    } else if doc.spdx_version {
        Ok(doc.spdx.finish("spdx"))
    } else {
        Err(SbomError::UnknownFormat)
    }
}

/// The top level of either format; `components` and `packages` are converted as they stream by.
#[derive(Default)]
struct Document {
    bom_format: Option<String>,
    spdx_version: bool,
    cyclonedx: Collector,
    spdx: Collector,
}

struct DocumentVisitor;

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = Document;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object (a CycloneDX or SPDX document)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document, A::Error> {
        let mut doc = Document::default();
        while let Some(key) = map.next_key::<Text<'de>>()? {
            match &*key {
                "bomFormat" => {
                    doc.bom_format = map
                        .next_value::<Option<Text<'de>>>()?
                        .map(|t| t.to_string())
                }
                "spdxVersion" => {
                    map.next_value::<IgnoredAny>()?;
                    doc.spdx_version = true;
                }
                "components" => map.next_value_seed(Elements {
                    collector: &mut doc.cyclonedx,
                    add: Collector::add_component,
                })?,
                "packages" => map.next_value_seed(Elements {
                    collector: &mut doc.spdx,
                    add: Collector::add_spdx_package,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(doc)
    }

    // Anything but an object is JSON that is not an SBOM: said as such by the caller.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Document, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Document::default())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Document, E> {
        Ok(Document::default())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Document, E> {
        Ok(Document::default())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Document, E> {
        Ok(Document::default())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Document, E> {
        Ok(Document::default())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Document, E> {
        Ok(Document::default())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Document, E> {
        Ok(Document::default())
    }
}

/// An array whose elements are handed to the collector one at a time (`null`: no elements).
struct Elements<'c, T> {
    collector: &'c mut Collector,
    add: fn(&mut Collector, T),
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for Elements<'_, T> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Elements<'_, T> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(element) = seq.next_element::<T>()? {
            (self.add)(self.collector, element);
        }
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// A CycloneDX component, with only the fields read.
#[derive(Deserialize)]
struct Component<'a> {
    #[serde(rename = "type", borrow, default)]
    ty: Option<Text<'a>>,
    #[serde(borrow, default)]
    name: Option<Text<'a>>,
    #[serde(borrow, default)]
    version: Option<Text<'a>>,
    #[serde(borrow, default)]
    description: Option<Text<'a>>,
    #[serde(borrow, default)]
    purl: Option<Text<'a>>,
    #[serde(borrow, default)]
    properties: Option<Vec<Property<'a>>>,
    #[serde(borrow, default)]
    licenses: Option<Vec<LicenseChoice<'a>>>,
    #[serde(borrow, default)]
    components: Option<Vec<Component<'a>>>,
}

#[derive(Deserialize)]
struct Property<'a> {
    #[serde(borrow, default)]
    name: Option<Text<'a>>,
    #[serde(borrow, default)]
    value: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct LicenseChoice<'a> {
    #[serde(borrow, default)]
    expression: Option<Text<'a>>,
    #[serde(borrow, default)]
    license: Option<License<'a>>,
}

#[derive(Deserialize)]
struct License<'a> {
    #[serde(borrow, default)]
    id: Option<Text<'a>>,
    #[serde(borrow, default)]
    name: Option<Text<'a>>,
}

/// An SPDX package, with only the fields read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage<'a> {
    #[serde(borrow, default)]
    name: Option<Text<'a>>,
    #[serde(borrow, default)]
    version_info: Option<Text<'a>>,
    #[serde(borrow, default)]
    primary_package_purpose: Option<Text<'a>>,
    #[serde(borrow, default)]
    external_refs: Option<Vec<ExternalRef<'a>>>,
    #[serde(borrow, default)]
    license_declared: Option<Text<'a>>,
    #[serde(borrow, default)]
    comment: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef<'a> {
    #[serde(borrow, default)]
    reference_type: Option<Text<'a>>,
    #[serde(borrow, default)]
    reference_locator: Option<Text<'a>>,
}

/// Packages, the OS and the skipped components of one format, gathered in document order.
#[derive(Default)]
struct Collector {
    declared_os: Option<OsRelease>,
    distro_os: Option<OsRelease>,
    packages: Vec<Package>,
    skipped: Vec<String>,
}

impl Collector {
    fn finish(mut self, format: &'static str) -> ImportedSbom {
        // In place: a stable sort would hold a second half-copy of a million packages.
        self.packages
            .sort_unstable_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        ImportedSbom {
            os: self.declared_os.or(self.distro_os),
            packages: self.packages,
            skipped: self.skipped,
            format,
        }
    }

    fn note_distro(&mut self, purl: &Purl) {
        if self.distro_os.is_none() {
            if let Some(d) = purl.qualifiers.get("distro") {
                self.distro_os = Some(OsRelease::from_purl_distro(d, "sbom"));
            }
        }
    }

    fn add_component(&mut self, c: Component<'_>) {
        let Component {
            ty,
            name,
            version,
            description,
            purl,
            properties,
            licenses,
            components,
        } = c;
        if ty.as_deref() == Some("operating-system") {
            if self.declared_os.is_none() {
                self.declared_os = Some(os_release(
                    name.as_deref().unwrap_or(""),
                    version.as_deref(),
                    description.as_deref(),
                ));
            }
        } else {
            match purl {
                None => {
                    if let Some(name) = name {
                        self.skipped.push(format!("{}: no purl", &*name));
                    }
                }
                Some(purl_text) => match purl_text.parse::<Purl>() {
                    Err(_) => self
                        .skipped
                        .push(format!("{}: not a valid purl", &*purl_text)),
                    Ok(purl) => {
                        let properties = properties.unwrap_or_default();
                        let props = |key: &str| {
                            properties
                                .iter()
                                .find(|p| p.name.as_deref() == Some(key))
                                .and_then(|p| p.value.as_deref())
                                .map(str::to_string)
                        };
                        let licenses = licenses
                            .unwrap_or_default()
                            .into_iter()
                            .filter_map(|l| {
                                l.expression
                                    .or_else(|| l.license.and_then(|x| x.id.or(x.name)))
                                    .map(|t| t.0.into_owned())
                            })
                            .collect();
                        self.note_distro(&purl);
                        match package_from_purl(purl, licenses, &props) {
                            Some(p) => self.packages.push(p),
                            None => self
                                .skipped
                                .push(format!("{}: purl type not supported", &*purl_text)),
                        }
                    }
                },
            }
        }
        for nested in components.unwrap_or_default() {
            self.add_component(nested);
        }
    }

    fn add_spdx_package(&mut self, p: SpdxPackage<'_>) {
        let purpose = p.primary_package_purpose.as_deref();
        if purpose == Some("OPERATING_SYSTEM") {
            if self.declared_os.is_none() {
                self.declared_os = Some(os_release(
                    p.name.as_deref().unwrap_or(""),
                    p.version_info.as_deref(),
                    None,
                ));
            }
            return;
        }
        let purl_text = p.external_refs.as_deref().and_then(|refs| {
            refs.iter()
                .find(|r| r.reference_type.as_deref() == Some("purl"))
                .and_then(|r| r.reference_locator.as_deref())
        });
        let Some(purl_text) = purl_text else {
            if purpose != Some("CONTAINER") {
                if let Some(name) = p.name.as_deref() {
                    self.skipped.push(format!("{name}: no purl"));
                }
            }
            return;
        };
        let Ok(purl) = purl_text.parse::<Purl>() else {
            self.skipped.push(format!("{purl_text}: not a valid purl"));
            return;
        };
        let licenses = p
            .license_declared
            .as_deref()
            .filter(|l| *l != "NOASSERTION" && *l != "NONE")
            .map(|l| vec![l.to_string()])
            .unwrap_or_default();
        // bulwark writes `layer N (sha256:…): step` in the comment.
        let layer_index = p
            .comment
            .as_deref()
            .and_then(|c| c.strip_prefix("layer "))
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .map(str::to_string);
        let props = |key: &str| match key {
            "bulwark:layer:index" => layer_index.clone(),
            _ => None,
        };
        self.note_distro(&purl);
        match package_from_purl(purl, licenses, &props) {
            Some(pkg) => self.packages.push(pkg),
            None => self
                .skipped
                .push(format!("{purl_text}: purl type not supported")),
        }
    }
}

fn os_release(id: &str, version: Option<&str>, pretty: Option<&str>) -> OsRelease {
    let id = id.to_ascii_lowercase();
    OsRelease {
        family: OsFamily::from_os_release_id(&id),
        id,
        version_id: version.map(str::to_string),
        version_codename: None,
        pretty_name: pretty.map(str::to_string),
        source_path: "sbom".into(),
    }
}

/// Trivy names the source package in properties: `SrcName`, `SrcVersion`, and `SrcRelease`
/// and `SrcEpoch` when the version has them (the purl carries no `upstream`).
fn trivy_source(props: &dyn Fn(&str) -> Option<String>) -> Option<PackageSource> {
    let name = props("aquasecurity:trivy:SrcName")?;
    let mut version = props("aquasecurity:trivy:SrcVersion")?;
    if let Some(release) = props("aquasecurity:trivy:SrcRelease").filter(|r| !r.is_empty()) {
        version = format!("{version}-{release}");
    }
    if let Some(epoch) = props("aquasecurity:trivy:SrcEpoch").filter(|e| !e.is_empty() && e != "0")
    {
        version = format!("{epoch}:{version}");
    }
    Some(PackageSource { name, version })
}

/// One package from its purl and whatever else the document says about it.
fn package_from_purl(
    purl: Purl,
    licenses: Vec<String>,
    props: &dyn Fn(&str) -> Option<String>,
) -> Option<Package> {
    let ecosystem = Ecosystem::from_purl_type(&purl.ty)?;
    let mut version = purl.version.clone()?;
    let info = ecosystem.info();
    let name = match &purl.namespace {
        Some(ns) if info.namespace_in_name => format!("{ns}/{}", purl.name),
        _ => purl.name.clone(),
    };
    if info.epoch_qualifier {
        if let Some(epoch) = purl.qualifiers.get("epoch").filter(|e| e.as_str() != "0") {
            version = format!("{epoch}:{version}");
        }
    }
    let source = match (
        props("bulwark:package:source_name"),
        props("bulwark:package:source_version"),
    ) {
        (Some(name), Some(version)) => Some(PackageSource { name, version }),
        _ if props("aquasecurity:trivy:SrcName").is_some() => trivy_source(props),
        _ => purl.qualifiers.get("upstream").map(|u| {
            let u = u.trim_end_matches(".src.rpm");
            match u.split_once('@') {
                Some((n, v)) => PackageSource {
                    name: n.to_string(),
                    version: v.to_string(),
                },
                None if info.epoch_qualifier => {
                    // `name-version-release` from the source rpm's file name.
                    let mut parts = u.rsplitn(3, '-');
                    let release = parts.next().unwrap_or("");
                    let ver = parts.next().unwrap_or("");
                    let n = parts.next().unwrap_or(u);
                    PackageSource {
                        name: n.to_string(),
                        version: format!("{ver}-{release}"),
                    }
                }
                None => PackageSource {
                    name: u.to_string(),
                    version: version.clone(),
                },
            }
        }),
    };
    // dpkg and apk name a binary package's source only when it differs: absent means itself.
    let source = source.or_else(|| {
        info.keyed_by_source.then(|| PackageSource {
            name: name.clone(),
            version: version.clone(),
        })
    });
    let layer = LayerRef {
        index: props("bulwark:layer:index")
            .or_else(|| props("syft:location:0:layerIndex"))
            .and_then(|i| i.parse().ok())
            .unwrap_or(0),
        diff_id: props("bulwark:layer:diff_id")
            .or_else(|| props("aquasecurity:trivy:LayerDiffID"))
            .and_then(|d| d.parse().ok()),
        created_by: props("bulwark:layer:created_by"),
    };
    Some(Package {
        ecosystem,
        name,
        version,
        arch: purl.qualifiers.get("arch").cloned(),
        source,
        licenses,
        purl,
        layer,
        found_in: props("bulwark:location:path").into_iter().collect(),
        files: Vec::new(),
        dev: false,
        inferred: false,
        dependencies: Vec::new(),
        evidence: props("bulwark:package:evidence")
            .and_then(|e| Evidence::from_name(&e))
            .unwrap_or_default(),
        role: props("bulwark:package:role")
            .and_then(|r| bulwark_types::PackageRole::from_name(&r))
            .unwrap_or_default(),
    })
}
