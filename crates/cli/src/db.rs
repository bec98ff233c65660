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
    for line in summary.lines() {
        eprintln!("{line}");
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
            print!("{}", meta.status_text(&dir));
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
