use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Arc;

use bulwark_types::Digest;
use oci_spec::image::{Descriptor, ImageIndex, ImageManifest, MediaType};
use sha2::{Digest as _, Sha256};

use crate::archive::{open_member, ArchiveIndex};
use crate::model::{attach_diff_ids, attach_history, history_of, parse_config};
use crate::{Image, ImageContent, ImageError, Layer, OpenBlob, Platform, SourceRef};

/// Manifests, indexes and configs are small; anything larger is refused before it is read.
pub(crate) const METADATA_LIMIT: u64 = 16 << 20;
const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// Where a layout's files live: a directory, or members of an uncompressed tar.
enum Store {
    Dir(PathBuf),
    Archive(ArchiveIndex),
}

impl Store {
    fn location(&self) -> String {
        match self {
            Store::Dir(p) => p.display().to_string(),
            Store::Archive(a) => a.path.display().to_string(),
        }
    }

    fn read_file(&self, name: &str) -> Result<Vec<u8>, ImageError> {
        match self {
            Store::Dir(root) => {
                let path = root.join(name);
                let file = File::open(&path).map_err(|e| ImageError::io(&path, e))?;
                let mut buf = Vec::new();
                file.take(METADATA_LIMIT + 1)
                    .read_to_end(&mut buf)
                    .map_err(|e| ImageError::io(&path, e))?;
                if buf.len() as u64 > METADATA_LIMIT {
                    return Err(ImageError::malformed(
                        path.display(),
                        "metadata file",
                        format!("larger than the {METADATA_LIMIT}-byte limit"),
                    ));
                }
                Ok(buf)
            }
            Store::Archive(index) => index.read_small(name, METADATA_LIMIT),
        }
    }

    /// Reads a small blob and checks it hashes to its name.
    fn read_blob(&self, digest: &Digest, what: &'static str) -> Result<Vec<u8>, ImageError> {
        let name = blob_name(digest);
        let bytes = self.read_file(&name).map_err(|e| match e {
            ImageError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound => {
                ImageError::MissingBlob {
                    digest: digest.to_string(),
                    location: self.location(),
                }
            }
            other => other,
        })?;
        verify_bytes(&bytes, digest, what)?;
        Ok(bytes)
    }

    fn opener(&self, digest: &Digest) -> Result<(Arc<dyn OpenBlob>, u64), ImageError> {
        let name = blob_name(digest);
        let missing = || ImageError::MissingBlob {
            digest: digest.to_string(),
            location: self.location(),
        };
        match self {
            Store::Dir(root) => {
                let path = root.join(&name);
                let len = std::fs::metadata(&path).map_err(|_| missing())?.len();
                let opener = move || -> io::Result<Box<dyn Read + Send>> {
                    Ok(Box::new(File::open(&path)?))
                };
                Ok((Arc::new(opener), len))
            }
            Store::Archive(index) => {
                let member = index.get(&name).ok_or_else(missing)?;
                let path = index.path.clone();
                let opener = move || -> io::Result<Box<dyn Read + Send>> {
                    Ok(Box::new(open_member(&path, member)?))
                };
                Ok((Arc::new(opener), member.size))
            }
        }
    }
}

pub(crate) fn blob_name(digest: &Digest) -> String {
    format!("blobs/{}/{}", digest.algorithm().as_str(), digest.hex())
}

pub(crate) fn verify_bytes(
    bytes: &[u8],
    digest: &Digest,
    what: &'static str,
) -> Result<(), ImageError> {
    if digest.algorithm() != bulwark_types::DigestAlgorithm::Sha256 {
        let actual = Digest::new(
            bulwark_types::DigestAlgorithm::Sha512,
            &sha2::Sha512::digest(bytes),
        );
        if &actual != digest {
            return Err(ImageError::DigestMismatch {
                what,
                digest: digest.to_string(),
                actual: actual.to_string(),
            });
        }
        return Ok(());
    }
    let actual = Digest::new(
        bulwark_types::DigestAlgorithm::Sha256,
        &Sha256::digest(bytes),
    );
    if &actual != digest {
        return Err(ImageError::DigestMismatch {
            what,
            digest: digest.to_string(),
            actual: actual.to_string(),
        });
    }
    Ok(())
}

