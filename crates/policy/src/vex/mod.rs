//! VEX input: OpenVEX, CycloneDX VEX and CSAF VEX documents read into one statement model.
//!
//! A [`Statement`] says, for one vulnerability (and its aliases), what status it has in the
//! products it names. A product is a package (a purl), the scanned image (a `pkg:oci` purl, a
//! digest, or a reference), or a package inside a product (OpenVEX `subcomponents`, a CSAF
//! `default_component_of` relationship). [`VexSet::decide`] finds the statement that
//! decides a vulnerability finding: `not_affected` and `fixed` suppress it; the newest matching
//! statement wins (by timestamp, then by the order given).

mod csaf;
mod cyclonedx;
mod openvex;
mod statement;

use std::path::Path;

use bulwark_types::Purl;
use serde::de::IgnoredAny;
use serde::Deserialize;

use bulwark_report::ImageIdentity;

pub use statement::{Product, Statement, Status, Target};

/// The largest VEX document read by default (`--max-vex-size`); CSAF VEX files for a whole
/// product line run to tens of MiB.
pub const DEFAULT_MAX_VEX_BYTES: u64 = 256 << 20;

/// Errors reading a VEX document: they name the file and, where known, line and field.
#[derive(Debug, thiserror::Error)]
pub enum VexError {
    #[error("cannot read the VEX document {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the VEX document {path} is larger than the {max} limit; raise --max-vex-size (BULWARK_MAX_VEX_SIZE, bulwark.yaml max-vex-size) if the file is genuine")]
    TooLarge { path: String, max: String },
    #[error("VEX document {path}: {message}")]
    Invalid { path: String, message: String },
}

/// Reads one VEX document of any of the three formats (detected from its content), refusing
/// a file over `max_bytes` before reading it.
pub fn load(path: &Path, max_bytes: u64) -> Result<Vec<Statement>, VexError> {
    let shown = path.display().to_string();
    let bytes = match bulwark_report::input::read_capped(path, max_bytes) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            return Err(VexError::TooLarge {
                path: shown,
                max: bulwark_report::input::size_text(max_bytes),
            })
        }
        Err(source) => {
            return Err(VexError::Read {
                path: shown,
                source,
            })
        }
    };
    parse(&bytes, &shown)
}

/// Just enough of a document to tell the three formats apart; everything else is skipped
/// unread (no JSON tree is built).
#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "@context", default)]
    context: AnyString,
    #[serde(rename = "bomFormat", default)]
    bom_format: AnyString,
    #[serde(default)]
    document: CsafProbe,
}

/// A string, or `None` for any other JSON value (skipped).
#[derive(Default)]
struct AnyString(Option<String>);

