//! `bulwark sign` and `bulwark verify` (the cosign format is `bulwark_scan::signature`'s).

use anyhow::Result;

pub use crate::cli::{SignArgs, VerifyArgs};

/// Exit code of `verify` when no signature verifies (errors are 2).
const EXIT_UNVERIFIED: u8 = 1;

/// The registry flags and variables (not bulwark.yaml), and the password.
fn registry_options(m: &clap::ArgMatches) -> Result<bulwark_image::registry::RegistryOptions> {
    let settings = crate::config::Loaded::default().settings(m)?;
    crate::request::registry_options(&settings, m)
}

pub fn sign(args: SignArgs, m: &clap::ArgMatches) -> Result<u8> {
    let options = registry_options(m)?;
    let signed = bulwark_scan::signature::sign(&args.reference, &args.key, &options)?;
    eprintln!(
        "bulwark: signed {}@{} ({} signature{} under tag {})",
        signed.repository,
        signed.digest,
        signed.signatures,
        if signed.signatures == 1 { "" } else { "s" },
        signed.tag
    );
    Ok(crate::EXIT_OK)
}

pub fn verify(args: VerifyArgs, m: &clap::ArgMatches) -> Result<u8> {
    let options = registry_options(m)?;
    let verdict = bulwark_scan::signature::verify(&args.reference, &args.key, &options)?;
    if verdict.verified == 0 {
        eprintln!(
            "bulwark: verification failed: {}@{} {}",
            verdict.repository,
            verdict.digest,
            verdict.problems.join("; ")
        );
        return Ok(EXIT_UNVERIFIED);
    }
    eprintln!(
        "bulwark: verified {}@{}: {} signature{} valid with {}",
        verdict.repository,
        verdict.digest,
        verdict.verified,
        if verdict.verified == 1 { "" } else { "s" },
        args.key.display()
    );
    println!("{}", verdict.digest);
    Ok(crate::EXIT_OK)
}