pub(crate) fn open_layout_dir(
    reference: &SourceRef,
    platform: &Platform,
) -> Result<Image, ImageError> {
    let root = reference.path.clone();
    if !root.join("oci-layout").is_file() {
        return Err(ImageError::BadReference(format!(
            "{} is not an OCI image layout (no oci-layout file)",
            root.display()
        )));
    }
    open_layout(Store::Dir(root), reference, platform)
}

pub(crate) fn open_layout_archive(
    reference: &SourceRef,
    platform: &Platform,
) -> Result<Image, ImageError> {
    let index = ArchiveIndex::read(&reference.path)?;
    if index.get("index.json").is_none() {
        return Err(ImageError::BadReference(format!(
            "{} is not an OCI archive (no index.json inside)",
            reference.path.display()
        )));
    }
    open_layout(Store::Archive(index), reference, platform)
}

/// A manifest found while walking the index, with the platform and name it was listed under.
struct Candidate {
    descriptor: Descriptor,
    platform: Option<(String, String, Option<String>)>,
    name: Option<String>,
}

fn is_index(media: &MediaType) -> bool {
    matches!(media, MediaType::ImageIndex)
        || media.to_string() == "application/vnd.docker.distribution.manifest.list.v2+json"
}

fn is_attestation(d: &Descriptor) -> bool {
    d.annotations()
        .as_ref()
        .and_then(|a| a.get("vnd.docker.reference.type"))
        .is_some_and(|t| t == "attestation-manifest")
        || d.platform()
            .as_ref()
            .is_some_and(|p| p.os().to_string() == "unknown")
}

/// Most manifest descriptors one layout's indexes may list in all. A layout holds a few
/// images (a few per platform); a hostile one lists the same child over and over.
pub(crate) const MAX_LISTED_MANIFESTS: usize = 10_000;

/// The walk over a layout's index and the indexes it nests.
struct Collector<'a> {
    store: &'a Store,
    /// Nested indexes already expanded, with the name they were listed under: a second
    /// reference adds nothing, and re-expanding each would multiply at every level.
    expanded: HashSet<(Digest, Option<String>)>,
    listed: usize,
    out: Vec<Candidate>,
}

impl Collector<'_> {
    fn collect(
        &mut self,
        index: &ImageIndex,
        name: Option<&String>,
        depth: usize,
    ) -> Result<(), ImageError> {
        for d in index.manifests() {
            self.listed += 1;
            if self.listed > MAX_LISTED_MANIFESTS {
                return Err(ImageError::malformed(
                    self.store.location(),
                    "OCI layout",
                    format!(
                        "its indexes list more than {MAX_LISTED_MANIFESTS} manifests; a layout of a few images lists a few dozen, so this one is refused"
                    ),
                ));
            }
            let listed_name = d
                .annotations()
                .as_ref()
                .and_then(|a| a.get(REF_NAME))
                .cloned()
                .or_else(|| name.cloned());
            if is_index(d.media_type()) {
                if depth >= 4 {
                    return Err(ImageError::malformed(
                        self.store.location(),
                        "image index",
                        "indexes nest deeper than 4 levels",
                    ));
                }
                let digest = parse_digest(d.digest().as_ref(), self.store)?;
                if !self.expanded.insert((digest.clone(), listed_name.clone())) {
                    continue;
                }
                let bytes = self.store.read_blob(&digest, "image index")?;
                let nested: ImageIndex = serde_json::from_slice(&bytes).map_err(|e| {
                    ImageError::malformed(
                        format!("{} {digest}", self.store.location()),
                        "image index",
                        e,
                    )
                })?;
                self.collect(&nested, listed_name.as_ref(), depth + 1)?;
            } else if !is_attestation(d) {
                self.out.push(Candidate {
                    descriptor: d.clone(),
                    platform: d.platform().as_ref().map(|p| {
                        (
                            p.os().to_string(),
                            p.architecture().to_string(),
                            p.variant().clone(),
                        )
                    }),
                    name: listed_name,
                });
            }
        }
        Ok(())
    }
}

fn parse_digest(s: &str, store: &Store) -> Result<Digest, ImageError> {
    s.parse()
        .map_err(|e| ImageError::malformed(store.location(), "descriptor", e))
}

