//! Benchmark: `vulndb-bench ADVISORIES_DIR WORK_DIR` imports the directory, then measures
//! the store size, open time and the time to match 10,000 generated packages. Prints Markdown.
//! `vulndb-bench tls-probe BASE_URL` runs an update against BASE_URL (a 404 after a completed
//! TLS handshake proves the CA bundle is honoured).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bulwark_types::{Ecosystem, LayerRef, OsFamily, OsRelease, Package, PackageSource, Purl};
use bulwark_vulndb::{
    import_paths, match_packages, update, MatchOptions, NoProgress, Store, UpdateOptions,
};

fn pkg(eco: Ecosystem, name: &str, version: &str, source: Option<&str>) -> Package {
    Package {
        ecosystem: eco,
        name: name.into(),
        version: version.into(),
        arch: None,
        source: source.map(|s| PackageSource {
            name: s.into(),
            version: version.into(),
        }),
        licenses: Vec::new(),
        purl: Purl::new(eco.purl_type(), None, name, Some(version)),
        layer: LayerRef {
            index: 0,
            diff_id: None,
            created_by: None,
        },
        found_in: Vec::new(),
        files: Vec::new(),
        dev: false,
        inferred: false,
        evidence: Default::default(),
        role: Default::default(),
        dependencies: Vec::new(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("tls-probe") {
        let base = args
            .get(2)
            .cloned()
            .unwrap_or_else(|| "https://index.crates.io".into());
        let dir = std::env::temp_dir().join(format!("vulndb-tls-probe-{}", std::process::id()));
        let opts = UpdateOptions {
            ecosystems: vec!["config.json".into()],
            osv_base_url: base,
            kev_url: None,
            epss_url: None,
            ..UpdateOptions::default()
        };
        match update(&dir, &opts, &NoProgress) {
            Ok(_) => println!("unexpected success"),
            Err(e) => println!("{e}"),
        }
        return;
    }
    let src = PathBuf::from(
        args.get(1)
            .expect("usage: vulndb-bench ADVISORIES_DIR WORK_DIR"),
    );
    let work = PathBuf::from(
        args.get(2)
            .expect("usage: vulndb-bench ADVISORIES_DIR WORK_DIR"),
    );
    let db = work.join("db");
    let _ = std::fs::remove_dir_all(&db);

    let t = Instant::now();
    let summary = import_paths(&db, std::slice::from_ref(&src), &NoProgress).expect("import");
    let import_time = t.elapsed();

    let mut opens = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let s = Store::open(&db).expect("open");
        opens.push(t.elapsed());
        drop(s);
    }
    opens.sort();
    let store = Store::open(&db).unwrap();
    let meta = store.metadata().unwrap();

    let packages = generate(&db.join(bulwark_vulndb::DB_FILE), 10_000);
    let os = OsRelease {
        family: OsFamily::Debian,
        id: "debian".into(),
        version_id: Some("12".into()),
        version_codename: Some("bookworm".into()),
        pretty_name: None,
        source_path: "/etc/os-release".into(),
    };
    // Cold (first) and warm runs, each on a fresh handle.
    let mut runs = Vec::new();
    let mut last = None;
    for _ in 0..3 {
        let store = Store::open(&db).unwrap();
        let t = Instant::now();
        let out = match_packages(&store, Some(&os), &packages, &MatchOptions::default());
        runs.push(t.elapsed());
        last = Some(out);
    }
    let out = last.unwrap();
    let hit_pkgs = {
        let mut v: Vec<_> = out
            .findings
            .iter()
            .map(|f| f.package.purl.to_string())
            .collect();
        v.sort();
        v.dedup();
        v.len()
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("| metric | value |\n|---|---|");
    println!("| input | `{}` |", src.display());
    println!(
        "| advisories / affected rows / KEV / EPSS | {} / {} / {} / {} |",
        meta.advisories, meta.affected, meta.kev, meta.epss
    );
    println!(
        "| skipped records | {} ({:?}) |",
        summary.skipped().total(),
        summary.skipped().0
    );
    println!(
        "| store size | {:.2} MiB |",
        meta.size_bytes as f64 / 1048576.0
    );
    println!("| `db import` time | {:.0} ms |", ms(import_time));
    println!(
        "| open time (median of 20 / max) | {:.2} ms / {:.2} ms |",
        ms(opens[10]),
        ms(opens[19])
    );
    println!(
        "| packages matched | {} ({} distinct names from the data) |",
        packages.len(),
        distinct(&packages)
    );
    println!(
        "| match time (run 1 / 2 / 3) | {:.0} ms / {:.0} ms / {:.0} ms |",
        ms(runs[0]),
        ms(runs[1]),
        ms(runs[2])
    );
    println!(
        "| findings / packages with findings / unmatched | {} / {} / {} |",
        out.findings.len(),
        hit_pkgs,
        out.unmatched.len()
    );
}

fn distinct(p: &[Package]) -> usize {
    let mut v: Vec<_> = p.iter().map(|p| (p.ecosystem, p.name.as_str())).collect();
    v.sort();
    v.dedup();
    v.len()
}

/// 10,000 packages: names from the store's affected table, versions from its ranges (a fixed
/// version, the one just below it when easy, and a few fixed old ones), round-robin.
fn generate(db: &Path, n: usize) -> Vec<Package> {
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut stmt = conn
        .prepare("SELECT ecosystem, name, min(ranges) FROM affected WHERE ecosystem IN ('PyPI','npm','Go','crates.io','Maven','Debian:12') GROUP BY ecosystem, name")
        .unwrap();
    let rows: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut out = Vec::with_capacity(n);
    let old = ["0.1.0", "1.0.0", "1.2.3", "2.0.0", "3.1.4"];
    let mut i = 0;
    while out.len() < n {
        let (eco, name, ranges) = &rows[i % rows.len()];
        let round = i / rows.len();
        let fixed: Option<String> = serde_json::from_str::<serde_json::Value>(ranges)
            .ok()
            .and_then(|v| {
                v.as_array()?.iter().find_map(|r| {
                    r.get("e")?.as_array()?.iter().find_map(|e| {
                        let e = e.as_array()?;
                        (e.first()?.as_str()? == "f")
                            .then(|| e.get(1)?.as_str().map(str::to_string))
                            .flatten()
                    })
                })
            });
        let version = match (round % 3, &fixed) {
            (0, Some(f)) => f.clone(),
            _ => old[round % old.len()].to_string(),
        };
        let p = match eco.as_str() {
            "PyPI" => pkg(Ecosystem::PyPI, name, &version, None),
            "npm" => pkg(Ecosystem::Npm, name, &version, None),
            "Go" => pkg(
                Ecosystem::Go,
                name,
                &format!("v{}", version.trim_start_matches('v')),
                None,
            ),
            "crates.io" => pkg(Ecosystem::Cargo, name, &version, None),
            "Maven" => pkg(Ecosystem::Maven, name, &version, None),
            _ => pkg(
                Ecosystem::Deb,
                &format!("lib{name}"),
                &format!("{version}-1"),
                Some(name),
            ),
        };
        out.push(p);
        i += 1;
    }
    out
}
