//! The pages: overview, portfolio, asset, vulnerability, finding, and the triage form's
//! target. Each reads through the store with the session's principal (team limits apply as
//! in the API) and keeps its filters, sort and page in the query string.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use axum::Json;
use bulwark_store::{AssetFilter, AssetSort, FindingRow, Page, Scope, TriageInput, TriageState};

use super::html::{self, esc, path_segment, query_with, severity_badge, short_digest, when};
use super::session::{Form, Session};
use super::{svg, PageError};
use crate::error::{blocking, ApiError};
use crate::state::AppState;

type Q = BTreeMap<String, String>;

/// Rows per page of the dashboard's lists.
pub const PAGE_SIZE: u32 = 50;
/// EPSS at or above which a fixable finding is "likely exploited" on the overview.
pub const DEFAULT_MIN_EPSS: f64 = 0.1;

/// The most findings one triage form may change (the API's bulk limit).
pub const MAX_TRIAGE_AT_ONCE: usize = 1_000;

const DAY_MS: i64 = 86_400_000;

pub(super) fn offset(q: &Q) -> u64 {
    q.get("offset").and_then(|o| o.parse().ok()).unwrap_or(0)
}

fn page(q: &Q) -> Page {
    Page::new(PAGE_SIZE, offset(q))
}

fn asset_link(uuid: &str, name: &str) -> String {
    format!(
        "<a href=\"/assets/{}\">{}</a>",
        path_segment(uuid),
        esc(name)
    )
}

fn vuln_link(id: &str) -> String {
    format!("<a href=\"/vulns/{}\">{}</a>", path_segment(id), esc(id))
}

fn epss_text(epss: Option<f64>) -> String {
    epss.map(|e| format!("{:.1}%", e * 100.0))
        .unwrap_or_else(|| "–".into())
}

fn triage_text(f: &FindingRow) -> String {
    let state = f
        .triage_state
        .map(|s| s.as_str().to_string())
        .unwrap_or_else(|| "NOT_SET".into());
    if f.suppressed {
        format!(
            "{} <span class=\"badge muted\">suppressed</span>",
            esc(&state)
        )
    } else {
        esc(&state)
    }
}

fn yes(flag: bool, label: &str) -> String {
    if flag {
        format!("<span class=\"badge flag\">{label}</span>")
    } else {
        String::new()
    }
}

