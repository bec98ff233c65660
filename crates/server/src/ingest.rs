//! An upload (bulwark report, CycloneDX or SPDX JSON) → matched server-side against the
//! server's advisory store → one store transaction → notifications for the events it made.

use std::collections::BTreeMap;

use bulwark_scan::inventory::{Inventory, InventoryError, InventoryFormat};
use bulwark_store::{ComponentInput, FindingInput, IngestDocument, IngestOutcome, MatchKeyInput};
use bulwark_types::VulnerabilityFinding;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::state::AppState;

/// What names an upload, from the query string (or the caller: Dependency-Track's project
/// fields, a scan job).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadMeta {
    /// The asset (image repository); default: the document's image name without tag or digest.
    pub asset: Option<String>,
    /// The version key; default: the image digest, else the SHA-256 of the document.
    pub version: Option<String>,
    /// A label for the version (a tag); default: the image name's tag.
    pub label: Option<String>,
    /// The owning team (a new asset; wins over image labels).
    pub team: Option<String>,
    /// The owner (wins over image labels).
    pub owner: Option<String>,
    /// CI metadata.
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub pipeline_url: Option<String>,
    /// The CI system (`github`, `gitlab`, `azure`, `jenkins`, `circleci`).
    pub ci: Option<String>,
}

impl UploadMeta {
    fn ci_json(&self) -> Option<serde_json::Value> {
        let mut ci = serde_json::Map::new();
        for (k, v) in [
            ("commit", &self.commit),
            ("branch", &self.branch),
            ("pipeline_url", &self.pipeline_url),
            ("ci", &self.ci),
        ] {
            if let Some(v) = v {
                ci.insert(k.to_string(), serde_json::Value::String(v.clone()));
            }
        }
        (!ci.is_empty()).then_some(serde_json::Value::Object(ci))
    }
}

/// `registry.example/app:1.2` → (`registry.example/app`, `Some("1.2")`); digests dropped;
/// transports (`registry:`, `docker://`) dropped.
pub fn repository_and_tag(reference: &str) -> (String, Option<String>) {
    let mut r = reference.trim();
    for prefix in [
        "docker://",
        "registry:",
        "docker:",
        "podman:",
        "oci-archive:",
        "docker-archive:",
        "oci:",
        "dir:",
    ] {
        if let Some(rest) = r.strip_prefix(prefix) {
            r = rest;
            break;
        }
    }
    let r = r.split('@').next().unwrap_or(r);
    let slash = r.rfind('/').map(|i| i + 1).unwrap_or(0);
    match r[slash..].rfind(':') {
        Some(colon) => (
            r[..slash + colon].to_string(),
            Some(r[slash + colon + 1..].to_string()).filter(|t| !t.is_empty()),
        ),
        None => (r.to_string(), None),
    }
}

fn inventory_error(e: InventoryError) -> ApiError {
    match e {
        InventoryError::TooLarge { limit, .. } => ApiError::too_large(limit),
        other => ApiError::bad_request(other.to_string()),
    }
}

/// Whose advisories the stored findings of an upload come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MatchedBy {
    /// Matched by the server against its advisory store.
    Server,
    /// The server has no advisory store yet: the findings are the ones the uploaded report
    /// carried (the first advisory import rematches them).
    UploadedReport,
    /// The server has no advisory store yet and the document (an SBOM) carried no findings:
    /// nothing was matched, the zero is not an all-clear. The first import rematches it.
    NotMatched,
}

impl MatchedBy {
    /// What a client should tell its user, when the reply's findings are not the server's.
    pub fn warning(self) -> Option<&'static str> {
        match self {
            MatchedBy::Server => None,
            MatchedBy::UploadedReport => Some(
                "the server has no advisory store yet: the findings are the uploaded report's own;                  an admin imports advisories (`bulwark db update --db-dir DATA_DIR/advisories` or                  POST /api/v1/advisories/import) and the server rematches",
            ),
            MatchedBy::NotMatched => Some(
                "the server has no advisory store yet: the SBOM was stored but not matched, so its                  finding count means nothing yet; an admin imports advisories (`bulwark db update                  --db-dir DATA_DIR/advisories` or POST /api/v1/advisories/import) and the server                  rematches",
            ),
        }
    }
}

/// What an upload did: the store's outcome, the document's format, and whose advisories
/// its findings come from.
#[derive(Debug)]
pub struct Ingested {
    pub outcome: IngestOutcome,
    pub format: InventoryFormat,
    pub matched_by: MatchedBy,
}

/// Matches `inventory` against the advisory store: findings per package index. Without a
/// store yet, a bulwark report's own findings are kept (the first import rematches them).
pub fn match_all(
    state: &AppState,
    inventory: &Inventory,
) -> Result<(BTreeMap<usize, Vec<VulnerabilityFinding>>, MatchedBy), ApiError> {
    let dir = state.config.advisory_dir();
    match bulwark_vulndb::Store::open(&dir) {
        Ok(store) => {
            let all: Vec<usize> = (0..inventory.packages.len()).collect();
            let matched = bulwark_scan::inventory::rematch_packages(
                &store,
                inventory,
                &all,
                &bulwark_vulndb::MatchOptions::default(),
            )
            .map_err(|e| ApiError::internal(format!("matching against {}: {e}", dir.display())))?;
            Ok((matched.findings, MatchedBy::Server))
        }
        Err(bulwark_vulndb::Error::NotFound(_)) => {
            let mut by_purl: BTreeMap<String, usize> = BTreeMap::new();
            for (i, p) in inventory.packages.iter().enumerate() {
                by_purl.entry(p.purl.to_string()).or_insert(i);
            }
            let mut out: BTreeMap<usize, Vec<VulnerabilityFinding>> = BTreeMap::new();
            for f in &inventory.findings {
                if let Some(&i) = by_purl.get(&f.package.purl.to_string()) {
                    out.entry(i).or_default().push(f.clone());
                }
            }
            let matched_by = match inventory.format {
                InventoryFormat::BulwarkReport => MatchedBy::UploadedReport,
                _ if !inventory.findings.is_empty() => MatchedBy::UploadedReport,
                _ => MatchedBy::NotMatched,
            };
            Ok((out, matched_by))
        }
        Err(e) => Err(ApiError::unavailable(format!(
            "the server's advisory store {} cannot be read ({e}); an admin must fix or re-import it",
            dir.display()
        ))),
    }
}

