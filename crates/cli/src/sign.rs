//! `bulwark sign` and `bulwark verify`: cosign-compatible image signatures with a key pair.
//!
//! The format is cosign's (sigstore/cosign `specs/SIGNATURE_SPEC.md`): the signature of the
//! image whose manifest digest is `sha256:HEX` lives in the same repository under the tag
//! `sha256-HEX.sig`, as an OCI manifest whose layers are "simple signing" payloads
//! (`application/vnd.dev.cosign.simplesigning.v1+json`), each with its base64 signature in
//! the layer annotation `dev.cosignproject.cosign/signature`. The payload names the image
//! digest, so a signature copied onto another image does not verify.
//!
//! Keys are PEM: private keys as PKCS#8 (`openssl genpkey`), SEC1 (`EC PRIVATE KEY`) or PKCS#1
//! (`RSA PRIVATE KEY`); public keys as SPKI (`PUBLIC KEY`, which is also cosign's `cosign.pub`
//! form). ECDSA P-256 with SHA-256 (cosign's default), Ed25519, and RSA PKCS#1 v1.5 with
//! SHA-256. cosign's own password-encrypted private keys are not read.

use std::path::Path;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine as _;
use bulwark_image::registry::{
    self, fetch_manifest, fetch_small_blob, push, ImageName, RegistryClient,
};
use bulwark_image::{ImageError, SourceKind, SourceRef};
use bulwark_types::Digest;
use serde_json::{json, Value};

use crate::cli::RegistryArgs;
pub use crate::cli::{SignArgs, VerifyArgs};

pub const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
const PAYLOAD_TYPE: &str = "cosign container image signature";

/// Exit code of `verify` when no signature verifies (errors are 2).
pub const EXIT_UNVERIFIED: u8 = 1;

