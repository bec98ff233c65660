//! What the dashboard's compliance page (issue 14) reads: the misconfigurations each uploaded
//! bulwark report carried (migration 0004), kept per version, and per version the framework
//! controls they fail. The page counts failing assets per control from the
//! `version_controls_framework` index and lists one page of assets at a time; which controls
//! exist and which checks cover them is `bulwark-misconfig`'s knowledge, not the store's.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::counts::bind;
use crate::driver::vec_params;
use crate::reads::team_clause;
use crate::{Page, Paged, Principal, Result, Scope, Store};

/// One stored misconfiguration of a version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredMisconfig {
    pub check_id: String,
    pub severity: String,
    pub title: String,
    pub message: String,
    /// `path:line` (or the path alone).
    pub place: String,
    /// `(framework, control)` pairs, framework as `bulwark_types::Framework::as_str` names it.
    pub controls: Vec<(String, String)>,
}

/// A framework's state over the visible assets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ComplianceSummary {
    /// Visible assets.
    pub assets: i64,
    /// Visible assets whose latest version carried a misconfiguration scan.
    pub assessed: i64,
    /// Control → how many assessed assets fail it.
    pub failing: BTreeMap<String, i64>,
}

/// One asset's state for a framework.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetCompliance {
    pub asset_id: i64,
    pub asset_uuid: String,
    pub asset_name: String,
    pub team: Option<String>,
    pub version_id: Option<i64>,
    /// Whether the latest version carried a misconfiguration scan.
    pub assessed: bool,
    /// The failing controls with their number of findings, in the store's order.
    pub failing: Vec<(String, i64)>,
}

impl Store {
    /// How many visible assets are assessed for `framework` and, per control, how many of
    /// their latest versions fail it.
    pub fn compliance_summary(
        &self,
        who: &Principal,
        framework: &str,
    ) -> Result<ComplianceSummary> {
        who.require(Scope::Read)?;
        self.engine.read(|c| {
            let mut p = Vec::new();
            let team = team_clause(who, &mut p, "a.team_id");
            let r = c.query_one(
                &format!(
                    "SELECT COUNT(*), COUNT(v.misconfig_count) FROM assets a \
                     LEFT JOIN versions v ON v.id = a.latest_version_id WHERE 1 = 1{team}"
                ),
                &p,
            )?;
            let (assets, assessed) = (r.i64(0)?, r.i64(1)?);
            let mut p = vec_params![framework];
            let team = team_clause(who, &mut p, "a.team_id");
            let mut failing = BTreeMap::new();
            for r in c.query(
                &format!(
                    "SELECT vc.control, COUNT(*) FROM version_controls vc \
                     JOIN assets a ON a.latest_version_id = vc.version_id \
                     WHERE vc.framework = $1{team} GROUP BY vc.control"
                ),
                &p,
            )? {
                failing.insert(r.text(0)?, r.i64(1)?);
            }
            Ok(ComplianceSummary {
                assets,
                assessed,
                failing,
            })
        })
    }