/// `GET /`: what to fix first, new vs resolved this week, the trend of open findings.
pub async fn overview(
    State(state): State<AppState>,
    Extension(trend_cache): Extension<super::TrendCache>,
    session: Session,
    Query(q): Query<Q>,
) -> Result<Response, PageError> {
    let days: i64 = match q.get("days").map(String::as_str) {
        Some("90") => 90,
        _ => 30,
    };
    let min_epss = q
        .get("epss")
        .and_then(|e| e.parse::<f64>().ok())
        .filter(|e| e.is_finite())
        .unwrap_or(DEFAULT_MIN_EPSS)
        .clamp(0.0, 1.0);
    let store = state.store.clone();
    let who = session.principal.clone();
    let pg = page(&q);
    let now = bulwark_store::now_ms();
    // The chart's days, oldest first; the last is today.
    let labels: Vec<String> = (0..days)
        .rev()
        .map(|d| bulwark_store::day_of(now - d * DAY_MS))
        .collect();
    let past: Vec<String> = labels[..labels.len() - 1].to_vec();
    let team = who.team_id();
    let cache = trend_cache.clone();
    let (fix, totals, events, past_counts, mttr) = blocking(move || {
        let fix = store.fix_first(&who, min_epss, pg)?;
        let mttr = store.mttr_by_day(&who, now, days)?;
        let totals = store.portfolio_totals(&who)?;
        let events = store.event_kinds(&who, &["new", "resolved"], now - 7 * DAY_MS, now + 1)?;
        let past_counts = match cache.get(team, &past) {
            Ok(counts) => counts,
            Err(missing) => {
                let (first, last) = (&missing[0], &missing[missing.len() - 1]);
                let sums: BTreeMap<String, bulwark_store::SeverityCounts> = store
                    .open_trend(&who, None, first, last)?
                    .into_iter()
                    .map(|s| (s.day, s.counts))
                    .collect();
                let oldest = bulwark_store::day_of(now - super::TREND_CACHE_DAYS * DAY_MS);
                cache.put(
                    team,
                    missing
                        .iter()
                        .map(|d| (d.clone(), sums.get(d).copied().unwrap_or_default())),
                    &oldest,
                );
                cache.get(team, &past).unwrap_or_default()
            }
        };
        Ok((fix, totals, events, past_counts, mttr))
    })
    .await?;
    let mut body = String::from("<h1>Overview</h1>");
    // Summary.
    let capped = |kind: &str| match events.get(kind).copied().unwrap_or(0) {
        n if n > bulwark_store::EVENT_COUNT_CAP => {
            format!("{}+", bulwark_store::EVENT_COUNT_CAP)
        }
        n => n.to_string(),
    };
    let (new, resolved) = (capped("new"), capped("resolved"));
    body.push_str(&format!(
        "<section class=\"cards\" aria-label=\"Summary\">\
         <div class=\"card\"><span class=\"big\" data-metric=\"open\">{}</span> open findings</div>\
         <div class=\"card\"><span class=\"big\" data-metric=\"kev\">{}</span> in CISA KEV</div>\
         <div class=\"card\"><span class=\"big\" data-metric=\"fixable\">{}</span> fixable</div>\
         <div class=\"card\"><span class=\"big\" data-metric=\"new-week\">{new}</span> new this week</div>\
         <div class=\"card\"><span class=\"big\" data-metric=\"resolved-week\">{resolved}</span> resolved this week</div>\
         </section>",
        totals.total, totals.kev, totals.fixable
    ));
    // Fix first.
    body.push_str(&format!(
        "<section><h2 id=\"fix-first\">Fix first</h2><p class=\"muted\">Open, fixable findings on each asset's latest image that are in CISA KEV or have an EPSS of at least {:.0}%: KEV first, then by EPSS.</p>",
        min_epss * 100.0
    ));
    if fix.items.is_empty() {
        body.push_str("<p>Nothing to fix first: no open, fixable KEV or high-EPSS findings.</p>");
    } else {
        body.push_str("<div class=\"scroll\"><table class=\"list\" aria-labelledby=\"fix-first\"><thead><tr><th scope=\"col\">Vulnerability</th><th scope=\"col\">Asset</th><th scope=\"col\">Package</th><th scope=\"col\">Fixed in</th><th scope=\"col\">Severity</th><th scope=\"col\">KEV</th><th scope=\"col\">EPSS</th></tr></thead><tbody>");
        for p in &fix.items {
            let f = &p.row;
            body.push_str(&format!(
                "<tr data-finding=\"{}\"><td>{}</td><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                f.id,
                vuln_link(&f.vuln_id),
                asset_link(&p.asset_uuid, &p.asset_name),
                esc(&f.package_name),
                esc(&f.package_version),
                esc(&f.fixed_versions.join(", ")),
                severity_badge(f.severity),
                yes(f.kev, "KEV"),
                epss_text(f.epss)
            ));
        }
        body.push_str("</tbody></table></div>");
    }
    body.push_str(&html::window_pager(
        &q,
        "offset",
        offset(&q),
        PAGE_SIZE,
        fix.more,
    ));
    body.push_str("</section>");
    // Trend: past days from the daily snapshots, today from the live counts.
    let mut points = past_counts;
    points.push(totals);
    let pick = |f: fn(&bulwark_store::SeverityCounts) -> i64| -> Vec<i64> {
        points.iter().map(f).collect()
    };
    let series = [
        svg::Series {
            name: "critical",
            values: pick(|c| c.critical),
        },
        svg::Series {
            name: "high",
            values: pick(|c| c.high),
        },
        svg::Series {
            name: "medium",
            values: pick(|c| c.medium),
        },
        svg::Series {
            name: "low",
            values: pick(|c| c.low),
        },
    ];
    let other = if days == 30 { "90" } else { "30" };
    body.push_str(&format!(
        "<section><h2 id=\"trend\">Open findings by severity, last {days} days</h2>\
         <p><a href=\"{}\">Show {other} days</a></p>{}",
        esc(&query_with(&q, &[("days", other)])),
        svg::line_chart(
            "trend",
            &format!("Open findings by severity over the last {days} days"),
            &labels,
            &series
        )
    ));
    body.push_str("<details><summary>The chart's numbers</summary><div class=\"scroll\"><table class=\"list\" id=\"trend-data\"><thead><tr><th scope=\"col\">Day</th><th scope=\"col\">Critical</th><th scope=\"col\">High</th><th scope=\"col\">Medium</th><th scope=\"col\">Low</th></tr></thead><tbody>");
    for (i, day) in labels.iter().enumerate().rev() {
        body.push_str(&format!(
            "<tr data-day=\"{day}\"><th scope=\"row\">{day}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            series[0].values[i], series[1].values[i], series[2].values[i], series[3].values[i]
        ));
    }
    body.push_str("</tbody></table></div></details></section>");
    body.push_str(&mttr_section(&mttr, days));
    body.push_str(&format!(
        "<section><h2>Open findings now</h2>{}</section>",
        svg::severity_bars(
            "now",
            &[
                ("critical", totals.critical),
                ("high", totals.high),
                ("medium", totals.medium),
                ("low", totals.low),
                ("unknown", totals.unknown)
            ]
        )
    ));
    Ok(html::page(
        StatusCode::OK,
        "Overview",
        Some(&session.frame("overview")),
        &body,
    ))
}

const HOUR_MS: i64 = 3_600_000;

/// `1.5 days` / `5 hours` / `–`.
fn duration_text(ms: Option<i64>) -> String {
    match ms {
        None => "–".into(),
        Some(ms) if ms >= DAY_MS => format!("{:.1} days", ms as f64 / DAY_MS as f64),
        Some(ms) => format!("{:.1} hours", ms as f64 / HOUR_MS as f64),
    }
}

/// The mean-time-to-remediate trend: per day, the mean time from first seen to resolved of
/// the findings resolved that day, as a chart (hours) and a table, with the window's mean.
fn mttr_section(mttr: &[bulwark_store::MttrDay], days: i64) -> String {
    let resolved: i64 = mttr.iter().map(|d| d.resolved).sum();
    let total_ms: i64 = mttr.iter().map(|d| d.total_ms).sum();
    let mean = (resolved > 0).then(|| total_ms / resolved);
    let labels: Vec<String> = mttr.iter().map(|d| d.day.clone()).collect();
    let series = [svg::Series {
        name: "mttr",
        values: mttr
            .iter()
            .map(|d| {
                d.mean_ms()
                    .map(|m| (m + HOUR_MS / 2) / HOUR_MS)
                    .unwrap_or(0)
            })
            .collect(),
    }];
    let headline = match mean {
        Some(m) => format!(
            "<span class=\"big\" data-metric=\"mttr\" data-mttr-ms=\"{m}\">{}</span> on average from first seen to resolved, \
             over <span data-metric=\"resolved-window\">{resolved}</span> findings resolved in the window.",
            duration_text(mean)
        ),
        None => format!(
            "<span data-metric=\"mttr\" data-mttr-ms=\"\">No finding was resolved</span> in the last {days} days \
             (<span data-metric=\"resolved-window\">0</span> resolved)."
        ),
    };
    let mut out = format!(
        "<section><h2 id=\"mttr\">Mean time to remediate, last {days} days</h2>\
         <p>{headline} The chart plots each day's mean in hours; a day with nothing resolved is plotted at 0 and shown as – in the table.</p>{}",
        svg::line_chart(
            "mttr-chart",
            &format!("Mean hours to remediate per day over the last {days} days"),
            &labels,
            &series
        )
    );
    out.push_str("<details><summary>The chart's numbers</summary><div class=\"scroll\"><table class=\"list\" id=\"mttr-data\"><thead><tr><th scope=\"col\">Day</th><th scope=\"col\">Resolved</th><th scope=\"col\">Mean time to remediate</th></tr></thead><tbody>");
    for d in mttr.iter().rev() {
        out.push_str(&format!(
            "<tr data-day=\"{}\" data-resolved=\"{}\" data-mean-ms=\"{}\"><th scope=\"row\">{}</th><td>{}</td><td>{}</td></tr>",
            esc(&d.day),
            d.resolved,
            d.mean_ms().map(|m| m.to_string()).unwrap_or_default(),
            esc(&d.day),
            d.resolved,
            duration_text(d.mean_ms())
        ));
    }
    out.push_str("</tbody></table></div></details></section>");
    out
}