enum PrivateKey {
    P256(p256::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
    Rsa(Box<rsa::RsaPrivateKey>),
}

enum PublicKey {
    P256(p256::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    Rsa(Box<rsa::RsaPublicKey>),
}

fn read_pem(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read the key {}", path.display()))
}

fn load_private(path: &Path) -> Result<PrivateKey> {
    use pkcs8::DecodePrivateKey;
    use rsa::pkcs1::DecodeRsaPrivateKey;
    let pem = read_pem(path)?;
    if pem.contains("ENCRYPTED SIGSTORE PRIVATE KEY")
        || pem.contains("ENCRYPTED COSIGN PRIVATE KEY")
    {
        bail!(
            "{} is a cosign password-encrypted key, which bulwark does not read; use a PEM key made with e.g. `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pem`",
            path.display()
        );
    }
    if pem.contains("BEGIN ENCRYPTED PRIVATE KEY") {
        bail!(
            "{} is an encrypted PKCS#8 key; decrypt it first (`openssl pkey -in {} -out plain.pem`)",
            path.display(),
            path.display()
        );
    }
    if pem.contains("BEGIN EC PRIVATE KEY") {
        let key = p256::SecretKey::from_sec1_pem(&pem)
            .map_err(|e| anyhow!("{}: not a P-256 EC private key: {e}", path.display()))?;
        return Ok(PrivateKey::P256(key.into()));
    }
    if pem.contains("BEGIN RSA PRIVATE KEY") {
        let key = rsa::RsaPrivateKey::from_pkcs1_pem(&pem)
            .map_err(|e| anyhow!("{}: not a valid RSA private key: {e}", path.display()))?;
        return Ok(PrivateKey::Rsa(Box::new(key)));
    }
    if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_pem(&pem) {
        return Ok(PrivateKey::P256(k));
    }
    if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_pem(&pem) {
        return Ok(PrivateKey::Ed25519(k));
    }
    if let Ok(k) = rsa::RsaPrivateKey::from_pkcs8_pem(&pem) {
        return Ok(PrivateKey::Rsa(Box::new(k)));
    }
    bail!(
        "{} is not a supported private key: expected PEM PKCS#8, SEC1 or PKCS#1 for ECDSA P-256, Ed25519 or RSA",
        path.display()
    )
}

fn load_public(path: &Path) -> Result<PublicKey> {
    use spki::DecodePublicKey;
    let pem = read_pem(path)?;
    if pem.contains("PRIVATE KEY") {
        bail!(
            "{} is a private key; verify with the public key (`openssl pkey -in KEY -pubout`)",
            path.display()
        );
    }
    if let Ok(k) = p256::ecdsa::VerifyingKey::from_public_key_pem(&pem) {
        return Ok(PublicKey::P256(k));
    }
    if let Ok(k) = ed25519_dalek::VerifyingKey::from_public_key_pem(&pem) {
        return Ok(PublicKey::Ed25519(k));
    }
    if let Ok(k) = rsa::RsaPublicKey::from_public_key_pem(&pem) {
        return Ok(PublicKey::Rsa(Box::new(k)));
    }
    bail!(
        "{} is not a supported public key: expected PEM `PUBLIC KEY` (SPKI) for ECDSA P-256, Ed25519 or RSA",
        path.display()
    )
}

impl PrivateKey {
    fn sign(&self, payload: &[u8]) -> Result<Vec<u8>> {
        use p256::ecdsa::signature::{SignatureEncoding, Signer};
        Ok(match self {
            PrivateKey::P256(k) => {
                let sig: p256::ecdsa::Signature = k.sign(payload);
                sig.to_der().as_bytes().to_vec()
            }
            PrivateKey::Ed25519(k) => k.sign(payload).to_bytes().to_vec(),
            PrivateKey::Rsa(k) => {
                let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new((**k).clone());
                signer.sign(payload).to_vec()
            }
        })
    }
}

impl PublicKey {
    fn verify(&self, payload: &[u8], signature: &[u8]) -> bool {
        use p256::ecdsa::signature::Verifier;
        match self {
            PublicKey::P256(k) => {
                let sig = p256::ecdsa::Signature::from_der(signature)
                    .or_else(|_| p256::ecdsa::Signature::from_slice(signature));
                sig.is_ok_and(|s| k.verify(payload, &s).is_ok())
            }
            PublicKey::Ed25519(k) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|s| k.verify(payload, &s).is_ok()),
            PublicKey::Rsa(k) => {
                let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new((**k).clone());
                rsa::pkcs1v15::Signature::try_from(signature)
                    .is_ok_and(|s| verifier.verify(payload, &s).is_ok())
            }
        }
    }
}

fn registry_name(reference: &str) -> Result<ImageName> {
    let source = SourceRef::parse(reference)?;
    match (source.kind, source.registry) {
        (SourceKind::Registry, Some(name)) => Ok(name),
        _ => bail!(
            "{reference} is not a registry image; signatures live in registries (name it HOST/REPO:TAG or registry:HOST/REPO:TAG)"
        ),
    }
}

/// The repository as cosign writes it in `docker-reference`.
fn docker_reference(name: &ImageName) -> String {
    let host = if name.registry == registry::DOCKER_HUB {
        "index.docker.io"
    } else {
        &name.registry
    };
    format!("{host}/{}", name.repository)
}

/// The simple-signing payload, byte for byte as cosign marshals it.
fn payload(name: &ImageName, digest: &Digest) -> Vec<u8> {
    format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"{}"}},"image":{{"docker-manifest-digest":"{digest}"}},"type":"{PAYLOAD_TYPE}"}},"optional":null}}"#,
        docker_reference(name)
    )
    .into_bytes()
}

fn signature_tag(digest: &Digest) -> String {
    format!("{}-{}.sig", digest.algorithm().as_str(), digest.hex())
}

fn client(name: &ImageName, args: &RegistryArgs) -> Result<Arc<RegistryClient>> {
    let options = crate::registry_cmd::options(args)?;
    Ok(Arc::new(options.client_for(name)?))
}

