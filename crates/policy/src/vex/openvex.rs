//! OpenVEX (<https://github.com/openvex/spec>), v0.0.x and v0.2.0: statements with products
//! given as purl strings (early drafts) or as component objects with `@id`, `identifiers`,
//! `hashes` and `subcomponents`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::vex::statement::{Product, Statement, Status, Target};

#[derive(Deserialize)]
pub(super) struct Document {
    #[serde(rename = "@id", default)]
    id: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
    statements: Vec<RawStatement>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Vulnerability {
    Name(String),
    Object {
        name: String,
        #[serde(default)]
        aliases: Vec<String>,
    },
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Component {
    Id(String),
    Object {
        #[serde(rename = "@id", default)]
        id: Option<String>,
        #[serde(default)]
        identifiers: BTreeMap<String, String>,
        #[serde(default)]
        hashes: BTreeMap<String, String>,
        #[serde(default)]
        subcomponents: Vec<Component>,
    },
}

#[derive(Deserialize)]
struct RawStatement {
    vulnerability: Vulnerability,
    #[serde(default)]
    products: Vec<Component>,
    /// v0.0.1: subcomponents at the statement level.
    #[serde(default)]
    subcomponents: Vec<Component>,
    status: RawStatus,
    #[serde(default)]
    justification: Option<String>,
    #[serde(default)]
    impact_statement: Option<String>,
    #[serde(default)]
    action_statement: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum RawStatus {
    NotAffected,
    Affected,
    Fixed,
    UnderInvestigation,
}

impl Component {
    /// The main identifier and the others the component lists.
    fn targets(&self) -> Vec<Target> {
        match self {
            Component::Id(s) => vec![Target::parse(s)],
            Component::Object {
                id,
                identifiers,
                hashes,
                ..
            } => {
                let mut t: Vec<Target> = id.iter().map(|s| Target::parse(s)).collect();
                t.extend(identifiers.values().map(|s| Target::parse(s)));
                for (alg, h) in hashes {
                    let alg = alg.replace('-', "").to_ascii_lowercase();
                    t.push(Target::Digest(format!("{alg}:{}", h.to_ascii_lowercase())));
                }
                t
            }
        }
    }

    fn subcomponents(&self) -> &[Component] {
        match self {
            Component::Id(_) => &[],
            Component::Object { subcomponents, .. } => subcomponents,
        }
    }
}

impl Document {
    pub(super) fn statements(self, name: &str) -> Vec<Statement> {
        let doc_time = self.timestamp.clone();
        let _ = &self.id;
        self.statements
            .into_iter()
            .map(|s| {
                let (vulnerability, aliases) = match s.vulnerability {
                    Vulnerability::Name(n) => (n, Vec::new()),
                    Vulnerability::Object { name, aliases } => (name, aliases),
                };
                let statement_subs: Vec<Target> = s
                    .subcomponents
                    .iter()
                    .flat_map(Component::targets)
                    .collect();
                let products = s
                    .products
                    .iter()
                    .map(|p| {
                        let mut ids = p.targets().into_iter();
                        let product = ids.next().unwrap_or(Target::Unspecified);
                        let mut subcomponents: Vec<Target> = p
                            .subcomponents()
                            .iter()
                            .flat_map(Component::targets)
                            .collect();
                        subcomponents.extend(statement_subs.iter().cloned());
                        Product {
                            product,
                            also: ids.collect(),
                            subcomponents,
                        }
                    })
                    .collect();
                Statement {
                    vulnerability,
                    aliases,
                    products,
                    status: match s.status {
                        RawStatus::NotAffected => Status::NotAffected,
                        RawStatus::Affected => Status::Affected,
                        RawStatus::Fixed => Status::Fixed,
                        RawStatus::UnderInvestigation => Status::UnderInvestigation,
                    },
                    justification: s.justification,
                    impact: s.impact_statement,
                    action: s.action_statement,
                    timestamp: s.timestamp.or_else(|| doc_time.clone()),
                    format: "openvex",
                    document: name.to_string(),
                }
            })
            .collect()
    }
}
