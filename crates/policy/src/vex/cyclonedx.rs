//! CycloneDX VEX (<https://cyclonedx.org/capabilities/vex/>): `vulnerabilities[]` with an
//! `analysis` (state, justification, response, detail) and `affects[].ref`, a bom-ref that
//! resolves to a component's purl in the same document (or a BOM-Link
//! `urn:cdx:SERIAL/VERSION#REF`, or a purl itself).

use std::collections::HashMap;

use serde::Deserialize;

use crate::vex::statement::{Product, Statement, Status, Target};

#[derive(Deserialize)]
pub(super) struct Document {
    #[serde(default)]
    metadata: Option<Metadata>,
    #[serde(default)]
    components: Vec<Component>,
    #[serde(default)]
    vulnerabilities: Vec<Vulnerability>,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    component: Option<Component>,
    #[serde(default)]
    timestamp: Option<String>,
}

#[derive(Deserialize)]
struct Component {
    #[serde(rename = "bom-ref", default)]
    bom_ref: Option<String>,
    #[serde(default)]
    purl: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    components: Vec<Component>,
}

#[derive(Deserialize)]
struct Vulnerability {
    id: String,
    #[serde(default)]
    references: Vec<Reference>,
    #[serde(default)]
    analysis: Option<Analysis>,
    #[serde(default)]
    affects: Vec<Affects>,
}

#[derive(Deserialize)]
struct Reference {
    id: String,
}

#[derive(Deserialize)]
struct Analysis {
    #[serde(default)]
    state: Option<State>,
    #[serde(default)]
    justification: Option<String>,
    /// An array in the schema; a bare string in some published examples.
    #[serde(default)]
    response: Option<serde_json::Value>,
    #[serde(default)]
    detail: Option<String>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum State {
    Resolved,
    ResolvedWithPedigree,
    Exploitable,
    InTriage,
    FalsePositive,
    NotAffected,
}

#[derive(Deserialize)]
struct Affects {
    #[serde(rename = "ref")]
    reference: String,
}

fn index<'a>(c: &'a Component, refs: &mut HashMap<&'a str, &'a Component>) {
    if let Some(r) = &c.bom_ref {
        refs.insert(r.as_str(), c);
    }
    for sub in &c.components {
        index(sub, refs);
    }
}

impl Document {
    pub(super) fn statements(self, name: &str) -> Result<Vec<Statement>, String> {
        let mut refs: HashMap<&str, &Component> = HashMap::new();
        if let Some(c) = self.metadata.as_ref().and_then(|m| m.component.as_ref()) {
            index(c, &mut refs);
        }
        for c in &self.components {
            index(c, &mut refs);
        }
        let timestamp = self.metadata.as_ref().and_then(|m| m.timestamp.clone());
        let mut out = Vec::new();
        for (i, v) in self.vulnerabilities.iter().enumerate() {
            let Some(analysis) = &v.analysis else {
                continue; // a plain BOM vulnerability, not a VEX statement
            };
            let Some(state) = analysis.state else {
                return Err(format!(
                    "vulnerabilities[{i}] ({}): analysis has no `state`",
                    v.id
                ));
            };
            let products = v
                .affects
                .iter()
                .map(|a| {
                    // A BOM-Link names a component of another BOM by its bom-ref after `#`.
                    let local = match a.reference.strip_prefix("urn:cdx:") {
                        Some(rest) => rest.split_once('#').map_or(rest, |(_, r)| r),
                        None => a.reference.as_str(),
                    };
                    let target = match refs.get(local) {
                        Some(c) => match (&c.purl, &c.name) {
                            (Some(p), _) => Target::parse(p),
                            (None, Some(n)) => Target::Other(n.clone()),
                            (None, None) => Target::Other(local.to_string()),
                        },
                        None => Target::parse(local),
                    };
                    Product {
                        product: target,
                        also: Vec::new(),
                        subcomponents: Vec::new(),
                    }
                })
                .collect();
            let action = analysis.response.as_ref().map(|r| match r {
                serde_json::Value::Array(a) => a
                    .iter()
                    .filter_map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.as_str().unwrap_or_default().to_string(),
            });
            out.push(Statement {
                vulnerability: v.id.clone(),
                aliases: v.references.iter().map(|r| r.id.clone()).collect(),
                products,
                status: match state {
                    State::NotAffected | State::FalsePositive => Status::NotAffected,
                    State::Resolved | State::ResolvedWithPedigree => Status::Fixed,
                    State::Exploitable => Status::Affected,
                    State::InTriage => Status::UnderInvestigation,
                },
                justification: analysis.justification.clone(),
                impact: analysis.detail.clone(),
                action,
                timestamp: timestamp.clone(),
                format: "cyclonedx",
                document: name.to_string(),
            });
        }
        Ok(out)
    }
}
