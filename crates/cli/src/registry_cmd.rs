//! Registry settings from flags and environment, and the `bulwark registry` commands.

use std::io::Read;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use bulwark_image::registry::{default_docker_config_dir, Credentials, RegistryOptions};

use crate::cli::RegistryArgs;

/// Turns the flags into library settings. Credentials: `--username` with `--password-stdin`
/// (or `BULWARK_REGISTRY_PASSWORD`); otherwise Docker's `config.json` (`$DOCKER_CONFIG`).
pub fn options(args: &RegistryArgs) -> Result<RegistryOptions> {
    let password = if args.password_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the password from standard input")?;
        let trimmed = text.trim_end_matches(['\r', '\n']).to_string();
        if trimmed.is_empty() {
            bail!("--password-stdin read an empty password");
        }
        Some(trimmed)
    } else {
        std::env::var("BULWARK_REGISTRY_PASSWORD")
            .ok()
            .filter(|p| !p.is_empty())
    };
    let credentials = match (&args.username, password) {
        (Some(user), Some(pass)) => Some(Credentials::basic(user.clone(), pass)),
        (Some(_), None) => bail!(
            "--username needs a password: pass --password-stdin (e.g. `echo $TOKEN | bulwark image REF --username USER --password-stdin`) or set BULWARK_REGISTRY_PASSWORD"
        ),
        (None, Some(_)) if args.password_stdin => {
            bail!("--password-stdin needs --username (or BULWARK_REGISTRY_USERNAME)")
        }
        (None, _) => None,
    };
    for ca in &args.ca_certs {
        if !ca.is_file() {
            bail!(
                "--ca-cert {}: no such file (give a PEM CA certificate)",
                ca.display()
            );
        }
    }
    let timeout = Duration::from_secs(args.registry_timeout.max(1));
    Ok(RegistryOptions {
        insecure: args.insecure,
        ca_certs: args.ca_certs.clone(),
        credentials,
        docker_config_dir: default_docker_config_dir(),
        connect_timeout: timeout,
        read_timeout: timeout,
        retries: args.registry_retries,
    })
}
