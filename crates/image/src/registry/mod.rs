//! Images in registries, through the OCI distribution v2 API.
//!
//! [`ImageName`] parses a reference (`nginx`, `ghcr.io/org/app@sha256:…`); [`open`] fetches
//! its manifest (choosing a platform from an OCI index or Docker manifest list) and config,
//! and returns an [`Image`] whose layers stream their blobs straight from the registry into
//! the walker, through the same digest, size and `diff_id` checks as local blobs. Nothing is
//! written to disk. A layer the cache already knows is never opened, so a warm rescan costs
//! one manifest and one config request.
//!
//! [`RegistryClient`] does the HTTP: TLS trust (system roots plus `--ca-cert` files, or none
//! with `insecure`), connect and read timeouts, retries with backoff on 429/5xx, the Basic and
//! Bearer challenge flows, and redirects that never carry credentials to another origin.

pub mod audit;
pub mod auth;
mod client;
mod error;
mod name;
pub mod push;

use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bulwark_types::Digest;
use oci_spec::image::{ImageIndex, ImageManifest};

use crate::layout::{verify_bytes, METADATA_LIMIT};
use crate::model::{attach_diff_ids, attach_history, history_of, parse_config};
use crate::{Image, ImageContent, ImageError, Layer, Platform};

pub use auth::{default_docker_config_dir, Challenge, Credentials, Secret};
pub use client::{root_store, Method, RegistryClient, RequestBody, SmallDocument};
pub use error::RegistryError;
pub use name::{ImageName, DOCKER_HUB};

/// Media types a registry may answer a manifest request with.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
const DOCKER_SCHEMA1_PLAIN: &str = "application/vnd.docker.distribution.manifest.v1+json";

/// The `Accept` header for manifests: every form bulwark reads, and schema 1 last so that a
/// registry holding only that says so and gets a clear refusal.
pub fn manifest_accept() -> String {
    format!("{OCI_INDEX}, {DOCKER_LIST}, {OCI_MANIFEST}, {DOCKER_MANIFEST}, {DOCKER_SCHEMA1};q=0.1")
}

/// How to reach registries.
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// Allow plain HTTP and TLS certificates that do not verify.
    pub insecure: bool,
    /// Extra PEM CA certificates to trust.
    pub ca_certs: Vec<PathBuf>,
    /// Credentials given explicitly (flags, environment); they win over `docker_config_dir`.
    pub credentials: Option<Credentials>,
    /// Where Docker's `config.json` is read from (`None`: not read).
    pub docker_config_dir: Option<PathBuf>,
    pub connect_timeout: Duration,
    /// Longest wait for any one read; a stalled server fails after this.
    pub read_timeout: Duration,
    /// Longest a whole small exchange may take (manifest, config, token, error body),
    /// however the server paces its bytes. A blob gets this plus the time its declared size
    /// needs at `min_rate`.
    pub request_timeout: Duration,
    /// The slowest a blob may arrive; a registry that trickles is given up on.
    pub min_rate: crate::MinRate,
    /// Retries after a 429, a 5xx or a failed connection.
    pub retries: u32,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            insecure: false,
            ca_certs: Vec::new(),
            credentials: None,
            docker_config_dir: default_docker_config_dir(),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(60),
            min_rate: crate::MinRate::default(),
            retries: 3,
        }
    }
}

impl RegistryOptions {
    /// The credentials for `registry`: explicit ones, else Docker's config.
    pub fn credentials_for(&self, registry: &str) -> Result<Option<Credentials>, RegistryError> {
        if let Some(c) = &self.credentials {
            return Ok(Some(c.clone()));
        }
        match &self.docker_config_dir {
            Some(dir) => auth::from_docker_config(dir, registry),
            None => Ok(None),
        }
    }

    /// A client for the registry that holds `name`.
    pub fn client_for(&self, name: &ImageName) -> Result<RegistryClient, RegistryError> {
        let credentials = self.credentials_for(&name.registry)?;
        RegistryClient::new(name.api_host(), credentials, self)
    }
}

/// The scope a pull needs.
pub fn pull_scope(repository: &str) -> String {
    format!("repository:{repository}:pull")
}

