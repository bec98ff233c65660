//! CSAF 2.0 VEX (`document.category: csaf_vex`, <https://docs.oasis-open.org/csaf/csaf/v2.0/>):
//! products come from the `product_tree` (branches, full product names, relationships), each
//! identified by `product_identification_helper.purl` where given; `vulnerabilities[]` list
//! product ids under `product_status` (`known_not_affected`, `fixed`, `first_fixed`,
//! `known_affected`, `under_investigation`), with justifications in `flags[].label` and impact
//! text in `threats[]` of category `impact`.
//!
//! A relationship (`X default_component_of Y`) is a package X inside product Y: it matches a
//! finding on X when Y is this image, or when Y has no purl (a platform known only by CPE or
//! name), since the scan cannot tell which platform the image came from.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use crate::vex::statement::{Product, Statement, Status, Target};

#[derive(Deserialize)]
pub(super) struct Document {
    document: Meta,
    #[serde(default)]
    product_tree: Option<ProductTree>,
    #[serde(default)]
    vulnerabilities: Vec<Vulnerability>,
}

#[derive(Deserialize)]
struct Meta {
    #[serde(default)]
    tracking: Option<Tracking>,
}

#[derive(Deserialize)]
struct Tracking {
    #[serde(default)]
    current_release_date: Option<String>,
}

#[derive(Deserialize, Default)]
struct ProductTree {
    #[serde(default)]
    branches: Vec<Branch>,
    #[serde(default)]
    full_product_names: Vec<FullProductName>,
    #[serde(default)]
    relationships: Vec<Relationship>,
    #[serde(default)]
    product_groups: Vec<ProductGroup>,
}

#[derive(Deserialize)]
struct Branch {
    #[serde(default)]
    product: Option<FullProductName>,
    #[serde(default)]
    branches: Vec<Branch>,
}

#[derive(Deserialize)]
struct FullProductName {
    product_id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    product_identification_helper: Option<Helper>,
}

#[derive(Deserialize)]
struct Helper {
    #[serde(default)]
    purl: Option<String>,
    #[serde(default)]
    cpe: Option<String>,
}

#[derive(Deserialize)]
struct Relationship {
    full_product_name: FullProductName,
    product_reference: String,
    relates_to_product_reference: String,
}

#[derive(Deserialize)]
struct ProductGroup {
    group_id: String,
    product_ids: Vec<String>,
}

#[derive(Deserialize)]
struct Vulnerability {
    #[serde(default)]
    cve: Option<String>,
    #[serde(default)]
    ids: Vec<Id>,
    #[serde(default)]
    product_status: Option<ProductStatus>,
    #[serde(default)]
    flags: Vec<Flag>,
    #[serde(default)]
    threats: Vec<Threat>,
    #[serde(default)]
    remediations: Vec<Remediation>,
}

#[derive(Deserialize)]
struct Id {
    text: String,
}

#[derive(Deserialize, Default)]
struct ProductStatus {
    #[serde(default)]
    known_not_affected: Vec<String>,
    #[serde(default)]
    fixed: Vec<String>,
    #[serde(default)]
    first_fixed: Vec<String>,
    #[serde(default)]
    known_affected: Vec<String>,
    #[serde(default)]
    first_affected: Vec<String>,
    #[serde(default)]
    last_affected: Vec<String>,
    #[serde(default)]
    under_investigation: Vec<String>,
}

#[derive(Deserialize)]
struct Flag {
    label: String,
    #[serde(default)]
    product_ids: Vec<String>,
    #[serde(default)]
    group_ids: Vec<String>,
}

#[derive(Deserialize)]
struct Threat {
    category: String,
    details: String,
    #[serde(default)]
    product_ids: Vec<String>,
    #[serde(default)]
    group_ids: Vec<String>,
}

#[derive(Deserialize)]
struct Remediation {
    category: String,
    details: String,
    #[serde(default)]
    product_ids: Vec<String>,
    #[serde(default)]
    group_ids: Vec<String>,
}

fn collect_branches<'a>(b: &'a Branch, out: &mut HashMap<&'a str, &'a FullProductName>) {
    if let Some(p) = &b.product {
        out.insert(p.product_id.as_str(), p);
    }
    for sub in &b.branches {
        collect_branches(sub, out);
    }
}

fn target_of(p: &FullProductName) -> Target {
    match p.product_identification_helper.as_ref() {
        Some(Helper {
            purl: Some(purl), ..
        }) => Target::parse(purl),
        Some(Helper { cpe: Some(cpe), .. }) => Target::Other(cpe.clone()),
        _ => Target::Other(p.name.clone().unwrap_or_else(|| p.product_id.clone())),
    }
}

