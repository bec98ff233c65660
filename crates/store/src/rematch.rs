//! Rematch support: the reverse index lookup (advisory ecosystem + name → stored components)
//! and recording what a rematch found.

use std::collections::{BTreeMap, HashSet};

use bulwark_types::{OsRelease, Package, VulnerabilityFinding};
use serde::{Deserialize, Serialize};

use crate::auth::audit;
use crate::driver::{params, Conn, Row};
use crate::ingest::{sync_findings, AssetCtx, Desired, FindingEvent, SyncScope};
use crate::{now_ms, Principal, Result, Scope, Store, StoreError};

/// A stored component, rebuilt for matching.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredComponent {
    pub id: i64,
    pub version_id: i64,
    pub asset_id: i64,
    pub package: Package,
    /// The version's OS release (OS packages are matched through it).
    pub os: Option<OsRelease>,
}

/// Keys looked up per query: bounded so a big advisory change does not build one huge
/// statement.
const KEYS_PER_QUERY: usize = 200;

fn component_of(r: &Row) -> Result<StoredComponent> {
    Ok(StoredComponent {
        id: r.i64(0)?,
        version_id: r.i64(1)?,
        asset_id: r.i64(2)?,
        package: r.json(3)?,
        os: match r.opt_text(4)? {
            Some(t) => Some(serde_json::from_str(&t).map_err(|e| StoreError::Corrupt {
                backend: "store",
                target: String::new(),
                what: format!("version OS release JSON: {e}"),
            })?),
            None => None,
        },
    })
}

fn lookup_keys(c: &mut dyn Conn, keys: &[(String, String)]) -> Result<Vec<StoredComponent>> {
    let mut out: BTreeMap<i64, StoredComponent> = BTreeMap::new();
    for chunk in keys.chunks(KEYS_PER_QUERY) {
        let mut sql = String::from(
            "SELECT DISTINCT c.id, c.version_id, v.asset_id, c.package, v.os FROM component_keys k \
             JOIN components c ON c.id = k.component_id JOIN versions v ON v.id = c.version_id WHERE ",
        );
        let mut p = Vec::with_capacity(chunk.len() * 2);
        for (i, (eco, name)) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(" OR ");
            }
            let (n, e) = (2 * i + 1, 2 * i + 2);
            // A prefix key's ecosystem is the start of the advisory ecosystems it stands for.
            sql.push_str(&format!(
                "(k.name = ${n} AND (k.ecosystem = ${e} OR (k.prefix = 1 AND substr(${e}, 1, length(k.ecosystem)) = k.ecosystem)))"
            ));
            p.push(name.as_str().into());
            p.push(eco.as_str().into());
        }
        for r in c.query(&sql, &p)? {
            let comp = component_of(&r)?;
            out.entry(comp.id).or_insert(comp);
        }
    }
    Ok(out.into_values().collect())
}

impl Store {
    /// The stored components an advisory change can affect: those with a match key on any of
    /// `keys` (advisory ecosystem, package name), prefix keys included. Sorted by id.
    pub fn components_for_keys(&self, keys: &[(String, String)]) -> Result<Vec<StoredComponent>> {
        self.engine.read(|c| lookup_keys(c, keys))
    }

    /// Every component of the given versions (a full rematch, one batch at a time).
    pub fn components_of_versions(&self, version_ids: &[i64]) -> Result<Vec<StoredComponent>> {
        self.engine.read(|c| {
            let mut out = Vec::new();
            for chunk in version_ids.chunks(KEYS_PER_QUERY) {
                let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
                let p: Vec<_> = chunk.iter().map(|id| (*id).into()).collect();
                let sql = format!(
                    "SELECT c.id, c.version_id, v.asset_id, c.package, v.os FROM components c \
                     JOIN versions v ON v.id = c.version_id WHERE c.version_id IN ({}) ORDER BY c.id",
                    placeholders.join(", ")
                );
                for r in c.query(&sql, &p)? {
                    out.push(component_of(&r)?);
                }
            }
            Ok(out)
        })
    }

