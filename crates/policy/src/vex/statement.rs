//! The format-neutral VEX statement that the three readers produce and `VexSet` decides
//! with.

use serde::Serialize;

use crate::purl_match::PurlPattern;

/// A VEX status, as all three formats map onto OpenVEX's four.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    NotAffected,
    Affected,
    Fixed,
    UnderInvestigation,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NotAffected => "not_affected",
            Status::Affected => "affected",
            Status::Fixed => "fixed",
            Status::UnderInvestigation => "under_investigation",
        }
    }

    /// Whether the statement takes the finding out of the results.
    pub fn suppresses(self) -> bool {
        matches!(self, Status::NotAffected | Status::Fixed)
    }
}

/// Something a statement names.
#[derive(Debug, Clone)]
pub enum Target {
    /// A package or product by purl (`pkg:oci/…` names an image).
    Purl(PurlPattern),
    /// An image digest (`sha256:…`).
    Digest(String),
    /// Any other identifier (a CPE, a name, an unresolved reference): compared with the
    /// image's reference and tags.
    Other(String),
    /// The statement's product is not identifiable here (a CSAF platform known only by CPE):
    /// its components alone decide.
    Unspecified,
}

impl Target {
    /// Reads an identifier: a purl, a digest, or anything else.
    pub fn parse(s: &str) -> Target {
        let s = s.trim();
        if s.starts_with("pkg:") {
            if let Ok(p) = PurlPattern::parse(s) {
                return Target::Purl(p);
            }
        }
        if s.starts_with("sha256:") || s.starts_with("sha512:") {
            return Target::Digest(s.to_ascii_lowercase());
        }
        Target::Other(s.to_string())
    }

    pub(crate) fn is_image_purl(&self) -> bool {
        matches!(self, Target::Purl(p) if p.purl().ty == "oci" || p.purl().ty == "docker")
    }

    pub(crate) fn text(&self) -> String {
        match self {
            Target::Purl(p) => p.text.clone(),
            Target::Digest(d) => d.clone(),
            Target::Other(o) => o.clone(),
            Target::Unspecified => "(unspecified product)".into(),
        }
    }
}

/// One product a statement covers, with the packages inside it the statement is about.
#[derive(Debug, Clone)]
pub struct Product {
    pub product: Target,
    /// Extra identifiers of the same product (OpenVEX `identifiers`, `hashes`).
    pub also: Vec<Target>,
    pub subcomponents: Vec<Target>,
}

/// One VEX statement, format-neutral.
#[derive(Debug, Clone)]
pub struct Statement {
    pub vulnerability: String,
    pub aliases: Vec<String>,
    pub products: Vec<Product>,
    pub status: Status,
    pub justification: Option<String>,
    /// Free text: OpenVEX `impact_statement`, CycloneDX `analysis.detail`, CSAF threat details.
    pub impact: Option<String>,
    pub action: Option<String>,
    pub timestamp: Option<String>,
    /// `openvex`, `cyclonedx` or `csaf`.
    pub format: &'static str,
    /// The file it came from, as given.
    pub document: String,
}

impl Statement {
    /// The statement's time as a UTC instant, when it has a readable RFC 3339 timestamp.
    pub(crate) fn time(&self) -> Option<time::OffsetDateTime> {
        let t = self.timestamp.as_deref()?;
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
    }

    /// The statement as the JSON report keeps it.
    pub fn to_json(&self) -> serde_json::Value {
        let products: Vec<serde_json::Value> = self
            .products
            .iter()
            .map(|p| {
                let mut o = serde_json::json!({"product": p.product.text()});
                if !p.subcomponents.is_empty() {
                    o["subcomponents"] = p
                        .subcomponents
                        .iter()
                        .map(|s| s.text())
                        .collect::<Vec<_>>()
                        .into();
                }
                o
            })
            .collect();
        let mut v = serde_json::json!({
            "format": self.format,
            "document": self.document,
            "vulnerability": self.vulnerability,
            "status": self.status.as_str(),
            "products": products,
        });
        for (k, val) in [
            ("justification", &self.justification),
            ("impact_statement", &self.impact),
            ("action_statement", &self.action),
            ("timestamp", &self.timestamp),
        ] {
            if let Some(x) = val {
                v[k] = serde_json::Value::String(x.clone());
            }
        }
        v
    }
}
