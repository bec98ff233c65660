//! `bulwark server`: flags → [`bulwark_server::ServerConfig`]; the crate does the work.

use std::time::Duration;

use anyhow::{Context, Result};
use clap::ArgMatches;

use crate::cli::ServerArgs;

pub fn run(args: ServerArgs, _matches: &ArgMatches) -> Result<u8> {
    let data_dir = match args.data_dir {
        Some(dir) => dir,
        None => dirs::data_dir()
            .map(|d| d.join("bulwark"))
            .context("no user data directory is known here; give --data-dir DIR")?,
    };
    let mut config = bulwark_server::ServerConfig::new(data_dir);
    config.listen = args.listen;
    config.database = args.database;
    config.max_body_size = args.max_body_size;
    config.request_timeout = Duration::from_secs(args.request_timeout.max(1));
    config.rate_limit = args.rate_limit;
    config.rate_burst = args.rate_burst;
    config.rematch_poll = Duration::from_millis(args.rematch_poll.max(100));
    config.scan_workers = args.scan_workers.max(1);
    if !args.db_update_every.is_finite() || args.db_update_every < 0.0 {
        anyhow::bail!(
            "--db-update-every {}: give a number of hours (0 turns the scheduled update off)",
            args.db_update_every
        );
    }
    config.advisory_update = (args.db_update_every > 0.0).then(|| {
        bulwark_server::state::AdvisoryUpdate {
            // At least a minute: a typo like 0.0001 must not hammer the sources.
            every: Duration::from_secs_f64((args.db_update_every * 3600.0).max(60.0)),
            options: bulwark_vulndb::UpdateOptions::from_env(),
        }
    });
    config.admin_token = std::env::var("BULWARK_ADMIN_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty());
    config.admin_password = std::env::var("BULWARK_ADMIN_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty());
    config.tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Some(bulwark_server::state::TlsFiles { cert, key }),
        _ => None,
    };
    config.config_file = match args.config {
        Some(path) => Some(path),
        None => Some(std::path::PathBuf::from(crate::config::DEFAULT_FILE)).filter(|p| p.exists()),
    };
    bulwark_server::run(config, |started| {
        println!("bulwark server listening on {}", started.url);
        println!("data: {}", started.data_dir.display());
        println!("database: {}", started.database);
        if let Some(token) = &started.admin_token {
            println!("first admin token (shown once; keep it): {token}");
        }
        if let Some(note) = &started.advisories_note {
            println!("{note}");
        }
    })?;
    Ok(crate::EXIT_OK)
}