/// `GET /assets`: the portfolio, filtered by `q` (name), `team`, `owner`, sorted by `sort`.
pub async fn portfolio(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<Q>,
) -> Result<Response, PageError> {
    let sort_name = q.get("sort").map(String::as_str).unwrap_or("severity");
    let sort = AssetSort::parse(sort_name).ok_or_else(|| {
        ApiError::bad_request(format!(
            "?sort={sort_name:?}: expected {}",
            AssetSort::NAMES
        ))
    })?;
    let filter = AssetFilter {
        name_contains: q.get("q").filter(|v| !v.is_empty()).cloned(),
        team: q.get("team").filter(|v| !v.is_empty()).cloned(),
        owner: q.get("owner").filter(|v| !v.is_empty()).cloned(),
        sort,
    };
    let store = state.store.clone();
    let who = session.principal.clone();
    let pg = page(&q);
    let (assets, sparks) = blocking(move || {
        let assets = store.list_assets(&who, &filter, pg)?;
        let ids: Vec<i64> = assets.items.iter().map(|a| a.id).collect();
        let from = bulwark_store::day_of(bulwark_store::now_ms() - 29 * DAY_MS);
        let sparks = store.asset_sparklines(&who, &ids, &from)?;
        Ok((assets, sparks))
    })
    .await?;
    let mut body = String::from("<h1>Portfolio</h1>");
    body.push_str(&format!(
        "<form class=\"filters\" method=\"get\" action=\"/assets\" role=\"search\">\
         <label for=\"f-q\">Name contains</label><input id=\"f-q\" name=\"q\" value=\"{}\">\
         <label for=\"f-team\">Team</label><input id=\"f-team\" name=\"team\" value=\"{}\">\
         <label for=\"f-owner\">Owner</label><input id=\"f-owner\" name=\"owner\" value=\"{}\">\
         <input type=\"hidden\" name=\"sort\" value=\"{}\"><button type=\"submit\">Filter</button></form>",
        esc(q.get("q").map(String::as_str).unwrap_or("")),
        esc(q.get("team").map(String::as_str).unwrap_or("")),
        esc(q.get("owner").map(String::as_str).unwrap_or("")),
        esc(sort_name)
    ));
    let mut sq = q.clone();
    sq.insert("sort".into(), sort_name.into());
    body.push_str("<div class=\"scroll\"><table class=\"list\" id=\"portfolio\"><caption class=\"sr-only\">Assets</caption><thead><tr>");
    body.push_str(&html::sort_header(&sq, "name", "Asset"));
    body.push_str("<th scope=\"col\">Team</th><th scope=\"col\">Owner</th><th scope=\"col\">Latest digest</th>");
    body.push_str(&html::sort_header(&sq, "last_seen", "Last scan"));
    body.push_str(&html::sort_header(&sq, "severity", "Critical"));
    body.push_str(
        "<th scope=\"col\">High</th><th scope=\"col\">Medium</th><th scope=\"col\">Low</th>",
    );
    body.push_str(&html::sort_header(&sq, "kev", "KEV"));
    body.push_str(&html::sort_header(&sq, "fixable", "Fixable"));
    body.push_str(&html::sort_header(&sq, "total", "Open"));
    body.push_str("<th scope=\"col\">30 days</th></tr></thead><tbody>");
    for a in &assets.items {
        let c = &a.counts;
        let (digest, last) = match &a.latest_version {
            Some(v) => (short_digest(&v.version_key), when(v.last_seen)),
            None => ("–".into(), "–".into()),
        };
        let spark: Vec<i64> = sparks
            .get(&a.id)
            .map(|s| s.iter().map(|(_, n)| *n).collect())
            .unwrap_or_default();
        body.push_str(&format!(
            "<tr data-asset=\"{}\"><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{digest}</td><td>{last}</td>\
             <td data-count=\"critical\">{}</td><td data-count=\"high\">{}</td><td data-count=\"medium\">{}</td><td data-count=\"low\">{}</td>\
             <td data-count=\"kev\">{}</td><td data-count=\"fixable\">{}</td><td data-count=\"total\">{}</td><td>{}</td></tr>",
            esc(&a.name),
            asset_link(&a.uuid, &a.name),
            esc(a.team.as_ref().map(|t| t.name.as_str()).unwrap_or("–")),
            esc(a.owner.as_deref().unwrap_or("–")),
            c.critical,
            c.high,
            c.medium,
            c.low,
            c.kev,
            c.fixable,
            c.total,
            svg::sparkline(&spark)
        ));
    }
    body.push_str("</tbody></table></div>");
    if assets.items.is_empty() {
        body.push_str("<p>No assets yet. Upload a report: <code>bulwark image IMAGE --upload URL --token TOKEN</code>.</p>");
    }
    body.push_str(&html::pager(
        &sq,
        "offset",
        offset(&q),
        PAGE_SIZE,
        assets.total,
    ));
    Ok(html::page(
        StatusCode::OK,
        "Portfolio",
        Some(&session.frame("assets")),
        &body,
    ))
}