    /// Version ids in id order, `limit` at a time after `after` (0 to start): a full rematch
    /// walks them in batches. Empty when done.
    pub fn all_versions_batched(&self, after: i64, limit: usize) -> Result<Vec<i64>> {
        self.engine.read(|c| {
            c.query(
                "SELECT id FROM versions WHERE id > $1 ORDER BY id LIMIT $2",
                &params![after, i64::try_from(limit).unwrap_or(i64::MAX)],
            )?
            .iter()
            .map(|r| r.i64(0))
            .collect()
        })
    }

    /// Records a rematch of some components of one version: `findings` (component id, finding)
    /// become those components' findings; their findings not listed are resolved; findings
    /// of the version's other components are untouched. Returns the events, in order.
    pub fn apply_rematch(
        &self,
        who: &Principal,
        version_id: i64,
        component_ids: &[i64],
        findings: &[(i64, VulnerabilityFinding)],
    ) -> Result<Vec<FindingEvent>> {
        self.apply_rematches(
            who,
            &[VersionRematch {
                version_id,
                component_ids: component_ids.to_vec(),
                findings: findings.to_vec(),
            }],
        )
    }

    /// [`Store::apply_rematch`] for several versions in one write transaction: a full rematch
    /// of thousands of versions pays one commit (one fsync) per batch instead of one per
    /// version. All or nothing: an error rolls the whole batch back.
    pub fn apply_rematches(
        &self,
        who: &Principal,
        batch: &[VersionRematch],
    ) -> Result<Vec<FindingEvent>> {
        who.require(Scope::Admin)?;
        let scopes: Vec<HashSet<i64>> = batch
            .iter()
            .map(|v| v.component_ids.iter().copied().collect())
            .collect();
        for (v, scope) in batch.iter().zip(&scopes) {
            if let Some((id, _)) = v.findings.iter().find(|(id, _)| !scope.contains(id)) {
                return Err(StoreError::Invalid(format!(
                    "rematch finding names component {id}, which is not among the rematched components of version {}",
                    v.version_id
                )));
            }
        }
        self.engine.write(|c| {
            let mut events = Vec::new();
            for (v, scope) in batch.iter().zip(&scopes) {
                events.extend(rematch_version(c, who, v, scope)?);
            }
            Ok(events)
        })
    }
}

/// One version's part of a rematch: which of its components were rematched and what they
/// matched.
#[derive(Debug, Clone, Default)]
pub struct VersionRematch {
    pub version_id: i64,
    pub component_ids: Vec<i64>,
    /// (component id, finding); every component id is among `component_ids`.
    pub findings: Vec<(i64, VulnerabilityFinding)>,
}

fn rematch_version(
    c: &mut dyn Conn,
    who: &Principal,
    v: &VersionRematch,
    scope: &HashSet<i64>,
) -> Result<Vec<FindingEvent>> {
    let version_id = v.version_id;
    let r = c
        .query_opt(
            &format!(
                "SELECT a.id, a.name, a.team_id FROM versions v JOIN assets a ON a.id = v.asset_id WHERE v.id = $1{}",
                // The same lock as an ingest of the asset: the two never interleave.
                crate::ingest::for_update(c)
            ),
            &params![version_id],
        )?
        .ok_or_else(|| StoreError::NotFound(format!("version {version_id}")))?;
    let asset_name = r.text(1)?;
    let ctx = AssetCtx {
        asset_id: r.i64(0)?,
        asset_name: &asset_name,
        team_id: r.opt_i64(2)?,
        version_id,
    };
    let desired: Vec<Desired<'_>> = v
        .findings
        .iter()
        .map(|(id, f)| Desired {
            component_id: Some(*id),
            finding: f,
        })
        .collect();
    let (events, _) = sync_findings(c, &ctx, SyncScope::Components(scope), &desired, now_ms())?;
    crate::counts::refresh_asset_counts(c, ctx.asset_id)?;
    if !events.is_empty() {
        audit(
            c,
            who,
            "rematch",
            &format!("version:{version_id}"),
            &serde_json::json!({ "components": v.component_ids.len(), "events": events.len() }),
        )?;
    }
    Ok(events)
}