pub fn sign(args: SignArgs) -> Result<u8> {
    let key = load_private(&args.key)?;
    let name = registry_name(&args.reference)?;
    let client = client(&name, &args.registry)?;
    let image = fetch_manifest(&client, &name.repository, &name.reference())?;
    let payload = payload(&name, &image.digest);
    let signature = base64::engine::general_purpose::STANDARD.encode(key.sign(&payload)?);

    let payload_digest = push::upload_blob(&client, &name.repository, &payload)?;
    let config = json!({
        "architecture": "",
        "created": "0001-01-01T00:00:00Z",
        "history": [{"created": "0001-01-01T00:00:00Z"}],
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": [payload_digest.to_string()]},
        "config": {}
    })
    .to_string()
    .into_bytes();
    let config_digest = push::upload_blob(&client, &name.repository, &config)?;
    let layer = json!({
        "mediaType": SIMPLE_SIGNING,
        "size": payload.len(),
        "digest": payload_digest.to_string(),
        "annotations": {SIGNATURE_ANNOTATION: signature}
    });
    // Signatures already there stay: cosign appends a layer per signature.
    let tag = signature_tag(&image.digest);
    let mut layers = match existing_signatures(&client, &name, &tag)? {
        Some(manifest) => manifest["layers"].as_array().cloned().unwrap_or_default(),
        None => Vec::new(),
    };
    layers.retain(|l| l["digest"] != layer["digest"] || l["annotations"] != layer["annotations"]);
    layers.push(layer);
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": registry::OCI_MANIFEST,
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "size": config.len(),
            "digest": config_digest.to_string()
        },
        "layers": layers
    })
    .to_string()
    .into_bytes();
    push::put_manifest(
        &client,
        &name.repository,
        &tag,
        registry::OCI_MANIFEST,
        &manifest,
    )?;
    eprintln!(
        "bulwark: signed {}@{} ({} signature{} under tag {tag})",
        docker_reference(&name),
        image.digest,
        layers_len(&manifest),
        if layers_len(&manifest) == 1 { "" } else { "s" }
    );
    Ok(0)
}

fn layers_len(manifest: &[u8]) -> usize {
    serde_json::from_slice::<Value>(manifest)
        .ok()
        .and_then(|m| m["layers"].as_array().map(|l| l.len()))
        .unwrap_or(0)
}