fn triage_form(session: &Session, back: &str) -> String {
    let states = [
        "IN_TRIAGE",
        "EXPLOITABLE",
        "NOT_AFFECTED",
        "FALSE_POSITIVE",
        "RESOLVED",
        "NOT_SET",
    ];
    let justifications = [
        "",
        "CODE_NOT_PRESENT",
        "CODE_NOT_REACHABLE",
        "REQUIRES_CONFIGURATION",
        "REQUIRES_DEPENDENCY",
        "REQUIRES_ENVIRONMENT",
        "PROTECTED_BY_COMPILER",
        "PROTECTED_AT_RUNTIME",
        "PROTECTED_AT_PERIMETER",
        "PROTECTED_BY_MITIGATING_CONTROL",
    ];
    let responses = [
        "",
        "CAN_NOT_FIX",
        "WILL_NOT_FIX",
        "UPDATE",
        "ROLLBACK",
        "WORKAROUND_AVAILABLE",
    ];
    let options = |items: &[&str]| -> String {
        items
            .iter()
            .map(|s| {
                let label = if s.is_empty() { "(none)" } else { s };
                format!("<option value=\"{s}\">{label}</option>")
            })
            .collect()
    };
    format!(
        "<fieldset class=\"triage\"><legend>Triage the selected findings</legend>\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\"><input type=\"hidden\" name=\"back\" value=\"{}\">\
         <label for=\"t-state\">State</label><select id=\"t-state\" name=\"state\">{}</select>\
         <label for=\"t-just\">Justification</label><select id=\"t-just\" name=\"justification\">{}</select>\
         <label for=\"t-resp\">Response</label><select id=\"t-resp\" name=\"response\">{}</select>\
         <label for=\"t-comment\">Comment</label><input id=\"t-comment\" name=\"comment\" maxlength=\"2000\">\
         <button type=\"submit\">Apply</button></fieldset>",
        esc(&session.csrf),
        esc(back),
        options(&states),
        options(&justifications),
        options(&responses)
    )
}

fn finding_rows(
    findings: &[FindingRow],
    selectable: bool,
    asset_names: Option<&[String]>,
) -> String {
    let mut out = String::new();
    for (i, f) in findings.iter().enumerate() {
        let check = if selectable {
            format!(
                "<td><input type=\"checkbox\" name=\"finding\" value=\"{}\" id=\"sel-{}\" aria-label=\"Select {} in {}\"></td>",
                f.id,
                f.id,
                esc(&f.vuln_id),
                esc(&f.package_name)
            )
        } else {
            String::new()
        };
        let asset = asset_names
            .and_then(|n| n.get(i))
            .map(|n| format!("<td>{n}</td>"))
            .unwrap_or_default();
        out.push_str(&format!(
            "<tr data-finding=\"{}\" data-vuln=\"{}\">{check}{asset}<td>{}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><a href=\"/findings/{}\">{}</a></td></tr>",
            f.id,
            esc(&f.vuln_id),
            vuln_link(&f.vuln_id),
            esc(&f.package_name),
            esc(&f.package_version),
            esc(&f.fixed_versions.join(", ")),
            severity_badge(f.severity),
            yes(f.kev, "KEV"),
            epss_text(f.epss),
            triage_text(f),
            f.id,
            "history"
        ));
    }
    out
}

const FINDING_HEAD: &str = "<th scope=\"col\">Vulnerability</th><th scope=\"col\">Package</th><th scope=\"col\">Fixed in</th><th scope=\"col\">Severity</th><th scope=\"col\">KEV</th><th scope=\"col\">EPSS</th><th scope=\"col\">Triage</th><th scope=\"col\">Trail</th>";

