//! `bulwark db`: build, refresh and inspect the vulnerability database.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Result;
use bulwark_vulndb::{
    check_age, import_paths, update, AgePolicy, ImportSummary, Store, UpdateOptions,
};
use clap::{Args, Subcommand};

use crate::progress::DbBar;
use crate::EXIT_OK;

#[derive(Debug, Args)]
pub struct DbArgs {
    /// The database directory.
    #[arg(long, value_name = "DIR", env = "BULWARK_DB_DIR", global = true)]
    pub db_dir: Option<PathBuf>,

    #[command(subcommand)]
    pub command: DbCommand,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Download OSV advisories, CISA KEV and EPSS scores and replace the database atomically.
    Update(UpdateArgs),
    /// Import advisory files for air-gapped use: OSV JSON files, directories or zips of them, a
    /// KEV JSON, an EPSS CSV (.csv or .csv.gz), Alpine secdb JSON, Debian tracker CVE/DSA/DLA lists.
    Import {
        /// Files or directories to import.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Show the database's sources, record counts and age.
    Status,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// OSV ecosystem to fetch (repeatable), e.g. PyPI, npm, Go, crates.io, Maven, Debian, Alpine.
    /// Default: the common language ecosystems plus Debian, Alpine and Ubuntu.
    #[arg(
        long = "ecosystem",
        value_name = "ECOSYSTEM",
        value_delimiter = ',',
        env = "BULWARK_DB_ECOSYSTEMS"
    )]
    pub ecosystems: Vec<String>,
    /// Base URL of an OSV mirror (`<URL>/<ECOSYSTEM>/all.zip`).
    #[arg(long, value_name = "URL", env = "BULWARK_DB_OSV_URL")]
    pub osv_url: Option<String>,
    /// URL of the CISA KEV JSON feed.
    #[arg(long, value_name = "URL", env = "BULWARK_DB_KEV_URL")]
    pub kev_url: Option<String>,
    /// URL of the EPSS CSV (.csv.gz) feed.
    #[arg(long, value_name = "URL", env = "BULWARK_DB_EPSS_URL")]
    pub epss_url: Option<String>,
    /// Skip the KEV feed.
    #[arg(long, env = "BULWARK_DB_NO_KEV")]
    pub no_kev: bool,
    /// Skip the EPSS feed.
    #[arg(long, env = "BULWARK_DB_NO_EPSS")]
    pub no_epss: bool,
    /// Largest download accepted, in MiB.
    #[arg(
        long,
        value_name = "MIB",
        default_value_t = 2048,
        env = "BULWARK_DB_MAX_DOWNLOAD_MIB"
    )]
    pub max_download_mib: u64,
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