    /// One page of the visible assets with their failing controls of `framework`, most
    /// failing first; with `control`, only the assets failing it.
    pub fn compliance_assets(
        &self,
        who: &Principal,
        framework: &str,
        control: Option<&str>,
        page: Page,
    ) -> Result<Paged<AssetCompliance>> {
        who.require(Scope::Read)?;
        self.engine.read(|c| {
            let mut p = vec_params![framework];
            let mut w = team_clause(who, &mut p, "a.team_id");
            if let Some(control) = control {
                let b = bind(&mut p, control);
                w.push_str(&format!(
                    " AND EXISTS (SELECT 1 FROM version_controls x WHERE x.version_id = a.latest_version_id \
                     AND x.framework = $1 AND x.control = {b})"
                ));
            }
            // The count binds only what its text uses (without `control`, not the framework):
            // SQLite refuses unused parameters.
            let total = if control.is_some() {
                c.query_one(&format!("SELECT COUNT(*) FROM assets a WHERE 1 = 1{w}"), &p)?
            } else {
                let mut q = Vec::new();
                let team = team_clause(who, &mut q, "a.team_id");
                c.query_one(&format!("SELECT COUNT(*) FROM assets a WHERE 1 = 1{team}"), &q)?
            }
            .i64(0)?;
            let lim = bind(&mut p, page.limit());
            let off = bind(&mut p, page.offset());
            let rows = c.query(
                &format!(
                    "SELECT a.id, a.uuid, a.name, t.name, a.latest_version_id, v.misconfig_count, \
                     (SELECT COUNT(*) FROM version_controls vc WHERE vc.version_id = a.latest_version_id AND vc.framework = $1) AS failing \
                     FROM assets a LEFT JOIN versions v ON v.id = a.latest_version_id \
                     LEFT JOIN teams t ON t.id = a.team_id WHERE 1 = 1{w} \
                     ORDER BY failing DESC, a.name LIMIT {lim} OFFSET {off}"
                ),
                &p,
            )?;
            let mut items = Vec::with_capacity(rows.len());
            for r in &rows {
                items.push(AssetCompliance {
                    asset_id: r.i64(0)?,
                    asset_uuid: r.text(1)?,
                    asset_name: r.text(2)?,
                    team: r.opt_text(3)?,
                    version_id: r.opt_i64(4)?,
                    assessed: r.opt_i64(5)?.is_some(),
                    failing: Vec::new(),
                });
            }
            let versions: Vec<i64> = items.iter().filter_map(|a| a.version_id).collect();
            if !versions.is_empty() {
                let mut p = vec_params![framework];
                let list: Vec<String> = versions.iter().map(|v| bind(&mut p, *v)).collect();
                let mut by_version: HashMap<i64, Vec<(String, i64)>> = HashMap::new();
                for r in c.query(
                    &format!(
                        "SELECT version_id, control, findings FROM version_controls \
                         WHERE framework = $1 AND version_id IN ({}) ORDER BY version_id, control",
                        list.join(", ")
                    ),
                    &p,
                )? {
                    by_version
                        .entry(r.i64(0)?)
                        .or_default()
                        .push((r.text(1)?, r.i64(2)?));
                }
                for a in &mut items {
                    if let Some(v) = a.version_id {
                        a.failing = by_version.remove(&v).unwrap_or_default();
                    }
                }
            }
            Ok(Paged { items, total })
        })
    }

    /// The stored misconfigurations of versions (`None` for a version with no scan), for the
    /// compliance page's evidence; versions of assets the principal may not see are left out.
    pub fn version_misconfigurations(
        &self,
        who: &Principal,
        version_ids: &[i64],
    ) -> Result<HashMap<i64, Vec<StoredMisconfig>>> {
        who.require(Scope::Read)?;
        let mut out: HashMap<i64, Vec<StoredMisconfig>> = HashMap::new();
        if version_ids.is_empty() {
            return Ok(out);
        }
        self.engine.read(|c| {
            for chunk in version_ids.chunks(500) {
                let mut p = Vec::new();
                let list: Vec<String> = chunk.iter().map(|v| bind(&mut p, *v)).collect();
                let team = team_clause(who, &mut p, "a.team_id");
                for r in c.query(
                    &format!(
                        "SELECT m.version_id, m.check_id, m.severity, m.title, m.message, m.place, m.compliance \
                         FROM version_misconfigs m JOIN versions v ON v.id = m.version_id \
                         JOIN assets a ON a.id = v.asset_id \
                         WHERE m.version_id IN ({}){team} ORDER BY m.version_id, m.id",
                        list.join(", ")
                    ),
                    &p,
                )? {
                    let refs: Vec<serde_json::Value> = r.json(6)?;
                    let controls = refs
                        .iter()
                        .filter_map(|v| {
                            Some((
                                v["framework"].as_str()?.to_string(),
                                v["control"].as_str()?.to_string(),
                            ))
                        })
                        .collect();
                    out.entry(r.i64(0)?).or_default().push(StoredMisconfig {
                        check_id: r.text(1)?,
                        severity: r.text(2)?,
                        title: r.text(3)?,
                        message: r.text(4)?,
                        place: r.text(5)?,
                        controls,
                    });
                }
            }
            Ok(out)
        })
    }
}
