//! `bulwark db`: build, refresh and inspect the vulnerability database.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;

pub use crate::cli::{DbArgs, DbCommand, UpdateArgs};
use anyhow::{Context, Result};
use bulwark_vulndb::{
    check_age, import_paths, update, AgePolicy, ImportSummary, Progress, Store, UpdateOptions,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

const EXIT_OK: u8 = 0;

/// The database directory: `--db-dir`, `$BULWARK_DB_DIR`, or `<cache dir>/bulwark/db`.
pub fn db_dir(arg: Option<PathBuf>) -> Result<PathBuf> {
    match arg {
        Some(d) => Ok(d),
        None => dirs::cache_dir()
            .map(|d| d.join("bulwark").join("db"))
            .context("no cache directory on this system: pass --db-dir or set BULWARK_DB_DIR"),
    }
}

/// Progress bars on stderr when it is a terminal; nothing otherwise.
struct Bar {
    bar: Mutex<Option<ProgressBar>>,
    visible: bool,
}

impl Bar {
    fn new() -> Bar {
        Bar {
            bar: Mutex::new(None),
            visible: std::io::stderr().is_terminal(),
        }
    }
}

impl Progress for Bar {
    fn phase(&self, label: &str, total: Option<u64>) {
        if !self.visible {
            return;
        }
        let bar = match total {
            Some(t) => ProgressBar::new(t),
            None => ProgressBar::new_spinner(),
        };
        bar.set_draw_target(ProgressDrawTarget::stderr());
        let template = if label.starts_with("downloading") {
            "{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}"
        } else {
            "{msg} {bar:30} {pos}/{len}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar.set_message(label.to_string());
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(old) = slot.replace(bar) {
                old.finish_and_clear();
            }
        }
    }

    fn advance(&self, done: u64) {
        if let Ok(slot) = self.bar.lock() {
            if let Some(bar) = slot.as_ref() {
                bar.set_position(done);
            }
        }
    }

    fn done(&self) {
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(bar) = slot.take() {
                bar.finish_and_clear();
            }
        }
    }
}

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
    let dir = db_dir(args.db_dir)?;
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
            let summary = update(&dir, &opts, &Bar::new())?;
            print_summary(&summary);
            eprintln!("database updated in {}", dir.display());
            Ok(EXIT_OK)
        }
        DbCommand::Import { paths } => {
            let summary = import_paths(&dir, &paths, &Bar::new())?;
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
            match check_age(&meta, time_now(), &AgePolicy::default()) {
                Ok(None) => {}
                Ok(Some(w)) => eprintln!("warning: {}", w.message),
                Err(e) => eprintln!("warning: {e}"),
            }
            Ok(EXIT_OK)
        }
    }
}

fn time_now() -> bulwark_vulndb::OffsetDateTime {
    bulwark_vulndb::OffsetDateTime::now_utc()
}