/// `GET /assets/{uuid}`: digests over time, the chosen (default: latest) digest's layers with
/// what each brought, a diff of two digests, triage of its findings, VEX export.
pub async fn asset(
    State(state): State<AppState>,
    session: Session,
    Path(uuid): Path<String>,
    Query(q): Query<Q>,
) -> Result<Response, PageError> {
    let store = state.store.clone();
    let who = session.principal.clone();
    let qq = q.clone();
    let (asset, versions, chosen, layers, diff) = blocking(move || {
        let asset = store
            .asset_by_uuid(&who, &uuid)?
            .ok_or_else(|| ApiError::not_found(format!("no asset {uuid} (or not your team's)")))?;
        let versions = store.versions(&who, asset.id, Page::new(100, 0))?;
        let chosen = match qq.get("version") {
            Some(v) => Some(
                store
                    .version_by_uuid(&who, v)?
                    .filter(|v| v.asset_id == asset.id)
                    .ok_or_else(|| ApiError::not_found(format!("no version {v} of this asset")))?,
            ),
            None => asset.latest_version.clone(),
        };
        let layers = match &chosen {
            Some(v) => store.version_layers(&who, v.id)?,
            None => Vec::new(),
        };
        let diff = match (qq.get("from"), qq.get("to")) {
            (Some(a), Some(b)) => {
                let find = |u: &str| {
                    versions
                        .items
                        .iter()
                        .find(|v| v.uuid == u)
                        .map(|v| (v.id, v.version_key.clone()))
                };
                match (find(a), find(b)) {
                    (Some(a), Some(b)) => Some((
                        a.1.clone(),
                        b.1.clone(),
                        store.version_diff(&who, a.0, b.0)?,
                    )),
                    _ => {
                        return Err(ApiError::not_found(
                            "pick two digests of this asset to compare",
                        ))
                    }
                }
            }
            _ => None,
        };
        Ok((asset, versions, chosen, layers, diff))
    })
    .await?;
    let here = format!(
        "/assets/{}{}",
        path_segment(&asset.uuid),
        if q.is_empty() {
            String::new()
        } else {
            query_with(&q, &[])
        }
    );
    let mut body = format!("<h1>{}</h1>", esc(&asset.name));
    if let Some(notice) = q.get("notice") {
        body.push_str(&format!(
            "<p class=\"notice\" role=\"status\">{}</p>",
            esc(notice)
        ));
    }
    let c = &asset.counts;
    body.push_str(&format!(
        "<p>Team <strong>{}</strong> · owner <strong>{}</strong> · {} open findings on the latest digest ({} critical, {} high, {} KEV, {} fixable) · \
         export triage as <a href=\"/assets/{u}/vex?format=openvex\">OpenVEX</a> or <a href=\"/assets/{u}/vex?format=cyclonedx\">CycloneDX VEX</a></p>",
        esc(asset.team.as_ref().map(|t| t.name.as_str()).unwrap_or("none")),
        esc(asset.owner.as_deref().unwrap_or("none")),
        c.total,
        c.critical,
        c.high,
        c.kev,
        c.fixable,
        u = path_segment(&asset.uuid)
    ));
    // Digests over time.
    body.push_str("<section><h2 id=\"digests\">Digests</h2><div class=\"scroll\"><table class=\"list\" aria-labelledby=\"digests\"><thead><tr><th scope=\"col\">Digest</th><th scope=\"col\">Tag</th><th scope=\"col\">First seen</th><th scope=\"col\">Last seen</th><th scope=\"col\">Components</th><th scope=\"col\">Show</th></tr></thead><tbody>");
    for v in &versions.items {
        let current = chosen.as_ref().is_some_and(|c| c.id == v.id);
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            short_digest(&v.version_key),
            esc(v.label.as_deref().unwrap_or("")),
            when(v.first_seen),
            when(v.last_seen),
            v.component_count,
            if current {
                "shown below".to_string()
            } else {
                format!(
                    "<a href=\"{}\">layers</a>",
                    esc(&query_with(&BTreeMap::new(), &[("version", &v.uuid)]))
                )
            }
        ));
    }
    body.push_str("</tbody></table></div>");
    if versions.items.len() >= 2 {
        let opts = |selected: Option<&String>| -> String {
            versions
                .items
                .iter()
                .map(|v| {
                    let sel = if selected == Some(&v.uuid) {
                        " selected"
                    } else {
                        ""
                    };
                    format!(
                        "<option value=\"{}\"{sel}>{} ({})</option>",
                        esc(&v.uuid),
                        esc(&v.version_key),
                        when(v.first_seen)
                    )
                })
                .collect()
        };
        body.push_str(&format!(
            "<form class=\"filters\" method=\"get\"><label for=\"d-from\">Compare</label><select id=\"d-from\" name=\"from\">{}</select>\
             <label for=\"d-to\">with</label><select id=\"d-to\" name=\"to\">{}</select><button type=\"submit\">Diff</button></form>",
            opts(q.get("from").or(versions.items.get(1).map(|v| &v.uuid))),
            opts(q.get("to").or(versions.items.first().map(|v| &v.uuid)))
        ));
    }
    body.push_str("</section>");
    if let Some((from, to, d)) = &diff {
        body.push_str(&format!(
            "<section><h2 id=\"diff\">From {} to {}</h2>",
            short_digest(from),
            short_digest(to)
        ));
        let list = |title: &str, items: Vec<String>| -> String {
            let mut s = format!("<h3>{} ({})</h3>", esc(title), items.len());
            if !items.is_empty() {
                s.push_str("<ul class=\"cols\">");
                for i in items.iter().take(500) {
                    s.push_str(&format!("<li><code>{}</code></li>", esc(i)));
                }
                s.push_str("</ul>");
            }
            s
        };
        body.push_str(&list(
            "Findings added",
            d.findings_added
                .iter()
                .map(|(v, p)| format!("{v} {p}"))
                .collect(),
        ));
        body.push_str(&list(
            "Findings removed",
            d.findings_removed
                .iter()
                .map(|(v, p)| format!("{v} {p}"))
                .collect(),
        ));
        body.push_str(&list("Packages added", d.packages_added.clone()));
        body.push_str(&list("Packages removed", d.packages_removed.clone()));
        body.push_str("</section>");
    }
    // Layers of the chosen digest.
    if let Some(v) = &chosen {
        body.push_str(&format!(
            "<section><h2 id=\"layers\">Layers of {}</h2><p class=\"muted\">Each layer with the Dockerfile step that made it, the packages it brought and their open findings: the step that brought a flaw is where it gets fixed.</p>",
            short_digest(&v.version_key)
        ));
        body.push_str("<form method=\"post\" action=\"/triage\" class=\"triage-form\">");
        for layer in &layers {
            let step = layer
                .created_by
                .as_deref()
                .map(|s| format!("<code class=\"step\">{}</code>", esc(s)))
                .unwrap_or_else(|| "<span class=\"muted\">build step unknown</span>".into());
            body.push_str(&format!(
                "<article class=\"layer\" data-layer=\"{}\"><h3>Layer {} {}</h3><p>{step}</p>\
                 <p>{} packages · {} open findings ({} critical, {} high, {} KEV)</p>",
                layer.index,
                layer.index,
                layer
                    .diff_id
                    .as_deref()
                    .map(short_digest)
                    .unwrap_or_default(),
                layer.packages.len(),
                layer.counts.total,
                layer.counts.critical,
                layer.counts.high,
                layer.counts.kev
            ));
            if !layer.packages.is_empty() {
                body.push_str(&format!(
                    "<details><summary>Packages ({})</summary><ul class=\"cols\">",
                    layer.packages.len()
                ));
                for p in &layer.packages {
                    body.push_str(&format!("<li>{}</li>", esc(p)));
                }
                body.push_str("</ul></details>");
            }
            if !layer.findings.is_empty() {
                body.push_str(&format!(
                    "<div class=\"scroll\"><table class=\"list findings\"><caption>Findings of layer {}</caption><thead><tr><th scope=\"col\"><span class=\"sr-only\">Select</span></th>{FINDING_HEAD}</tr></thead><tbody>{}</tbody></table></div>",
                    layer.index,
                    finding_rows(&layer.findings, true, None)
                ));
            }
            body.push_str("</article>");
        }
        let any = layers.iter().any(|l| !l.findings.is_empty());
        if any {
            body.push_str(&triage_form(&session, &here));
        }
        body.push_str("</form></section>");
    }
    Ok(html::page(
        StatusCode::OK,
        &asset.name,
        Some(&session.frame("assets")),
        &body,
    ))
}

