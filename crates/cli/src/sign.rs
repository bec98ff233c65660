//! `bulwark sign` and `bulwark verify` (the cosign format is `bulwark_scan::signature`'s).

use std::path::PathBuf;

use anyhow::Result;

use crate::cli::RegistryArgs;

#[derive(Debug, clap::Args)]
pub struct SignArgs {
    /// The image in a registry (`HOST/REPO:TAG`, `registry:…`, `docker://…`).
    pub reference: String,

    /// Private key (PEM: PKCS#8, SEC1 EC or PKCS#1 RSA); ECDSA P-256, Ed25519 or RSA.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The image in a registry (`HOST/REPO:TAG`, `registry:…`, `docker://…`).
    pub reference: String,

    /// Public key (PEM `PUBLIC KEY`, e.g. cosign.pub or `openssl pkey -pubout`).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// Exit code of `verify` when no signature verifies (errors are 2).
const EXIT_UNVERIFIED: u8 = 1;

pub fn sign(args: SignArgs) -> Result<u8> {
    let options = crate::request::registry_options(&args.registry)?;
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

pub fn verify(args: VerifyArgs) -> Result<u8> {
    let options = crate::request::registry_options(&args.registry)?;
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
