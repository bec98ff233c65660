//! `bulwark db`: build, refresh and inspect the vulnerability database.

use std::io::IsTerminal;

pub use crate::cli::{DbArgs, DbCommand, UpdateArgs};
use crate::progress::DbBar;
use crate::EXIT_OK;
use anyhow::Result;
use bulwark_vulndb::{
    check_age, import_paths, update, AgePolicy, ImportSummary, Store, UpdateOptions,
};

fn print_summary(summary: &ImportSummary) {
    for s in &summary.sources {
        let c = &s.counts;
        let mut what = Vec::new();
        if c.advisories > 0 || (c.kev == 0 && c.epss == 0) {
            what.push(format!(
                "{} advisories ({} affected packages)",
                c.advisories, c.affected
            ));
        }
        if c.kev > 0 {
            what.push(format!("{} KEV entries", c.kev));
        }
        if c.epss > 0 {
            what.push(format!("{} EPSS scores", c.epss));
        }
        eprintln!("{}: {}", s.name, what.join(", "));
        for (reason, n) in &s.skipped.0 {
            eprintln!("  warning: skipped {n}: {reason}");
        }
    }
    for name in &summary.unchanged {
        eprintln!("{name}: unchanged upstream, kept");
    }
    if !summary.ignored_files.is_empty() {
        eprintln!(
            "ignored {} files that are not advisory data",
            summary.ignored_files.len()
        );
    }
}

pub fn run(args: DbArgs) -> Result<u8> {
    let dir = crate::request::db_dir(args.db_dir)?;
    let bar = DbBar::new(std::io::stderr().is_terminal());
    match args.command {
        DbCommand::Update(u) => {
            let mut opts = UpdateOptions::from_env();
            if !u.ecosystems.is_empty() {
                opts.ecosystems = u.ecosystems;
            }
            if let Some(url) = u.osv_url {
                opts.osv_base_url = url;
            }
            if let Some(url) = u.kev_url {
                opts.kev_url = Some(url);
            }
            if let Some(url) = u.epss_url {
                opts.epss_url = Some(url);
            }
            if u.no_kev {
                opts.kev_url = None;
            }
            if u.no_epss {
                opts.epss_url = None;
            }
            opts.max_download_bytes = u.max_download_mib.saturating_mul(1 << 20);
            let summary = update(&dir, &opts, &bar)?;
            print_summary(&summary);
            eprintln!("database updated in {}", dir.display());
            Ok(EXIT_OK)
        }
        DbCommand::Import { paths } => {
            let summary = import_paths(&dir, &paths, &bar)?;
            print_summary(&summary);
            eprintln!("database updated in {}", dir.display());
            Ok(EXIT_OK)
        }
        DbCommand::Status => {
            let store = Store::open(&dir)?;
            let meta = store.metadata()?;
            println!("database:   {}", dir.display());
            println!("schema:     {}", meta.schema_version);
            println!("updated at: {}", meta.updated_at);
            println!(
                "size:       {:.1} MiB",
                meta.size_bytes as f64 / (1 << 20) as f64
            );
            println!(
                "records:    {} advisories, {} affected packages, {} KEV, {} EPSS",
                meta.advisories, meta.affected, meta.kev, meta.epss
            );
            println!("sources:");
            for s in &meta.sources {
                println!(
                    "  {:<40} fetched {}  advisories {}  affected {}  kev {}  epss {}  skipped {}",
                    s.name, s.fetched_at, s.advisories, s.affected, s.kev, s.epss, s.skipped
                );
                println!("    from {}", s.location);
            }
            match check_age(
                &meta,
                bulwark_vulndb::OffsetDateTime::now_utc(),
                &AgePolicy::default(),
            ) {
                Ok(None) => {}
                Ok(Some(w)) => eprintln!("warning: {}", w.message),
                Err(e) => eprintln!("warning: {e}"),
            }
            Ok(EXIT_OK)
        }
    }
}