impl Document {
    pub(super) fn statements(self, name: &str) -> Result<Vec<Statement>, String> {
        let tree = self.product_tree.unwrap_or_default();
        let mut products: HashMap<&str, &FullProductName> = HashMap::new();
        for b in &tree.branches {
            collect_branches(b, &mut products);
        }
        for p in &tree.full_product_names {
            products.insert(p.product_id.as_str(), p);
        }
        let relations: HashMap<&str, &Relationship> = tree
            .relationships
            .iter()
            .map(|r| (r.full_product_name.product_id.as_str(), r))
            .collect();
        let groups: HashMap<&str, &Vec<String>> = tree
            .product_groups
            .iter()
            .map(|g| (g.group_id.as_str(), &g.product_ids))
            .collect();
        let resolve = |id: &str, where_: &str| -> Result<Product, String> {
            if let Some(r) = relations.get(id) {
                let component = products
                    .get(r.product_reference.as_str())
                    .map(|p| target_of(p))
                    .unwrap_or_else(|| Target::Other(r.product_reference.clone()));
                let platform = match products.get(r.relates_to_product_reference.as_str()) {
                    Some(p) => match target_of(p) {
                        t @ Target::Purl(_) => t,
                        _ => Target::Unspecified,
                    },
                    None => Target::Unspecified,
                };
                return Ok(Product {
                    product: platform,
                    also: Vec::new(),
                    subcomponents: vec![component],
                });
            }
            match products.get(id) {
                Some(p) => Ok(Product {
                    product: target_of(p),
                    also: Vec::new(),
                    subcomponents: Vec::new(),
                }),
                None => Err(format!(
                    "{where_}: product id {id:?} is not defined in product_tree"
                )),
            }
        };
        let expand = |product_ids: &[String], group_ids: &[String]| -> Vec<String> {
            let mut v: Vec<String> = product_ids.to_vec();
            for g in group_ids {
                if let Some(ids) = groups.get(g.as_str()) {
                    v.extend(ids.iter().cloned());
                }
            }
            v
        };
        let timestamp = self.document.tracking.and_then(|t| t.current_release_date);
        let mut out = Vec::new();
        for (i, v) in self.vulnerabilities.iter().enumerate() {
            let mut names: Vec<String> = v.cve.iter().cloned().collect();
            names.extend(v.ids.iter().map(|i| i.text.clone()));
            let Some(primary) = names.first().cloned() else {
                return Err(format!("vulnerabilities[{i}]: neither `cve` nor `ids`"));
            };
            let Some(status) = &v.product_status else {
                continue;
            };
            // Per product: its justification label and impact text, when given.
            let mut justification: BTreeMap<String, String> = BTreeMap::new();
            for f in &v.flags {
                for pid in expand(&f.product_ids, &f.group_ids) {
                    justification.insert(pid, f.label.clone());
                }
            }
            let mut impact: BTreeMap<String, String> = BTreeMap::new();
            for t in v.threats.iter().filter(|t| t.category == "impact") {
                for pid in expand(&t.product_ids, &t.group_ids) {
                    impact.insert(pid, t.details.clone());
                }
            }
            let mut action: BTreeMap<String, String> = BTreeMap::new();
            for r in &v.remediations {
                for pid in expand(&r.product_ids, &r.group_ids) {
                    action.insert(pid, format!("{}: {}", r.category, r.details));
                }
            }
            let lists: [(&[String], Status, &str); 7] = [
                (
                    &status.known_not_affected,
                    Status::NotAffected,
                    "known_not_affected",
                ),
                (&status.fixed, Status::Fixed, "fixed"),
                (&status.first_fixed, Status::Fixed, "first_fixed"),
                (&status.known_affected, Status::Affected, "known_affected"),
                (&status.first_affected, Status::Affected, "first_affected"),
                (&status.last_affected, Status::Affected, "last_affected"),
                (
                    &status.under_investigation,
                    Status::UnderInvestigation,
                    "under_investigation",
                ),
            ];
            for (ids, st, key) in lists {
                for (j, pid) in ids.iter().enumerate() {
                    let product = resolve(
                        pid,
                        &format!("vulnerabilities[{i}].product_status.{key}[{j}]"),
                    )?;
                    out.push(Statement {
                        vulnerability: primary.clone(),
                        aliases: names[1..].to_vec(),
                        products: vec![product],
                        status: st,
                        justification: justification.get(pid).cloned(),
                        impact: impact.get(pid).cloned(),
                        action: action.get(pid).cloned(),
                        timestamp: timestamp.clone(),
                        format: "csaf",
                        document: name.to_string(),
                    });
                }
            }
        }
        Ok(out)
    }
}
