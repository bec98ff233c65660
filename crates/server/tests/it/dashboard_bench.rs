//! The dashboard's benchmark (`bash bench/dashboard.sh`; ignored in normal runs): seeds a
//! portfolio straight into the store, then times every page against the JSON API endpoint
//! that returns the same data (the baseline), p50 and p99 over loopback, SQLite and
//! PostgreSQL. Scale from the environment: `DASHBOARD_BENCH_ASSETS` (10,000),
//! `DASHBOARD_BENCH_FINDINGS` per asset (40), `DASHBOARD_BENCH_PACKAGES` per asset (60),
//! `DASHBOARD_BENCH_REPEATS` (30), `DASHBOARD_BENCH_DB` (`sqlite`, `postgres` or `both`).

use std::time::{Duration, Instant};

use bulwark_store::testing::databases;
use bulwark_store::{DatabaseLocation, Principal, Store};
use serde_json::json;

use crate::common::ADMIN;
use crate::dashboard::{start, Browser};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

#[test]
#[ignore = "benchmark: bash bench/dashboard.sh"]
fn bench_dashboard_pages() {
    let assets = env("DASHBOARD_BENCH_ASSETS", 10_000);
    let findings = env("DASHBOARD_BENCH_FINDINGS", 40);
    let packages = env("DASHBOARD_BENCH_PACKAGES", 60);
    let repeats = env("DASHBOARD_BENCH_REPEATS", 30).max(2);
    let which = std::env::var("DASHBOARD_BENCH_DB").unwrap_or_else(|_| "sqlite".into());
    let mut results = Vec::new();
    for db in databases() {
        if which != "both" && db.label() != which {
            continue;
        }
        let server = start(&db);
        let store = Store::open(&DatabaseLocation::parse(&db.url()).unwrap()).unwrap();
        let seeding = Instant::now();
        crate::dashboard_seed::seed(&store, assets, packages, findings);
        // 90 days of snapshots for the trend charts and sparklines.
        let now = bulwark_store::now_ms();
        for d in 0..90 {
            store
                .record_snapshot(&bulwark_store::day_of(now - d * 86_400_000))
                .unwrap();
        }
        let seeded = seeding.elapsed();
        eprintln!(
            "{}: seeded {assets} assets x {findings} findings in {seeded:?}",
            db.label()
        );
        let who = Principal::system("bench");
        let middle = store
            .asset_by_name(&who, &format!("registry.example/app-{:05}", assets / 2))
            .unwrap()
            .unwrap();
        let version = middle.latest_version.clone().unwrap();
        let top = store
            .findings(
                &who,
                version.id,
                &Default::default(),
                Default::default(),
                bulwark_store::Page::new(1, 0),
            )
            .unwrap();
        let finding = top.items[0].clone();
        let uuid = middle.uuid.clone();
        let vuln = finding.vuln_id.clone();

        let mut b = Browser::new(&server.url);
        b.login();
        let pages: Vec<(&str, String, bool)> = vec![
            ("overview", "/".into(), false),
            ("overview 90 days", "/?days=90".into(), false),
            ("portfolio by severity", "/assets".into(), false),
            (
                "portfolio by KEV, page 100",
                "/assets?sort=kev&offset=5000".into(),
                false,
            ),
            ("portfolio name filter", "/assets?q=app-0999".into(), false),
            ("asset (layers)", format!("/assets/{uuid}"), false),
            ("vulnerability", format!("/vulns/{vuln}"), false),
            ("finding trail", format!("/findings/{}", finding.id), false),
            ("compliance (CIS Docker)", "/compliance".into(), false),
            (
                "compliance (NIST SP 800-190)",
                "/compliance?framework=nist-800-190".into(),
                false,
            ),
            (
                "compliance evidence, page 20",
                "/compliance?framework=cis-docker&control=4.1&offset=1000".into(),
                false,
            ),
            ("settings", "/settings".into(), false),
            (
                "API: portfolio page (baseline)",
                "/api/v1/assets?sort=severity&limit=50".into(),
                true,
            ),
            (
                "API: asset findings (baseline)",
                format!("/api/v1/assets/{uuid}/findings"),
                true,
            ),
            (
                "API: vulnerability assets (baseline)",
                format!("/api/v1/vulnerabilities/{vuln}/assets?limit=50"),
                true,
            ),
        ];
        let agent = ureq::Agent::new_with_config(
            ureq::config::Config::builder()
                .http_status_as_error(false)
                .build(),
        );
        for (name, path, api) in &pages {
            let mut times = Vec::with_capacity(repeats);
            for _ in 0..repeats {
                let started = Instant::now();
                let status = if *api {
                    let mut r = agent
                        .get(format!("{}{path}", server.url))
                        .header("Authorization", format!("Bearer {ADMIN}"))
                        .call()
                        .unwrap();
                    let _ = r.body_mut().read_to_vec();
                    r.status().as_u16()
                } else {
                    b.get(path).status
                };
                times.push(started.elapsed());
                assert_eq!(status, 200, "{name} {path}");
            }
            // The first request (cold caches) is reported on its own.
            let cold = times.remove(0).as_secs_f64() * 1000.0;
            times.sort();
            let (p50, p99) = (percentile(&times, 0.5), percentile(&times, 0.99));
            eprintln!(
                "{:>9} {name:<40} p50 {p50:8.1} ms  p99 {p99:8.1} ms  first {cold:8.1} ms",
                db.label()
            );
            results.push(json!({"db": db.label(), "page": name, "path": path, "p50_ms": p50, "p99_ms": p99, "first_ms": cold, "repeats": repeats - 1}));
        }
        results.push(json!({"db": db.label(), "seed_s": seeded.as_secs_f64(), "assets": assets, "findings_per_asset": findings, "packages_per_asset": packages}));
    }
    let out =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/dashboard-bench.json");
    std::fs::write(&out, serde_json::to_vec_pretty(&results).unwrap()).unwrap();
    eprintln!("raw numbers: {}", out.display());
}