/// A fetched manifest: its bytes (verified), media type and digest.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    pub bytes: Vec<u8>,
    pub media_type: String,
    pub digest: Digest,
}

/// GETs a manifest by tag or digest and checks its digest: against the reference when it is
/// one, else against the registry's `Docker-Content-Digest` header. A registry that lies
/// about either is caught here.
pub fn fetch_manifest(
    client: &RegistryClient,
    repository: &str,
    reference: &str,
) -> Result<FetchedManifest, ImageError> {
    let path = format!("/v2/{repository}/manifests/{reference}");
    let client::SmallDocument {
        bytes,
        content_type,
        digest: header_digest,
    } = client
        .get_small(
            &path,
            &pull_scope(repository),
            &manifest_accept(),
            METADATA_LIMIT,
        )
        .map_err(|e| match e {
            RegistryError::NotFound { detail, .. } => ImageError::BadReference(format!(
                "{}/{repository}:{reference} not found in the registry ({detail})",
                client.host()
            )),
            other => other.into(),
        })?;
    let what = format!("{}/{repository} manifest {reference}", client.host());
    let expected: Option<Digest> = match reference.parse::<Digest>() {
        Ok(d) => Some(d),
        Err(_) => header_digest.as_deref().and_then(|h| h.parse().ok()),
    };
    let digest = match &expected {
        Some(d) => {
            verify_bytes(&bytes, d, "manifest")?;
            d.clone()
        }
        None => Digest::new(
            bulwark_types::DigestAlgorithm::Sha256,
            &<sha2::Sha256 as sha2::Digest>::digest(&bytes),
        ),
    };
    let probe: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| ImageError::malformed(&what, "image manifest", e))?;
    let media_type = probe
        .get("mediaType")
        .and_then(|m| m.as_str())
        .map(str::to_string)
        .or(content_type.map(|c| c.split(';').next().unwrap_or("").trim().to_string()))
        .unwrap_or_default();
    if probe.get("schemaVersion").and_then(|v| v.as_u64()) == Some(1)
        || media_type == DOCKER_SCHEMA1
        || media_type == DOCKER_SCHEMA1_PLAIN
    {
        return Err(ImageError::Unsupported(format!(
            "{what} is a Docker schema 1 manifest, which is deprecated and cannot be verified; push the image again with a current client (e.g. skopeo copy) to convert it"
        )));
    }
    let media_type = if media_type.is_empty() {
        // OCI allows omitting mediaType: an index has `manifests`, a manifest `config`.
        if probe.get("manifests").is_some() {
            OCI_INDEX.to_string()
        } else {
            OCI_MANIFEST.to_string()
        }
    } else {
        media_type
    };
    Ok(FetchedManifest {
        bytes,
        media_type,
        digest,
    })
}

/// Picks the manifest for `platform` from an index or manifest list.
fn choose_from_index(
    index: &ImageIndex,
    platform: &Platform,
    what: &str,
) -> Result<Digest, ImageError> {
    let mut available = Vec::new();
    let mut matching = Vec::new();
    for d in index.manifests() {
        let Some(p) = d.platform() else { continue };
        let (os, arch) = (p.os().to_string(), p.architecture().to_string());
        if os == "unknown" || arch == "unknown" {
            continue; // attestations
        }
        available.push(match p.variant() {
            Some(v) => format!("{os}/{arch}/{v}"),
            None => format!("{os}/{arch}"),
        });
        if platform.matches(&os, &arch, p.variant().as_deref()) {
            matching.push(d.digest().to_string());
        }
    }
    if available.is_empty() && index.manifests().len() == 1 {
        matching.push(index.manifests()[0].digest().to_string());
    }
    match matching.first() {
        Some(d) => d
            .parse()
            .map_err(|e| ImageError::malformed(what, "image index", e)),
        None => {
            available.sort();
            available.dedup();
            Err(ImageError::PlatformNotFound {
                wanted: platform.to_string(),
                location: what.to_string(),
                available: if available.is_empty() {
                    "none".to_string()
                } else {
                    available.join(", ")
                },
            })
        }
    }
}