impl<'de> Deserialize<'de> for AnyString {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = AnyString;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<AnyString, E> {
                Ok(AnyString(Some(v.to_string())))
            }
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<AnyString, E> {
                Ok(AnyString(None))
            }
            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<AnyString, E> {
                Ok(AnyString(None))
            }
            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<AnyString, E> {
                Ok(AnyString(None))
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<AnyString, E> {
                Ok(AnyString(None))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<AnyString, E> {
                Ok(AnyString(None))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<AnyString, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(AnyString(None))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<AnyString, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(AnyString(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// Whether `document` is an object with a `csaf_version` key.
#[derive(Default)]
struct CsafProbe(bool);

impl<'de> Deserialize<'de> for CsafProbe {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = CsafProbe;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<CsafProbe, A::Error> {
                let mut found = false;
                while let Some(key) = a.next_key::<AnyString>()? {
                    a.next_value::<IgnoredAny>()?;
                    found |= key.0.as_deref() == Some("csaf_version");
                }
                Ok(CsafProbe(found))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<CsafProbe, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(CsafProbe(false))
            }
            fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<CsafProbe, E> {
                Ok(CsafProbe(false))
            }
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<CsafProbe, E> {
                Ok(CsafProbe(false))
            }
            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<CsafProbe, E> {
                Ok(CsafProbe(false))
            }
            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<CsafProbe, E> {
                Ok(CsafProbe(false))
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<CsafProbe, E> {
                Ok(CsafProbe(false))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<CsafProbe, E> {
                Ok(CsafProbe(false))
            }
        }
        d.deserialize_any(V)
    }
}

/// Parses a VEX document held in memory; `name` is used in errors and statements.
pub fn parse(bytes: &[u8], name: &str) -> Result<Vec<Statement>, VexError> {
    let invalid = |message: String| VexError::Invalid {
        path: name.to_string(),
        message,
    };
    let not_a_vex = || {
        invalid(
            "not a VEX format bulwark reads: expected OpenVEX (`@context` https://openvex.dev/ns), CycloneDX (`bomFormat`) or CSAF (`document.csaf_version`)"
                .into(),
        )
    };
    // Only an object can be one of the formats (serde would read an array as a struct's
    // fields in order); anything else is checked for being JSON at all, without a tree.
    if bytes.trim_ascii_start().first() != Some(&b'{') {
        return Err(match serde_json::from_slice::<IgnoredAny>(bytes) {
            Ok(_) => not_a_vex(),
            Err(e) => invalid(format!(
                "not JSON: {e} (VEX is read as JSON: OpenVEX, CycloneDX or CSAF)"
            )),
        });
    }
    let probe: Probe = match serde_json::from_slice(bytes) {
        Ok(p) => p,
        Err(e) if e.classify() == serde_json::error::Category::Data => return Err(not_a_vex()),
        Err(e) => {
            return Err(invalid(format!(
                "not JSON: {e} (VEX is read as JSON: OpenVEX, CycloneDX or CSAF)"
            )))
        }
    };
    let statements = if probe
        .context
        .0
        .as_deref()
        .is_some_and(|c| c.contains("openvex"))
    {
        typed::<openvex::Document>(bytes)
            .map_err(invalid)?
            .statements(name)
    } else if probe.bom_format.0.as_deref() == Some("CycloneDX") {
        typed::<cyclonedx::Document>(bytes)
            .map_err(invalid)?
            .statements(name)
            .map_err(invalid)?
    } else if probe.document.0 {
        typed::<csaf::Document>(bytes)
            .map_err(invalid)?
            .statements(name)
            .map_err(invalid)?
    } else {
        return Err(not_a_vex());
    };
    Ok(statements)
}

/// Deserializes with the JSON path and line of the first error.
fn typed<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        format!(
            "line {}: {}: {}",
            inner.line(),
            e.path(),
            strip_location(&inner.to_string())
        )
    })
}

/// serde_json appends ` at line L column C`; the caller prints the line itself.
fn strip_location(s: &str) -> &str {
    match s.rfind(" at line ") {
        Some(i) => &s[..i],
        None => s,
    }
}

/// All statements from the documents given, in order.
#[derive(Debug, Clone, Default)]
pub struct VexSet {
    pub statements: Vec<Statement>,
}

/// The image a finding was made in, for matching products.
pub struct ImageContext<'a> {
    pub identity: &'a ImageIdentity,
    /// Every package purl in the image (a statement whose product is a package applies when
    /// the image holds that package).
    pub packages: Vec<&'a Purl>,
}

impl ImageContext<'_> {
    fn is_this_image(&self, t: &Target) -> bool {
        let id = self.identity;
        let digests = [&id.manifest_digest, &id.config_digest];
        let digest_is = |d: &str| {
            digests.iter().any(|x| {
                x.as_ref()
                    .is_some_and(|x| x.to_string().eq_ignore_ascii_case(d))
            })
        };
        match t {
            Target::Digest(d) => digest_is(d),
            Target::Purl(p) if t.is_image_purl() => {
                let purl = p.purl();
                if let Some(v) = &purl.version {
                    return digest_is(v);
                }
                // No digest: the image name, against the tags (repository's last segment).
                id.repo_tags.iter().any(|tag| {
                    let repo = tag.rsplit_once(':').map_or(tag.as_str(), |(r, t)| {
                        if t.contains('/') {
                            tag.as_str()
                        } else {
                            r
                        }
                    });
                    let last = repo.rsplit('/').next().unwrap_or(repo);
                    let tag_ok = purl
                        .qualifiers
                        .get("tag")
                        .is_none_or(|want| tag.ends_with(&format!(":{want}")));
                    last.eq_ignore_ascii_case(&purl.name) && tag_ok
                })
            }
            Target::Other(o) => o == &id.reference || id.repo_tags.iter().any(|t| t == o),
            _ => false,
        }
    }

    fn holds_package(&self, t: &Target) -> bool {
        match t {
            Target::Purl(p) if !t.is_image_purl() => self.packages.iter().any(|q| p.matches(q)),
            _ => false,
        }
    }
}

impl Product {
    fn identifiers(&self) -> impl Iterator<Item = &Target> {
        std::iter::once(&self.product).chain(self.also.iter())
    }

    /// Whether this product entry covers a finding on `package` in the image.
    fn covers(&self, image: &ImageContext<'_>, package: &Purl) -> bool {
        let names_package = |t: &Target| match t {
            Target::Purl(p) => p.matches(package),
            _ => false,
        };
        if self.subcomponents.is_empty() {
            // The product itself is the package, or the whole image.
            return self
                .identifiers()
                .any(|t| names_package(t) || image.is_this_image(t));
        }
        let product_here = matches!(self.product, Target::Unspecified)
            || self
                .identifiers()
                .any(|t| image.is_this_image(t) || image.holds_package(t));
        product_here && self.subcomponents.iter().any(names_package)
    }
}

impl VexSet {
    /// Reads every document, each capped at `max_bytes`.
    pub fn load(paths: &[impl AsRef<Path>], max_bytes: u64) -> Result<VexSet, VexError> {
        let mut set = VexSet::default();
        for p in paths {
            set.statements.extend(load(p.as_ref(), max_bytes)?);
        }
        Ok(set)
    }

    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// The statement that decides a finding (`ids`: its id and aliases) on `package`, when one
    /// does.
    pub fn decide<'a>(
        &'a self,
        image: &ImageContext<'_>,
        ids: &[String],
        package: &Purl,
    ) -> Option<&'a Statement> {
        // The newest statement wins (statement timestamp, else its document's); statements
        // without a time count as older than timed ones; ties go to the later one given.
        self.statements
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                std::iter::once(&s.vulnerability)
                    .chain(s.aliases.iter())
                    .any(|v| ids.iter().any(|i| i.eq_ignore_ascii_case(v)))
            })
            .filter(|(_, s)| s.products.iter().any(|p| p.covers(image, package)))
            .max_by_key(|(i, s)| (s.time(), *i))
            .map(|(_, s)| s)
    }
}

#[cfg(test)]
mod tests;
