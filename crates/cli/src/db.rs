//! `bulwark db`: build, refresh and inspect the vulnerability database.

use std::io::IsTerminal;

pub use crate::cli::{DbArgs, DbCommand};
use crate::progress::DbBar;
use crate::EXIT_OK;
use anyhow::Result;
use bulwark_policy::settings::Settings;
use bulwark_vulndb::{
    check_age, import_paths, update, AgePolicy, ImportSummary, Store, UpdateOptions,
};

fn print_summary(summary: &ImportSummary) {
    for line in summary.lines() {
        eprintln!("{line}");
    }
}

/// `settings` are `bulwark db`'s (the database directory), `update` `update_settings` those of `db update`.
pub fn run(args: DbArgs, settings: &Settings, update_settings: Option<&Settings>) -> Result<u8> {
    let given = settings.path("db_dir").or(args.db_dir.as_deref());
    let dir = bulwark_scan::from_settings::db_dir(given, dirs::cache_dir().as_deref())?;
    let bar = DbBar::new(std::io::stderr().is_terminal());
    match args.command {
        DbCommand::Update(_) => {
            let defaults = UpdateOptions::from_env();
            let opts = bulwark_scan::from_settings::update_options(
                update_settings.unwrap_or(settings),
                defaults,
            );
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