/// Resolves `name` to one platform's image manifest: follows an index (or manifest list) to
/// the entry for `platform`. Returns the manifest and its digest.
pub fn resolve_manifest(
    client: &RegistryClient,
    name: &ImageName,
    platform: &Platform,
) -> Result<(ImageManifest, FetchedManifest), ImageError> {
    let mut fetched = fetch_manifest(client, &name.repository, &name.reference())?;
    for _ in 0..4 {
        let what = format!(
            "{}/{} manifest {}",
            name.registry, name.repository, fetched.digest
        );
        if fetched.media_type == OCI_INDEX || fetched.media_type == DOCKER_LIST {
            let index: ImageIndex = serde_json::from_slice(&fetched.bytes)
                .map_err(|e| ImageError::malformed(&what, "image index", e))?;
            let digest = choose_from_index(&index, platform, &what)?;
            fetched = fetch_manifest(client, &name.repository, &digest.to_string())?;
            continue;
        }
        if fetched.media_type != OCI_MANIFEST && fetched.media_type != DOCKER_MANIFEST {
            return Err(ImageError::Unsupported(format!(
                "{what} has media type {:?}, which is not an image manifest (an artifact?)",
                fetched.media_type
            )));
        }
        let manifest: ImageManifest = serde_json::from_slice(&fetched.bytes)
            .map_err(|e| ImageError::malformed(&what, "image manifest", e))?;
        return Ok((manifest, fetched));
    }
    Err(ImageError::malformed(
        name.to_string(),
        "image index",
        "indexes nest deeper than 4 levels",
    ))
}

/// GETs a small blob whole (a config) and checks its digest.
pub fn fetch_small_blob(
    client: &RegistryClient,
    repository: &str,
    digest: &Digest,
    what: &'static str,
) -> Result<Vec<u8>, ImageError> {
    let path = format!("/v2/{repository}/blobs/{digest}");
    let bytes = client
        .get_small(&path, &pull_scope(repository), "*/*", METADATA_LIMIT)
        .map_err(|e| missing_blob(e, client.host(), repository, digest))?
        .bytes;
    verify_bytes(&bytes, digest, what)?;
    Ok(bytes)
}

fn missing_blob(e: RegistryError, host: &str, repository: &str, digest: &Digest) -> ImageError {
    match e {
        RegistryError::NotFound { detail, .. } => ImageError::MissingBlob {
            digest: digest.to_string(),
            location: format!("registry {host} repository {repository} ({detail})"),
        },
        other => other.into(),
    }
}

/// Opens the image `name` names, for `platform`.
pub fn open(
    name: &ImageName,
    platform: &Platform,
    options: &RegistryOptions,
) -> Result<Image, ImageError> {
    let client = Arc::new(options.client_for(name)?);
    open_with_client(client, name, platform)
}

/// [`open`] with a client the caller keeps (to count its requests, or reuse its tokens).
pub fn open_with_client(
    client: Arc<RegistryClient>,
    name: &ImageName,
    platform: &Platform,
) -> Result<Image, ImageError> {
    let (manifest, fetched) = resolve_manifest(&client, name, platform)?;
    let location = format!("{}/{}@{}", name.registry, name.repository, fetched.digest);
    let config_digest: Digest = manifest
        .config()
        .digest()
        .as_ref()
        .parse()
        .map_err(|e| ImageError::malformed(&location, "image manifest", e))?;
    let config_bytes = fetch_small_blob(&client, &name.repository, &config_digest, "config")?;
    let config = parse_config(&config_bytes, &format!("{location} config {config_digest}"))?;

    let mut layers = Vec::with_capacity(manifest.layers().len());
    for (index, d) in manifest.layers().iter().enumerate() {
        let digest: Digest = d
            .digest()
            .as_ref()
            .parse()
            .map_err(|e| ImageError::malformed(&location, "image manifest", e))?;
        let opener = BlobOpener {
            client: client.clone(),
            repository: name.repository.clone(),
            digest: digest.clone(),
            size: d.size(),
        };
        let mut layer = Layer::new(index, Arc::new(opener));
        layer.media_type = Some(d.media_type().to_string());
        layer.digest = Some(digest);
        layer.size = Some(d.size());
        layers.push(layer);
    }
    attach_diff_ids(&mut layers, &config, &location)?;
    let history = history_of(&config);
    attach_history(&mut layers, &history);
    let platform = Some(Platform {
        os: config.os().to_string(),
        architecture: config.architecture().to_string(),
        variant: config.variant().clone(),
    });
    Ok(Image {
        source: name.to_string(),
        repo_tags: vec![name.to_string()],
        manifest_digest: Some(fetched.digest),
        config_digest: Some(config_digest),
        config: Some(config),
        platform,
        history,
        content: ImageContent::Layers(layers),
    })
}

