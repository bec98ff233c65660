//! Writing to a registry: blob uploads (monolithic POST then PUT) and manifest PUTs. Used to
//! store signatures next to images.

use bulwark_types::{Digest, DigestAlgorithm};
use sha2::Digest as _;

use super::client::{RegistryClient, RequestBody};
use super::{Method, RegistryError};

/// The scope a push needs.
pub fn push_scope(repository: &str) -> String {
    format!("repository:{repository}:pull,push")
}

/// Uploads `bytes` as a blob of `repository` unless the registry has it; returns its digest.
pub fn upload_blob(
    client: &RegistryClient,
    repository: &str,
    bytes: &[u8],
) -> Result<Digest, RegistryError> {
    let digest = Digest::new(DigestAlgorithm::Sha256, &sha2::Sha256::digest(bytes));
    let scope = push_scope(repository);
    let head = client.send(
        Method::Head,
        &format!("/v2/{repository}/blobs/{digest}"),
        &scope,
        &RequestBody::default(),
    );
    if head.is_ok() {
        return Ok(digest);
    }
    let started = client.send(
        Method::Post,
        &format!("/v2/{repository}/blobs/uploads/"),
        &scope,
        &RequestBody {
            headers: Vec::new(),
            body: Some(&[]),
        },
    )?;
    let location = started
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            RegistryError::Protocol(format!(
                "{} started an upload without a Location",
                client.host()
            ))
        })?;
    let location = if location.starts_with('/') {
        client.url(location)
    } else {
        location.to_string()
    };
    let sep = if location.contains('?') { '&' } else { '?' };
    client.send(
        Method::Put,
        &format!("{location}{sep}digest={digest}"),
        &scope,
        &RequestBody {
            headers: vec![("Content-Type", "application/octet-stream".to_string())],
            body: Some(bytes),
        },
    )?;
    Ok(digest)
}

/// PUTs a manifest under `reference` (a tag or its digest).
pub fn put_manifest(
    client: &RegistryClient,
    repository: &str,
    reference: &str,
    media_type: &str,
    bytes: &[u8],
) -> Result<(), RegistryError> {
    client.send(
        Method::Put,
        &format!("/v2/{repository}/manifests/{reference}"),
        &push_scope(repository),
        &RequestBody {
            headers: vec![("Content-Type", media_type.to_string())],
            body: Some(bytes),
        },
    )?;
    Ok(())
}