fn existing_signatures(
    client: &RegistryClient,
    name: &ImageName,
    tag: &str,
) -> Result<Option<Value>> {
    match fetch_manifest(client, &name.repository, tag) {
        Ok(m) => Ok(Some(serde_json::from_slice(&m.bytes).with_context(
            || format!("the signature manifest {tag} is not JSON"),
        )?)),
        Err(ImageError::BadReference(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The outcome of checking an image's signatures against one key.
pub struct Verdict {
    pub digest: Digest,
    /// How many signatures verified.
    pub verified: usize,
    /// Why the others did not (or why there were none).
    pub problems: Vec<String>,
}

/// Checks the signatures of `name` (as its tag points now) against `key`.
fn check(
    client: &RegistryClient,
    name: &ImageName,
    key: &PublicKey,
    key_path: &Path,
) -> Result<Verdict> {
    let image = fetch_manifest(client, &name.repository, &name.reference())?;
    let tag = signature_tag(&image.digest);
    let Some(manifest) = existing_signatures(client, name, &tag)? else {
        return Ok(Verdict {
            digest: image.digest,
            verified: 0,
            problems: vec![format!("has no signature (no tag {tag})")],
        });
    };
    let mut problems = Vec::new();
    let mut verified = 0;
    for layer in manifest["layers"].as_array().into_iter().flatten() {
        if layer["mediaType"] != SIMPLE_SIGNING {
            continue;
        }
        let Some(sig_b64) = layer["annotations"][SIGNATURE_ANNOTATION].as_str() else {
            problems.push("a signature layer without the signature annotation".to_string());
            continue;
        };
        let Ok(signature) = base64::engine::general_purpose::STANDARD.decode(sig_b64) else {
            problems.push("a signature annotation that is not base64".to_string());
            continue;
        };
        let Some(Ok(payload_digest)) = layer["digest"].as_str().map(|d| d.parse::<Digest>()) else {
            problems.push("a signature layer without a valid digest".to_string());
            continue;
        };
        let payload = fetch_small_blob(
            client,
            &name.repository,
            &payload_digest,
            "signature payload",
        )?;
        if !key.verify(&payload, &signature) {
            problems.push(format!(
                "signature over payload {} does not verify with {}",
                payload_digest.short(),
                key_path.display()
            ));
            continue;
        }
        let claims: Value = match serde_json::from_slice(&payload) {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!("a signed payload that is not JSON: {e}"));
                continue;
            }
        };
        if claims["critical"]["type"] != PAYLOAD_TYPE {
            problems.push(format!(
                "a signed payload of type {} (expected {PAYLOAD_TYPE:?})",
                claims["critical"]["type"]
            ));
            continue;
        }
        let signed_digest = claims["critical"]["image"]["docker-manifest-digest"].as_str();
        if signed_digest != Some(image.digest.to_string().as_str()) {
            problems.push(format!(
                "a valid signature for another image ({}), not this one ({}): the image was changed or the signature copied",
                signed_digest.unwrap_or("none"),
                image.digest
            ));
            continue;
        }
        verified += 1;
    }
    if verified == 0 && problems.is_empty() {
        problems.push("no signature layers".to_string());
    }
    Ok(Verdict {
        digest: image.digest,
        verified,
        problems,
    })
}

pub fn verify(args: VerifyArgs) -> Result<u8> {
    let key = load_public(&args.key)?;
    let name = registry_name(&args.reference)?;
    let client = client(&name, &args.registry)?;
    let verdict = check(&client, &name, &key, &args.key)?;
    if verdict.verified == 0 {
        eprintln!(
            "bulwark: verification failed: {}@{} {}",
            docker_reference(&name),
            verdict.digest,
            verdict.problems.join("; ")
        );
        return Ok(EXIT_UNVERIFIED);
    }
    eprintln!(
        "bulwark: verified {}@{}: {} signature{} valid with {}",
        docker_reference(&name),
        verdict.digest,
        verdict.verified,
        if verdict.verified == 1 { "" } else { "s" },
        args.key.display()
    );
    println!("{}", verdict.digest);
    Ok(0)
}

/// The `--require-signature KEY` gate of `bulwark image`: the image must carry a signature
/// that verifies with `key`. Returns the reference pinned to the verified digest, so the scan
/// reads exactly the image that was verified even if the tag moves meanwhile.
pub fn require_signature(
    reference: &SourceRef,
    key_path: &Path,
    options: &registry::RegistryOptions,
) -> Result<SourceRef> {
    let key = load_public(key_path)?;
    let Some(name) = reference.registry.clone() else {
        bail!(
            "--require-signature: {} is not a registry image; signatures are checked only for registry images",
            reference.display_name()
        );
    };
    let client = options.client_for(&name)?;
    let verdict = check(&client, &name, &key, key_path)?;
    if verdict.verified == 0 {
        bail!(
            "signature required (--require-signature {}) but {}@{} {}",
            key_path.display(),
            docker_reference(&name),
            verdict.digest,
            verdict.problems.join("; ")
        );
    }
    let mut pinned = name;
    pinned.digest = Some(verdict.digest);
    Ok(SourceRef::registry(pinned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_is_cosigns_simple_signing() {
        let name = ImageName::parse("nginx:1.25").unwrap();
        let d: Digest = format!("sha256:{}", "ab".repeat(32)).parse().unwrap();
        let p = String::from_utf8(payload(&name, &d)).unwrap();
        let v: Value = serde_json::from_str(&p).unwrap();
        assert_eq!(
            v["critical"]["identity"]["docker-reference"],
            "index.docker.io/library/nginx"
        );
        assert_eq!(
            v["critical"]["image"]["docker-manifest-digest"],
            d.to_string()
        );
        assert_eq!(v["critical"]["type"], PAYLOAD_TYPE);
        assert!(v["optional"].is_null());
        assert_eq!(signature_tag(&d), format!("sha256-{}.sig", "ab".repeat(32)));
    }
}