/// Streams one layer blob from the registry when the walker asks for it.
struct BlobOpener {
    client: Arc<RegistryClient>,
    repository: String,
    digest: Digest,
    size: u64,
}

impl crate::OpenBlob for BlobOpener {
    fn open(&self) -> io::Result<Box<dyn Read + Send>> {
        let path = format!("/v2/{}/blobs/{}", self.repository, self.digest);
        match self
            .client
            .get_stream(&path, &pull_scope(&self.repository), Some(self.size))
        {
            Ok(r) => Ok(r),
            Err(e) => {
                let err = missing_blob(e, self.client.host(), &self.repository, &self.digest);
                Err(io::Error::other(err.to_string()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::net::{TcpListener, TcpStream};
    use std::time::{Duration, Instant};

    use serde_json::json;
    use sha2::Digest as _;

    use super::*;
    use crate::{Limits, StreamError};

    /// How the test registry sends the layer blob (and, for `TrickleAll`, everything).
    #[derive(Clone, Copy, PartialEq)]
    enum Blob {
        /// Every answer at one byte per 50 ms, status line included.
        TrickleAll,
        /// Manifest, config and the layer's head promptly; the layer's body at one byte per 50 ms.
        TrickleLayer,
        /// The layer's tar, then zeros for as long as the client reads.
        Endless,
    }

    fn sha256(bytes: &[u8]) -> String {
        format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
    }

    fn tar_layer() -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(10);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, "etc/os-release", &b"ID=debian\n"[..])
            .unwrap();
        b.into_inner().unwrap()
    }

    /// A plain-HTTP registry on localhost serving `t/app:1`, a one-layer image whose manifest
    /// declares the layer `declared` bytes long. Returns its address.
    fn serve(blob: Blob, declared: u64) -> String {
        let layer = tar_layer();
        let config = serde_json::to_vec(&json!({
            "architecture": "amd64", "os": "linux",
            "rootfs": { "type": "layers", "diff_ids": [sha256(&layer)] },
        }))
        .unwrap();
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": { "mediaType": "application/vnd.oci.image.config.v1+json",
                        "digest": sha256(&config), "size": config.len() },
            "layers": [{ "mediaType": "application/vnd.oci.image.layer.v1.tar",
                         "digest": sha256(&layer), "size": declared }],
        }))
        .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (layer, config, manifest) = (layer.clone(), config.clone(), manifest.clone());
                std::thread::spawn(move || answer(stream, blob, &layer, &config, &manifest));
            }
        });
        address
    }

    fn answer(mut s: TcpStream, blob: Blob, layer: &[u8], config: &[u8], manifest: &[u8]) {
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => request.extend_from_slice(&buf[..n]),
            }
            if request.first() == Some(&0x16) {
                // A TLS ClientHello: answer as the plain-HTTP server this is.
                let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
                return;
            }
        }
        let line = String::from_utf8_lossy(&request);
        let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
        let (body, is_layer): (&[u8], bool) = if path.ends_with("/manifests/1") {
            (manifest, false)
        } else if path.ends_with(&sha256(config)) {
            (config, false)
        } else if path.ends_with(&sha256(layer)) {
            (layer, true)
        } else {
            (b"{}", false)
        };
        let length = if is_layer && blob == Blob::Endless {
            1u64 << 50
        } else {
            body.len() as u64
        };
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {OCI_MANIFEST}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
        );
        let trickled: Vec<u8> = match blob {
            Blob::TrickleAll => head.bytes().chain(body.iter().copied()).collect(),
            Blob::TrickleLayer if is_layer => {
                if s.write_all(head.as_bytes()).is_err() {
                    return;
                }
                body.to_vec()
            }
            _ => Vec::new(),
        };
        if !trickled.is_empty() {
            for b in trickled {
                if s.write_all(&[b]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            return;
        }
        if s.write_all(head.as_bytes())
            .and_then(|_| s.write_all(body))
            .is_err()
        {
            return;
        }
        if is_layer && blob == Blob::Endless {
            let zeros = vec![0u8; 64 << 10];
            while s.write_all(&zeros).is_ok() {}
        }
    }

    fn options() -> RegistryOptions {
        RegistryOptions {
            insecure: true,
            docker_config_dir: None,
            read_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(1),
            min_rate: crate::MinRate {
                bytes_per_sec: 1024,
                window: Duration::from_secs(1),
            },
            retries: 0,
            ..RegistryOptions::default()
        }
    }

    fn open_test_image(address: &str) -> Result<Image, ImageError> {
        let name = ImageName::parse(&format!("{address}/t/app:1")).unwrap();
        open(&name, &Platform::host(), &options())
    }

    /// Reads the one layer as the walker does: its tar to the end, then `finish`.
    fn read_layer(image: &Image) -> Result<(), StreamError> {
        let layer = &image.layers()[0];
        let mut stream = match layer.open_tar(Limits::default()) {
            Ok(s) => s,
            Err(ImageError::Layer { source, .. }) => return Err(source),
            Err(e) => panic!("{e}"),
        };
        {
            let mut archive = tar::Archive::new(&mut stream);
            for entry in archive
                .entries()
                .map_err(|e| StreamError::from_io(e, crate::Compression::None, true))?
            {
                let mut entry =
                    entry.map_err(|e| StreamError::from_io(e, crate::Compression::None, true))?;
                io::copy(&mut entry, &mut io::sink())
                    .map_err(|e| StreamError::from_io(e, crate::Compression::None, true))?;
            }
        }
        stream.finish().map(|_| ())
    }

    /// Issue 13.8: a registry sending its manifest one byte at a time never tripped the
    /// per-read timeout. The whole request now has a deadline (1 s here).
    #[test]
    fn issue13_8_a_trickled_manifest_hits_the_request_deadline() {
        let address = serve(Blob::TrickleAll, 1);
        let started = Instant::now();
        let err = open_test_image(&address).expect_err("the trickle is given up on");
        let message = err.to_string();
        assert!(
            message.contains("did not finish within 1s") && message.contains("deadline"),
            "{message}"
        );
        // About 600 bytes at 20 B/s would take 30 s.
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }

    /// Issue 13.8: a layer blob at one byte per 50 ms is under the minimum rate (1 KiB/s over
    /// 1 s windows here), whatever deadline the declared size allows.
    #[test]
    fn issue13_8_a_trickled_blob_is_under_the_minimum_rate() {
        let address = serve(Blob::TrickleLayer, 100 << 20);
        let image = open_test_image(&address).unwrap_or_else(|e| panic!("{e}"));
        let started = Instant::now();
        let err = read_layer(&image).expect_err("the trickle is given up on");
        let message = err.to_string();
        assert!(
            message.contains("too slowly") && message.contains("1024 bytes/s"),
            "{message}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }

    /// Issue 13.9, through a registry: a manifest declaring a 2^50-byte layer whose blob
    /// never ends is read to 1 MiB past the tar's end, not to the 64 GiB layer limit.
    #[test]
    fn issue13_9_an_endless_blob_stops_soon_after_its_tar() {
        let address = serve(Blob::Endless, 1 << 50);
        let image = open_test_image(&address).unwrap_or_else(|e| panic!("{e}"));
        let started = Instant::now();
        let err = read_layer(&image).expect_err("the endless blob is stopped");
        let message = err.to_string();
        assert!(
            message.contains("longer than its tar archive")
                && message.contains(&sha256(&tar_layer())),
            "{message}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }
}