/// `GET /assets/{uuid}/vex?format=openvex|cyclonedx`: the API's VEX export, for a session.
pub async fn asset_vex(
    State(state): State<AppState>,
    session: Session,
    Path(uuid): Path<String>,
    Query(q): Query<Q>,
) -> Result<Response, PageError> {
    let store = state.store.clone();
    let who = session.principal.clone();
    let (asset, statements) = blocking(move || {
        let asset = store
            .asset_by_uuid(&who, &uuid)?
            .ok_or_else(|| ApiError::not_found(format!("no asset {uuid} (or not your team's)")))?;
        let statements = store.vex_statements(&who, asset.id)?;
        Ok((asset, statements))
    })
    .await?;
    let (doc, content_type, ext) = match q.get("format").map(String::as_str).unwrap_or("openvex") {
        "openvex" => (
            crate::vex::openvex(&asset.name, &statements),
            "application/json",
            "openvex.json",
        ),
        "cyclonedx" => (
            crate::vex::cyclonedx(&asset.name, &statements),
            "application/vnd.cyclonedx+json",
            "cdx.json",
        ),
        other => {
            return Err(PageError(ApiError::bad_request(format!(
                "?format={other:?}: expected openvex or cyclonedx"
            ))))
        }
    };
    let file: String = asset
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}.{ext}\""),
            ),
        ],
        Json(doc),
    )
        .into_response())
}

/// `GET /vulns/{id}`: what the vulnerability is and every asset (latest digest) it is on,
/// with the triage state of each.
pub async fn vulnerability(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Query(q): Query<Q>,
) -> Result<Response, PageError> {
    let store = state.store.clone();
    let who = session.principal.clone();
    let pg = page(&q);
    let vid = id.clone();
    let affected = blocking(move || Ok(store.vulnerability_findings(&who, &vid, pg)?)).await?;
    let Some(first) = affected.items.first() else {
        return Err(PageError(ApiError::not_found(format!(
            "{id} is on none of your assets' latest images"
        ))));
    };
    let f = &first.row.finding;
    let mut body = format!("<h1>{}</h1>", esc(&id));
    if let Some(notice) = q.get("notice") {
        body.push_str(&format!(
            "<p class=\"notice\" role=\"status\">{}</p>",
            esc(notice)
        ));
    }
    if let Some(title) = &f.title {
        body.push_str(&format!("<p class=\"lead\">{}</p>", esc(title)));
    }
    body.push_str("<dl class=\"facts\">");
    body.push_str(&format!(
        "<dt>Severity</dt><dd>{} ({})</dd>",
        severity_badge(f.severity),
        esc(f.severity_source.as_str())
    ));
    if let Some(cvss) = &f.cvss {
        body.push_str(&format!(
            "<dt>CVSS {}</dt><dd>{} <code>{}</code></dd>",
            esc(&cvss.version),
            cvss.base_score
                .map(|s| format!("{s:.1}"))
                .unwrap_or_else(|| "–".into()),
            esc(&cvss.vector)
        ));
    }
    match &f.epss {
        Some(e) => body.push_str(&format!(
            "<dt>EPSS</dt><dd>{:.1}% ({:.0}th percentile{})</dd>",
            e.score * 100.0,
            e.percentile * 100.0,
            e.date
                .as_deref()
                .map(|d| format!(", {}", esc(d)))
                .unwrap_or_default()
        )),
        None => body.push_str("<dt>EPSS</dt><dd>no score</dd>"),
    }
    match &f.kev {
        Some(k) => body.push_str(&format!(
            "<dt>CISA KEV</dt><dd>listed{}{}</dd>",
            k.date_added
                .as_deref()
                .map(|d| format!(" on {}", esc(d)))
                .unwrap_or_default(),
            k.due_date
                .as_deref()
                .map(|d| format!("; due <strong>{}</strong>", esc(d)))
                .unwrap_or_default()
        )),
        None => body.push_str("<dt>CISA KEV</dt><dd>not listed</dd>"),
    }
    body.push_str(&format!(
        "<dt>Aliases</dt><dd>{}</dd>",
        esc(&f.ids.join(", "))
    ));
    if !f.references.is_empty() {
        body.push_str("<dt>References</dt><dd><ul>");
        for r in f.references.iter().take(20) {
            body.push_str(&format!("<li>{}</li>", esc(r)));
        }
        body.push_str("</ul></dd>");
    }
    body.push_str("</dl>");
    let here = format!("/vulns/{}", path_segment(&id));
    body.push_str(&format!(
        "<section><h2 id=\"affected\">Affected assets ({})</h2><form method=\"post\" action=\"/triage\" class=\"triage-form\">\
         <div class=\"scroll\"><table class=\"list findings\" aria-labelledby=\"affected\"><thead><tr><th scope=\"col\"><span class=\"sr-only\">Select</span></th><th scope=\"col\">Asset</th>{FINDING_HEAD}</tr></thead><tbody>",
        affected.total
    ));
    let rows: Vec<FindingRow> = affected.items.iter().map(|p| p.row.clone()).collect();
    let names: Vec<String> = affected
        .items
        .iter()
        .map(|p| asset_link(&p.asset_uuid, &p.asset_name))
        .collect();
    body.push_str(&finding_rows(&rows, true, Some(&names)));
    body.push_str("</tbody></table></div>");
    body.push_str(&triage_form(&session, &here));
    body.push_str("</form>");
    body.push_str(&html::pager(
        &q,
        "offset",
        offset(&q),
        PAGE_SIZE,
        affected.total,
    ));
    body.push_str("</section>");
    Ok(html::page(
        StatusCode::OK,
        &id,
        Some(&session.frame("")),
        &body,
    ))
}

