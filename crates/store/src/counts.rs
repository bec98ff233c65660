//! The counts of open, unsuppressed findings (by severity, KEV, fixable) that the portfolio
//! and the metrics show, and the copy of the latest version's counts kept on each asset row.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::driver::{params, Conn, Value};
use crate::Result;

/// Open, unsuppressed findings by severity, plus KEV and fixable counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityCounts {
    pub critical: i64,
    pub high: i64,
    pub medium: i64,
    pub low: i64,
    pub unknown: i64,
    pub kev: i64,
    pub fixable: i64,
    pub total: i64,
}

impl SeverityCounts {
    fn add(&mut self, rank: i64, kev: bool, fixable: bool, n: i64) {
        match rank {
            4 => self.critical += n,
            3 => self.high += n,
            2 => self.medium += n,
            1 => self.low += n,
            _ => self.unknown += n,
        }
        if kev {
            self.kev += n;
        }
        if fixable {
            self.fixable += n;
        }
        self.total += n;
    }
}

pub(crate) const TRIAGE_JOIN: &str =
    "LEFT JOIN triage t ON t.asset_id = f.asset_id AND t.vuln_id = f.vuln_id AND t.purl = f.purl";

/// Counts of open, unsuppressed findings per version.
pub(crate) fn counts_for_versions(
    c: &mut dyn Conn,
    ids: &[i64],
) -> Result<HashMap<i64, SeverityCounts>> {
    let mut out: HashMap<i64, SeverityCounts> = HashMap::new();
    for chunk in ids.chunks(500) {
        if chunk.is_empty() {
            continue;
        }
        let mut p = Vec::new();
        let list: Vec<String> = chunk.iter().map(|id| bind(&mut p, *id)).collect();
        let rows = c.query(
            &format!(
                "SELECT f.version_id, f.severity_rank, f.kev, f.fixable, COUNT(*) FROM findings f {TRIAGE_JOIN} \
                 WHERE f.version_id IN ({}) AND f.state = 'open' AND COALESCE(t.suppressed, 0) = 0 \
                 GROUP BY f.version_id, f.severity_rank, f.kev, f.fixable",
                list.join(", ")
            ),
            &p,
        )?;
        for r in rows {
            out.entry(r.i64(0)?)
                .or_default()
                .add(r.i64(1)?, r.bool(2)?, r.bool(3)?, r.i64(4)?);
        }
    }
    Ok(out)
}

/// Pushes a parameter, returning its `$N`.
pub(crate) fn bind(p: &mut Vec<Value>, v: impl Into<Value>) -> String {
    p.push(v.into());
    format!("${}", p.len())
}

/// Recomputes the asset row's counts of its latest version's open, unsuppressed findings
/// (migration 0002): called in the same transaction as every write that can change them
/// (an ingest, a rematch, a triage decision), so the portfolio reads them instead of
/// aggregating findings per request.
pub(crate) fn refresh_asset_counts(c: &mut dyn Conn, asset_id: i64) -> Result<()> {
    let latest = c
        .query_opt(
            "SELECT latest_version_id FROM assets WHERE id = $1",
            &params![asset_id],
        )?
        .and_then(|r| r.opt_i64(0).transpose())
        .transpose()?;
    let counts = match latest {
        Some(v) => counts_for_versions(c, &[v])?.remove(&v).unwrap_or_default(),
        None => SeverityCounts::default(),
    };
    c.execute(
        "UPDATE assets SET open_critical = $2, open_high = $3, open_medium = $4, open_low = $5, \
         open_unknown = $6, open_kev = $7, open_fixable = $8, open_total = $9 WHERE id = $1",
        &params![
            asset_id,
            counts.critical,
            counts.high,
            counts.medium,
            counts.low,
            counts.unknown,
            counts.kev,
            counts.fixable,
            counts.total
        ],
    )?;
    Ok(())
}
