//! What the library must not look up itself, looked up here for its requests: the user's
//! cache directory, engine addresses from the environment, Docker's config directory and the
//! registry password (standard input or a variable). The settings → request mapping is
//! `bulwark_scan::from_settings`'s.

use std::io::Read;

use anyhow::{bail, Context, Result};
use bulwark_image::engine::EngineOptions;
use bulwark_image::registry::{default_docker_config_dir, Credentials, RegistryOptions};
use bulwark_policy::settings::Settings;
use bulwark_scan::Host;
use clap::ArgMatches;

/// The host's part of an image request: cache directory, engine defaults, registry options.
pub fn host(s: &Settings, m: &ArgMatches) -> Result<Host> {
    Ok(Host {
        cache_dir: dirs::cache_dir(),
        engine: EngineOptions::default(),
        registry: registry_options(s, m)?,
    })
}

/// Credentials: `--username` with `--password-stdin` (or `BULWARK_REGISTRY_PASSWORD`);
/// otherwise Docker's `config.json` (`$DOCKER_CONFIG`).
pub fn registry_options(s: &Settings, m: &ArgMatches) -> Result<RegistryOptions> {
    let password_stdin = matches!(m.try_get_one::<bool>("password_stdin"), Ok(Some(true)));
    let password = if password_stdin {
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
    let credentials = match (s.text("username"), password) {
        (Some(user), Some(pass)) => Some(Credentials::basic(user.to_string(), pass)),
        (Some(_), None) => bail!(
            "--username needs a password: pass --password-stdin (e.g. `echo $TOKEN | bulwark image REF --username USER --password-stdin`) or set BULWARK_REGISTRY_PASSWORD"
        ),
        (None, Some(_)) if password_stdin => {
            bail!("--password-stdin needs --username (or BULWARK_REGISTRY_USERNAME)")
        }
        (None, _) => None,
    };
    Ok(bulwark_scan::from_settings::registry_options(
        s,
        credentials,
        default_docker_config_dir(),
    )?)
}