/// `GET /findings/{id}`: one finding, its triage form and its audit trail.
pub async fn finding(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let store = state.store.clone();
    let who = session.principal.clone();
    let (f, asset, history) = blocking(move || {
        let f = store
            .finding(&who, id)?
            .ok_or_else(|| ApiError::not_found(format!("no finding {id} (or not your team's)")))?;
        let asset = store
            .asset(&who, f.asset_id)?
            .ok_or_else(|| ApiError::not_found(format!("no finding {id} (or not your team's)")))?;
        let history = store.triage_history(&who, f.asset_id, &f.vuln_id, &f.purl)?;
        Ok((f, asset, history))
    })
    .await?;
    let here = format!("/findings/{id}");
    let mut body = format!(
        "<h1>{} in {} {}</h1><p>On {} · layer {} {} · state {} · first seen {}</p>",
        esc(&f.vuln_id),
        esc(&f.package_name),
        esc(&f.package_version),
        asset_link(&asset.uuid, &asset.name),
        f.finding.package.layer_index,
        f.finding
            .package
            .layer_created_by
            .as_deref()
            .map(|s| format!("(<code class=\"step\">{}</code>)", esc(s)))
            .unwrap_or_default(),
        esc(&f.state),
        when(f.first_seen)
    );
    body.push_str(&format!(
        "<p>{} · {} · triage: {} · <a href=\"/vulns/{}\">every asset with {}</a></p>",
        severity_badge(f.severity),
        if f.fixable {
            format!("fixed in {}", esc(&f.fixed_versions.join(", ")))
        } else {
            "no fix yet".into()
        },
        triage_text(&f),
        path_segment(&f.vuln_id),
        esc(&f.vuln_id)
    ));
    body.push_str(&format!(
        "<form method=\"post\" action=\"/triage\" class=\"triage-form\"><input type=\"hidden\" name=\"finding\" value=\"{}\">{}</form>",
        f.id,
        triage_form(&session, &here)
    ));
    body.push_str("<section><h2 id=\"trail\">Audit trail</h2>");
    if history.is_empty() {
        body.push_str("<p>No triage decision yet.</p>");
    } else {
        body.push_str("<table class=\"list\" aria-labelledby=\"trail\"><thead><tr><th scope=\"col\">When</th><th scope=\"col\">Who</th><th scope=\"col\">State</th><th scope=\"col\">Justification</th><th scope=\"col\">Response</th><th scope=\"col\">Comment</th></tr></thead><tbody>");
        for h in history.iter().rev() {
            body.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                when(h.at),
                esc(&h.actor),
                esc(h.state.as_str()),
                if h.suppressed { " (suppressed)" } else { "" },
                esc(h.justification.as_deref().unwrap_or("")),
                esc(h.response.as_deref().unwrap_or("")),
                esc(h.comment.as_deref().unwrap_or(""))
            ));
        }
        body.push_str("</tbody></table>");
    }
    body.push_str("</section>");
    Ok(html::page(
        StatusCode::OK,
        &f.vuln_id,
        Some(&session.frame("")),
        &body,
    ))
}