fn open_layout(
    store: Store,
    reference: &SourceRef,
    platform: &Platform,
) -> Result<Image, ImageError> {
    let location = store.location();
    let index_bytes = store.read_file("index.json")?;
    let index: ImageIndex = serde_json::from_slice(&index_bytes)
        .map_err(|e| ImageError::malformed(format!("{location}/index.json"), "image index", e))?;
    let mut collector = Collector {
        store: &store,
        expanded: HashSet::new(),
        listed: 0,
        out: Vec::new(),
    };
    collector.collect(&index, None, 0)?;
    let mut candidates = collector.out;

    if let Some(wanted) = &reference.name {
        let names = candidate_names(&candidates);
        candidates.retain(|c| c.name.as_ref() == Some(wanted));
        if candidates.is_empty() {
            return Err(ImageError::TagNotFound {
                name: wanted.clone(),
                location,
                names,
            });
        }
    }
    let chosen = choose(candidates, platform, &location)?;
    let manifest_digest = parse_digest(chosen.descriptor.digest().as_ref(), &store)?;
    let manifest_bytes = store.read_blob(&manifest_digest, "manifest")?;
    let manifest_location = format!("{location} manifest {manifest_digest}");
    let probe: serde_json::Value = serde_json::from_slice(&manifest_bytes)
        .map_err(|e| ImageError::malformed(&manifest_location, "image manifest", e))?;
    if probe.get("schemaVersion").and_then(|v| v.as_u64()) == Some(1) {
        return Err(ImageError::Unsupported(format!(
            "{manifest_location} is a Docker schema 1 manifest, which is deprecated and unsigned-by-design; convert the image (e.g. skopeo copy) first"
        )));
    }
    let manifest: ImageManifest = serde_json::from_value(probe)
        .map_err(|e| ImageError::malformed(&manifest_location, "image manifest", e))?;

    let config_digest = parse_digest(manifest.config().digest().as_ref(), &store)?;
    let config_bytes = store.read_blob(&config_digest, "config")?;
    let config = parse_config(&config_bytes, &format!("{location} config {config_digest}"))?;

    let mut layers = Vec::with_capacity(manifest.layers().len());
    for (index, d) in manifest.layers().iter().enumerate() {
        let digest = parse_digest(d.digest().as_ref(), &store)?;
        let (opener, actual_len) = store.opener(&digest)?;
        let declared = d.size();
        if actual_len != declared {
            return Err(ImageError::Layer {
                index,
                digest: digest.to_string(),
                source: crate::StreamError::SizeMismatch {
                    declared,
                    actual: actual_len,
                },
            });
        }
        let mut layer = Layer::new(index, opener);
        layer.media_type = Some(d.media_type().to_string());
        layer.digest = Some(digest);
        layer.size = Some(declared);
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
        source: reference.display_name(),
        repo_tags: chosen.name.into_iter().collect(),
        manifest_digest: Some(manifest_digest),
        config_digest: Some(config_digest),
        config: Some(config),
        platform,
        history,
        content: ImageContent::Layers(layers),
    })
}

fn candidate_names(candidates: &[Candidate]) -> String {
    let mut names: Vec<&str> = candidates
        .iter()
        .filter_map(|c| c.name.as_deref())
        .collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        "(none named)".to_string()
    } else {
        names.join(", ")
    }
}

