//! `GET /compliance`: per framework, its controls and their status over the portfolio, and
//! per asset the controls its latest image fails, from the misconfigurations of the assets'
//! latest uploads (kept by the store since migration 0004). Which controls a framework has and
//! which checks cover them comes from `bulwark_misconfig::compliance`, the same source as
//! `bulwark --compliance`. Printable: the stylesheet's `@media print` drops the navigation
//! and forms, so the browser's "Print to PDF" makes the report.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use bulwark_misconfig::compliance::{self, Status, Target};
use bulwark_misconfig::CheckKind;
use bulwark_store::StoredMisconfig;

use super::html::{self, esc, path_segment, query_with};
use super::session::Session;
use super::PageError;
use crate::error::{blocking, ApiError};
use crate::state::AppState;

type Q = BTreeMap<String, String>;

/// The frameworks the page offers: the `--compliance` name, the store's framework name.
pub const FRAMEWORKS: &[(&str, &str)] = &[
    ("cis-docker", "cis-docker"),
    ("cis-k8s", "cis-k8s"),
    ("nist-800-190", "nist-800-190"),
    ("pci-dss", "pci-dss"),
    ("nsa", "nsa"),
    ("pss-baseline", "pss"),
    ("pss-restricted", "pss"),
];

/// What an uploaded image report was checked for: its image configuration (`bulwark image`
/// runs those checks by default). Controls only other kinds of input cover (a Kubernetes
/// manifest, a daemon.json) are "not scanned" here, never "pass".
fn scanned_by_uploads() -> BTreeSet<CheckKind> {
    [CheckKind::Image].into()
}

/// A status as words and a symbol (colour is never the only signal).
fn status_badge(label: &str, class: &str, symbol: &str) -> String {
    format!(
        "<span class=\"status status-{class}\"><span aria-hidden=\"true\">{symbol}</span> {label}</span>"
    )
}

fn control_link(q: &Q, control: &str) -> String {
    format!(
        "<a href=\"/compliance{}#assets\">{}</a>",
        esc(&query_with(q, &[("control", control), ("offset", "0")])),
        esc(control)
    )
}