/// `bulwark-report`, `cyclonedx` or `spdx`.
pub fn format_name(format: InventoryFormat) -> &'static str {
    match format {
        InventoryFormat::BulwarkReport => "bulwark-report",
        InventoryFormat::CycloneDx => "cyclonedx",
        InventoryFormat::Spdx => "spdx",
    }
}

/// The misconfigurations of a bulwark report (the compliance page's input). A bulwark report
/// counts as assessed even with none: `bulwark image` runs its misconfiguration checks by
/// default, and the report does not record which scanners ran.
fn report_misconfigurations(
    bytes: &[u8],
) -> Result<Vec<bulwark_types::Misconfiguration>, ApiError> {
    #[derive(Deserialize)]
    struct Misconfigs {
        #[serde(default)]
        misconfigurations: Vec<bulwark_types::Misconfiguration>,
    }
    serde_json::from_slice::<Misconfigs>(bytes)
        .map(|m| m.misconfigurations)
        .map_err(|e| ApiError::bad_request(format!("bulwark report: misconfigurations: {e}")))
}

/// Reads, matches and stores one upload (blocking: call through [`crate::error::blocking`]).
pub fn ingest_bytes(
    state: &AppState,
    who: &bulwark_store::Principal,
    bytes: &[u8],
    meta: &UploadMeta,
    source_kind: Option<&str>,
) -> Result<Ingested, ApiError> {
    let inventory =
        Inventory::from_bytes(bytes, state.config.max_body_size).map_err(inventory_error)?;
    let image = inventory.image.clone().unwrap_or_default();
    let (repository, tag) = image
        .name
        .as_deref()
        .map(repository_and_tag)
        .unwrap_or_default();
    let asset = meta
        .asset
        .clone()
        .or_else(|| Some(repository).filter(|r| !r.is_empty()))
        .ok_or_else(|| {
            ApiError::bad_request(
                "the document names no image: give the asset's name with ?asset=NAME",
            )
        })?;
    let version_key = meta
        .version
        .clone()
        .or_else(|| image.digest.clone())
        .unwrap_or_else(|| {
            use sha2::Digest;
            format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
        });
    // Held until the store commits (see `AppState::advisory_lock`); ingest runs on a blocking
    // thread, where `blocking_read` is allowed.
    let _advisories = state.advisory_lock.blocking_read();
    let (findings, matched_by) = match_all(state, &inventory)?;
    let keys = inventory.match_keys();
    let components = inventory
        .packages
        .iter()
        .zip(keys)
        .map(|(package, keys)| {
            let mut package = package.clone();
            package.files = Vec::new();
            ComponentInput {
                package,
                match_keys: keys
                    .unwrap_or_default()
                    .into_iter()
                    .map(|k| MatchKeyInput {
                        ecosystem: k.ecosystem,
                        name: k.name,
                        prefix: k.prefix,
                    })
                    .collect(),
            }
        })
        .collect();
    let findings = findings
        .into_iter()
        .flat_map(|(component, found)| {
            found
                .into_iter()
                .map(move |finding| FindingInput { component, finding })
        })
        .collect();
    let misconfigurations = match inventory.format {
        InventoryFormat::BulwarkReport => Some(report_misconfigurations(bytes)?),
        _ => None,
    };
    let source_kind = source_kind
        .unwrap_or(format_name(inventory.format))
        .to_string();
    let doc = IngestDocument {
        idempotency_key: Some(bulwark_store::idempotency_key(&asset, &version_key, bytes)),
        asset,
        version_key,
        label: meta.label.clone().or(tag),
        source_kind,
        os: inventory.os.clone(),
        labels: image.labels.clone(),
        ci: meta.ci_json(),
        team: meta.team.clone(),
        owner: meta.owner.clone(),
        ownership: state.config.ownership.clone(),
        components,
        findings,
        misconfigurations,
    };
    let outcome = match state.store.ingest(who, &doc) {
        Ok(outcome) => outcome,
        Err(e) => {
            state.metrics.ingest("rejected");
            return Err(e.into());
        }
    };
    state
        .metrics
        .ingest(match (outcome.duplicate, outcome.new_version) {
            (true, _) => "unchanged",
            (false, true) => "created",
            (false, false) => "updated",
        });
    crate::notifications::dispatch(state, &outcome.events);
    Ok(Ingested {
        outcome,
        format: inventory.format,
        matched_by,
    })
}

#[cfg(test)]
mod tests {
    use super::repository_and_tag;

    #[test]
    fn repository_and_tag_of_references() {
        let cases = [
            (
                "registry.example/app:1.2",
                "registry.example/app",
                Some("1.2"),
            ),
            ("localhost:5000/app", "localhost:5000/app", None),
            (
                "localhost:5000/app:v1@sha256:abc",
                "localhost:5000/app",
                Some("v1"),
            ),
            ("registry:nginx:1.25", "nginx", Some("1.25")),
            ("alpine", "alpine", None),
        ];
        for (reference, repo, tag) in cases {
            let (r, t) = repository_and_tag(reference);
            assert_eq!((r.as_str(), t.as_deref()), (repo, tag), "{reference}");
        }
    }
}