/// `POST /triage`: one decision for the selected findings (CSRF-checked; the same store
/// calls as `POST /api/v1/triage`), then back to the page with a notice.
pub async fn triage(
    State(state): State<AppState>,
    session: Session,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = Form::parse(&body);
    session.check_csrf(&form)?;
    if !session.principal.has(Scope::Triage) {
        return Err(PageError(ApiError::forbidden(
            "your account lacks the triage scope; ask an admin",
        )));
    }
    let back = form
        .one("back")
        .filter(|b| html::local_path(b))
        .unwrap_or("/")
        .to_string();
    let ids: Vec<i64> = form.all("finding").filter_map(|f| f.parse().ok()).collect();
    if ids.is_empty() {
        return Err(PageError(ApiError::bad_request(
            "select at least one finding to triage",
        )));
    }
    if ids.len() > MAX_TRIAGE_AT_ONCE {
        return Err(PageError(ApiError::bad_request(format!(
            "at most {MAX_TRIAGE_AT_ONCE} findings at once"
        ))));
    }
    let state_name = form.one("state").unwrap_or("IN_TRIAGE");
    let triage_state = TriageState::parse(state_name)?;
    let nonempty = |k: &str| {
        form.one(k)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let input = TriageInput {
        state: triage_state,
        justification: nonempty("justification"),
        response: nonempty("response"),
        comment: nonempty("comment"),
        suppressed: matches!(
            triage_state,
            TriageState::NotAffected | TriageState::FalsePositive
        ),
    };
    let store = state.store.clone();
    let who = session.principal.clone();
    let (updated, failed) = blocking(move || {
        let mut updated = 0usize;
        let mut failed = Vec::new();
        for id in ids {
            let outcome = store.finding(&who, id).and_then(|f| match f {
                Some(f) => store
                    .set_triage(&who, f.asset_id, &f.vuln_id, &f.purl, &input)
                    .map(|_| ()),
                None => Err(bulwark_store::StoreError::NotFound(format!("finding {id}"))),
            });
            match outcome {
                Ok(()) => updated += 1,
                Err(bulwark_store::StoreError::Invalid(m)) => {
                    return Err(ApiError::unprocessable(m))
                }
                Err(_) => failed.push(id),
            }
        }
        Ok((updated, failed))
    })
    .await?;
    let mut notice = format!("Triaged {updated} finding(s) as {}.", triage_state.as_str());
    if !failed.is_empty() {
        notice.push_str(&format!(
            " {} could not be triaged (gone or not your team's).",
            failed.len()
        ));
    }
    let (path, query) = back.split_once('?').unwrap_or((back.as_str(), ""));
    let mut q: Q = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    q.insert("notice".into(), notice);
    Ok(Redirect::to(&format!("{path}{}", query_with(&q, &[]))).into_response())
}

/// `GET /settings` (admins): teams, API tokens (names and scopes, never secrets),
/// notification rules (type and events only: their URLs and secrets are credentials) and the
/// advisory database's state.
pub async fn settings(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<Q>,
) -> Result<Response, PageError> {
    if !session.principal.has(Scope::Admin) || session.principal.team.is_some() {
        return Err(PageError(ApiError::forbidden(
            "settings are for unrestricted admins; ask one",
        )));
    }
    let store = state.store.clone();
    let who = session.principal.clone();
    let dir = state.config.advisory_dir();
    let (teams, tokens, rules, advisories) = blocking(move || {
        let teams = store.list_teams(&who)?;
        let tokens = store.list_tokens(&who)?;
        let rules = store.rules(&who)?;
        let advisories = match bulwark_vulndb::Store::open(&dir) {
            Ok(db) => match db.metadata() {
                Ok(m) => format!(
                    "{} advisories, {} KEV entries, {} EPSS scores; updated {}",
                    m.advisories, m.kev, m.epss, m.updated_at
                ),
                Err(e) => format!("unreadable: {e}"),
            },
            Err(bulwark_vulndb::Error::NotFound(_)) => {
                "missing: run `bulwark db update --db-dir <data-dir>/advisories` or POST /api/v1/advisories/import".into()
            }
            Err(e) => format!("unreadable: {e}"),
        };
        Ok((teams, tokens, rules, advisories))
    })
    .await?;
    let mut body = String::from("<h1>Settings</h1>");
    if let Some(notice) = q.get("notice") {
        body.push_str(&format!(
            "<p class=\"notice\" role=\"status\" id=\"test-result\">{}</p>",
            esc(notice)
        ));
    }
    body.push_str(&format!(
        "<section><h2>Advisory database</h2><p data-advisories>{}</p></section>",
        esc(&advisories)
    ));
    body.push_str("<section><h2 id=\"teams\">Teams</h2>");
    if teams.is_empty() {
        body.push_str("<p>No teams yet (they come from uploads' labels and projects, or <code>POST /api/v1/teams</code>).</p>");
    } else {
        body.push_str("<ul>");
        for t in &teams {
            body.push_str(&format!(
                "<li><a href=\"{}\">{}</a></li>",
                esc(&query_with(&BTreeMap::new(), &[("team", &t.name)]))
                    .replacen('?', "/assets?", 1),
                esc(&t.name)
            ));
        }
        body.push_str("</ul>");
    }
    body.push_str("</section><section><h2 id=\"tokens\">API tokens</h2><div class=\"scroll\"><table class=\"list\" aria-labelledby=\"tokens\"><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Scopes</th><th scope=\"col\">Team</th><th scope=\"col\">Created</th><th scope=\"col\">Last used</th><th scope=\"col\">Revoked</th></tr></thead><tbody>");
    for t in &tokens {
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&t.name),
            esc(&t
                .scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")),
            esc(t.team.as_ref().map(|t| t.name.as_str()).unwrap_or("all")),
            when(t.created_at),
            t.last_used_at.map(when).unwrap_or_else(|| "never".into()),
            t.revoked_at.map(when).unwrap_or_default()
        ));
    }
    body.push_str("</tbody></table></div><p class=\"muted\">Tokens are stored hashed; a new one is shown once, by <code>POST /api/v1/tokens</code>.</p></section>");
    body.push_str("<section><h2 id=\"rules\">Notification rules</h2>");
    if rules.is_empty() {
        body.push_str("<p>No rules (<code>server.notifications</code> in the config file, or <code>POST /api/v1/notifications/rules</code>).</p>");
    } else {
        body.push_str("<div class=\"scroll\"><table class=\"list\" aria-labelledby=\"rules\"><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Publisher</th><th scope=\"col\">Events</th><th scope=\"col\">Enabled</th><th scope=\"col\">Test</th></tr></thead><tbody>");
        for r in &rules {
            let kind = r.config["type"].as_str().unwrap_or("?");
            let on = r.config["on"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            body.push_str(&format!(
                "<tr data-rule=\"{id}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td><form method=\"post\" action=\"/settings/rules/{id}/test\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
                 <button type=\"submit\" aria-label=\"Send a test event through {}\">Send test</button></form></td></tr>",
                esc(&r.name),
                esc(kind),
                esc(&on),
                if r.enabled { "yes" } else { "no" },
                esc(&session.csrf),
                esc(&r.name),
                id = r.id,
            ));
        }
        body.push_str("</tbody></table></div>");
    }
    body.push_str("</section>");
    Ok(html::page(
        StatusCode::OK,
        "Settings",
        Some(&session.frame("settings")),
        &body,
    ))
}

/// `POST /settings/rules/{id}/test` (unrestricted admins, CSRF-checked): sends the test event
/// through the rule's publisher, as `POST /api/v1/notifications/rules/{id}/test` does, then
/// back to the settings with the result.
pub async fn send_test(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = Form::parse(&body);
    session.check_csrf(&form)?;
    if !session.principal.has(Scope::Admin) || session.principal.team.is_some() {
        return Err(PageError(ApiError::forbidden(
            "settings are for unrestricted admins; ask one",
        )));
    }
    let result = crate::api::notifications::send_test(&state, &session.principal, id).await?;
    let mut notice = format!("Test event to rule {id}: {}", result.status);
    if let Some(code) = result.http_status {
        notice.push_str(&format!(", HTTP {code}"));
    }
    notice.push_str(&format!(", {} ms", result.millis));
    if let Some(error) = &result.error {
        notice.push_str(&format!(": {error}"));
    }
    notice.push('.');
    let mut q = Q::new();
    q.insert("notice".into(), notice);
    Ok(Redirect::to(&format!("/settings{}#rules", query_with(&q, &[]))).into_response())
}