/// `GET /compliance?framework=cis-docker[&control=4.1][&offset=N]`.
pub async fn compliance(
    State(state): State<AppState>,
    session: Session,
    Query(mut q): Query<Q>,
) -> Result<Response, PageError> {
    let slug = q
        .get("framework")
        .cloned()
        .unwrap_or_else(|| "cis-docker".into());
    let Some(&(_, store_fw)) = FRAMEWORKS.iter().find(|(s, _)| *s == slug) else {
        return Err(PageError(ApiError::bad_request(format!(
            "?framework={slug:?}: expected one of {}",
            FRAMEWORKS
                .iter()
                .map(|(s, _)| *s)
                .collect::<Vec<_>>()
                .join(", ")
        ))));
    };
    let target: Target = slug
        .parse()
        .map_err(|e: String| PageError(ApiError::bad_request(e)))?;
    q.insert("framework".into(), slug.clone());
    // The framework's controls with the checks that cover them, and what an upload can show.
    let base = compliance::report(target, &[], &scanned_by_uploads(), &BTreeSet::new());
    let known: BTreeSet<&str> = base.controls.iter().map(|c| c.id.as_str()).collect();
    let control = q
        .get("control")
        .filter(|c| !c.is_empty())
        .cloned()
        .filter(|c| known.contains(c.as_str()));
    let store = state.store.clone();
    let who = session.principal.clone();
    let page = bulwark_store::Page::new(super::pages::PAGE_SIZE, super::pages::offset(&q));
    let fw = store_fw.to_string();
    let wanted = control.clone();
    let (summary, assets, evidence) = blocking(move || {
        let summary = store.compliance_summary(&who, &fw)?;
        let assets = store.compliance_assets(&who, &fw, wanted.as_deref(), page)?;
        let evidence = if wanted.is_some() {
            let versions: Vec<i64> = assets.items.iter().filter_map(|a| a.version_id).collect();
            store.version_misconfigurations(&who, &versions)?
        } else {
            Default::default()
        };
        Ok((summary, assets, evidence))
    })
    .await?;

    let mut body = format!(
        "<h1>Compliance: {}</h1><nav class=\"tabs no-print\" aria-label=\"Frameworks\"><ul>",
        esc(target.title())
    );
    for (s, _) in FRAMEWORKS {
        let t: Target = s
            .parse()
            .map_err(|e: String| PageError(ApiError::internal(e)))?;
        let current = if *s == slug {
            " aria-current=\"page\""
        } else {
            ""
        };
        body.push_str(&format!(
            "<li><a href=\"/compliance?framework={s}\"{current}>{}</a></li>",
            esc(t.title())
        ));
    }
    body.push_str("</ul></nav>");
    body.push_str(&format!(
        "<p data-assessed=\"{}\" data-assets=\"{}\">{} of {} assets assessed: an asset is assessed when its latest upload is a bulwark report \
         (its image configuration checks); an SBOM upload carries no misconfiguration checks. Generated {}.</p>\
         <p class=\"muted no-print\">To keep this as a report, print the page (a print stylesheet lays it out for paper or PDF).</p>",
        summary.assessed,
        summary.assets,
        summary.assessed,
        summary.assets,
        html::when(bulwark_store::now_ms())
    ));
    // Per control: FAIL on some assets, else what the checks can say.
    let mut rows = String::new();
    let (mut fail, mut pass, mut not_scanned, mut manual) = (0, 0, 0, 0);
    for c in &base.controls {
        let failing = summary.failing.get(&c.id).copied().unwrap_or(0);
        let status = if failing > 0 {
            fail += 1;
            status_badge(
                &format!("FAIL on {failing} of {} assets", summary.assessed),
                "fail",
                "✗",
            )
        } else {
            match c.status {
                Status::Pass if summary.assessed > 0 => {
                    pass += 1;
                    status_badge(&format!("PASS on {} assets", summary.assessed), "pass", "✓")
                }
                Status::Manual => {
                    manual += 1;
                    status_badge("MANUAL: no check covers it", "manual", "?")
                }
                _ => {
                    not_scanned += 1;
                    status_badge("NOT SCANNED by image uploads", "not-scanned", "–")
                }
            }
        };
        let checks = match c.checks.len() {
            0 => "–".to_string(),
            1..=4 => esc(&c.checks.join(", ")),
            n => format!("{} +{} more", esc(&c.checks[..4].join(", ")), n - 4),
        };
        rows.push_str(&format!(
            "<tr data-control=\"{}\" data-failing=\"{failing}\"><th scope=\"row\">{}</th><td>{}</td><td>{status}</td><td>{checks}</td></tr>",
            esc(&c.id),
            if failing > 0 {
                control_link(&q, &c.id)
            } else {
                esc(&c.id)
            },
            esc(&c.title)
        ));
    }
    body.push_str(&format!(
        "<section class=\"cards\" aria-label=\"Controls\">\
         <div class=\"card\"><span class=\"big\" data-metric=\"fail\">{fail}</span> controls failing</div>\
         <div class=\"card\"><span class=\"big\" data-metric=\"pass\">{pass}</span> passing</div>\
         <div class=\"card\"><span class=\"big\" data-metric=\"not-scanned\">{not_scanned}</span> not scanned</div>\
         <div class=\"card\"><span class=\"big\" data-metric=\"manual\">{manual}</span> manual</div></section>"
    ));
    body.push_str(
        "<section><h2 id=\"controls\">Controls</h2><div class=\"scroll\"><table class=\"list\" id=\"controls-table\" aria-labelledby=\"controls\">\
         <thead><tr><th scope=\"col\">Control</th><th scope=\"col\">Title</th><th scope=\"col\">Status</th><th scope=\"col\">Checks</th></tr></thead><tbody>",
    );
    body.push_str(&rows);
    body.push_str("</tbody></table></div></section>");

    // Assets: all (most failing first), or those failing one control, with the evidence.
    match &control {
        Some(c) => body.push_str(&format!(
            "<section><h2 id=\"assets\">Assets failing {} ({})</h2><p class=\"no-print\"><a href=\"/compliance{}\">Every asset</a></p>",
            esc(c),
            assets.total,
            esc(&query_with(&q, &[("control", ""), ("offset", "0")]))
        )),
        None => body.push_str(&format!(
            "<section><h2 id=\"assets\">Assets ({})</h2>",
            assets.total
        )),
    }
    let evidence_head = if control.is_some() {
        "<th scope=\"col\">Evidence</th>"
    } else {
        ""
    };
    body.push_str(&format!(
        "<div class=\"scroll\"><table class=\"list\" id=\"compliance-assets\" aria-labelledby=\"assets\"><thead><tr>\
         <th scope=\"col\">Asset</th><th scope=\"col\">Team</th><th scope=\"col\">Status</th><th scope=\"col\">Failing controls</th>{evidence_head}</tr></thead><tbody>"
    ));
    for a in &assets.items {
        let failing: Vec<&(String, i64)> = a
            .failing
            .iter()
            .filter(|(c, _)| known.contains(c.as_str()))
            .collect();
        let status = if !a.assessed {
            status_badge("NOT ASSESSED", "not-scanned", "–")
        } else if failing.is_empty() {
            status_badge("PASS", "pass", "✓")
        } else {
            status_badge(&format!("FAIL ({})", failing.len()), "fail", "✗")
        };
        let list = failing
            .iter()
            .map(|(c, n)| format!("{} ({n})", control_link(&q, c)))
            .collect::<Vec<_>>()
            .join(", ");
        let evidence = match (&control, a.version_id) {
            (Some(c), Some(v)) => format!(
                "<td><ul class=\"evidence\">{}</ul></td>",
                evidence_items(
                    evidence.get(&v).map(Vec::as_slice).unwrap_or(&[]),
                    store_fw,
                    c
                )
            ),
            (Some(_), None) => "<td></td>".into(),
            _ => String::new(),
        };
        body.push_str(&format!(
            "<tr data-asset=\"{}\"><th scope=\"row\"><a href=\"/assets/{}\">{}</a></th><td>{}</td><td>{status}</td><td>{}</td>{evidence}</tr>",
            esc(&a.asset_name),
            path_segment(&a.asset_uuid),
            esc(&a.asset_name),
            esc(a.team.as_deref().unwrap_or("–")),
            if list.is_empty() { "–".into() } else { list }
        ));
    }
    body.push_str("</tbody></table></div>");
    body.push_str(&html::pager(
        &q,
        "offset",
        super::pages::offset(&q),
        super::pages::PAGE_SIZE,
        assets.total,
    ));
    body.push_str("</section>");
    Ok(html::page(
        StatusCode::OK,
        "Compliance",
        Some(&session.frame("compliance")),
        &body,
    ))
}

/// The misconfigurations of one version that map to `control` of `framework`.
fn evidence_items(found: &[StoredMisconfig], framework: &str, control: &str) -> String {
    let mut out = String::new();
    for m in found.iter().filter(|m| {
        m.controls
            .iter()
            .any(|(f, c)| f == framework && c == control)
    }) {
        out.push_str(&format!(
            "<li><code>{}</code> {} <span class=\"muted\">({}, {})</span>: {}</li>",
            esc(&m.check_id),
            esc(&m.title),
            esc(&m.severity),
            esc(&m.place),
            esc(&m.message)
        ));
    }
    out
}