fn choose(
    candidates: Vec<Candidate>,
    platform: &Platform,
    location: &str,
) -> Result<Candidate, ImageError> {
    if candidates.is_empty() {
        return Err(ImageError::malformed(
            location,
            "OCI layout",
            "index.json lists no image manifests",
        ));
    }
    let with_platform = candidates.iter().any(|c| c.platform.is_some());
    if !with_platform {
        let first_digest = candidates[0].descriptor.digest().to_string();
        if candidates
            .iter()
            .all(|c| c.descriptor.digest().to_string() == first_digest)
        {
            return Ok(candidates.into_iter().next().unwrap());
        }
        return Err(ImageError::AmbiguousImage {
            location: location.to_string(),
            names: candidate_names(&candidates),
        });
    }
    let available: Vec<String> = candidates
        .iter()
        .filter_map(|c| c.platform.as_ref())
        .map(|(os, arch, variant)| match variant {
            Some(v) => format!("{os}/{arch}/{v}"),
            None => format!("{os}/{arch}"),
        })
        .collect();
    let mut matching: Vec<Candidate> = candidates
        .into_iter()
        .filter(|c| match &c.platform {
            Some((os, arch, variant)) => platform.matches(os, arch, variant.as_deref()),
            None => false,
        })
        .collect();
    match matching.len() {
        0 => {
            let mut available = available;
            available.sort();
            available.dedup();
            Err(ImageError::PlatformNotFound {
                wanted: platform.to_string(),
                location: location.to_string(),
                available: available.join(", "),
            })
        }
        _ => {
            let first = matching[0].descriptor.digest().to_string();
            if matching
                .iter()
                .all(|c| c.descriptor.digest().to_string() == first)
            {
                Ok(matching.swap_remove(0))
            } else {
                Err(ImageError::AmbiguousImage {
                    location: location.to_string(),
                    names: candidate_names(&matching),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::{Duration, Instant};

    use serde_json::json;

    use super::*;

    /// Writes `bytes` as a blob of the layout at `dir` and returns its digest.
    fn put_blob(dir: &Path, bytes: &[u8]) -> String {
        let hex = hex::encode(Sha256::digest(bytes));
        let blobs = dir.join("blobs/sha256");
        std::fs::create_dir_all(&blobs).unwrap();
        std::fs::write(blobs.join(&hex), bytes).unwrap();
        format!("sha256:{hex}")
    }

    fn descriptor(media: &str, digest: &str, size: usize) -> serde_json::Value {
        json!({ "mediaType": media, "digest": digest, "size": size })
    }

    /// A one-layer image (an empty tar) whose manifest the returned descriptor names.
    fn leaf_image(dir: &Path) -> serde_json::Value {
        std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        let layer = vec![0u8; 1024];
        let layer_digest = put_blob(dir, &layer);
        let config = serde_json::to_vec(&json!({
            "architecture": "amd64",
            "os": "linux",
            "rootfs": { "type": "layers", "diff_ids": [layer_digest] },
        }))
        .unwrap();
        let config_digest = put_blob(dir, &config);
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": descriptor("application/vnd.oci.image.config.v1+json", &config_digest, config.len()),
            "layers": [descriptor("application/vnd.oci.image.layer.v1.tar", &layer_digest, layer.len())],
        }))
        .unwrap();
        let manifest_digest = put_blob(dir, &manifest);
        descriptor(
            "application/vnd.oci.image.manifest.v1+json",
            &manifest_digest,
            manifest.len(),
        )
    }

    fn index_of(children: Vec<serde_json::Value>) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": children,
        }))
        .unwrap()
    }

    fn open_dir(dir: &Path) -> Result<Image, ImageError> {
        let reference = SourceRef::parse(&format!("oci:{}", dir.display())).unwrap();
        open_layout_dir(&reference, &Platform::host())
    }

    /// Issue 13.3: index.json and four nested indexes, each listing its child 60 times, once
    /// expanded 60^5 candidates (4.9 GB, then an abort). Each nested index is now read once.
    #[test]
    fn issue13_3_repeated_nested_indexes_are_expanded_once() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let mut child = leaf_image(dir);
        for _ in 0..4 {
            let index = index_of(vec![child; 60]);
            let digest = put_blob(dir, &index);
            child = descriptor(
                "application/vnd.oci.image.index.v1+json",
                &digest,
                index.len(),
            );
        }
        std::fs::write(dir.join("index.json"), index_of(vec![child; 60])).unwrap();

        let started = Instant::now();
        let image = open_dir(dir).unwrap_or_else(|e| panic!("the layout opens: {e}"));
        assert_eq!(image.layers().len(), 1);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "took {:?}",
            started.elapsed()
        );
    }

    #[test]
    fn issue13_3_an_index_listing_too_many_manifests_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let leaf = leaf_image(dir);
        let index = index_of(vec![leaf; MAX_LISTED_MANIFESTS + 1]);
        std::fs::write(dir.join("index.json"), index).unwrap();
        let err = open_dir(dir).expect_err("too many manifests").to_string();
        assert!(
            err.contains("more than 10000 manifests") && err.contains("not a valid OCI layout"),
            "{err}"
        );
    }
}
