//! `bulwark sign` and `bulwark verify` (the cosign format is `bulwark_scan::signature`'s).

use anyhow::Result;

pub use crate::cli::{SignArgs, VerifyArgs};

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
