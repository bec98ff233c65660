use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read};
use std::sync::Arc;

use bulwark_types::{Digest, DigestAlgorithm};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use crate::archive::{open_member, ArchiveIndex};
use crate::layout::METADATA_LIMIT;
use crate::model::{attach_diff_ids, attach_history, history_of, parse_config};
use crate::{HistoryStep, Image, ImageContent, ImageError, Layer, Platform, SourceRef};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ManifestEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

pub(crate) fn open_docker_archive(reference: &SourceRef) -> Result<Image, ImageError> {
    let index = ArchiveIndex::read(&reference.path)?;
    if index.get("manifest.json").is_some() {
        open_manifest_form(&index, reference)
    } else if index.get("repositories").is_some() || index.names().any(|n| n.ends_with("/json")) {
        open_legacy_form(&index, reference)
    } else {
        Err(ImageError::BadReference(format!(
            "{} is a tar archive but not a docker save archive (no manifest.json) nor an OCI archive (no oci-layout)",
            reference.path.display()
        )))
    }
}

fn layer_from_member(index: &ArchiveIndex, i: usize, name: &str) -> Result<Layer, ImageError> {
    let member = index.get(name).ok_or_else(|| ImageError::MissingBlob {
        digest: name.to_string(),
        location: index.path.display().to_string(),
    })?;
    let path = index.path.clone();
    let opener =
        move || -> io::Result<Box<dyn Read + Send>> { Ok(Box::new(open_member(&path, member)?)) };
    let mut layer = Layer::new(i, Arc::new(opener));
    layer.size = Some(member.size);
    // Docker 25+ writes an OCI layout inside the archive and names layers by blob digest.
    if let Some(hex) = name.strip_prefix("blobs/sha256/") {
        layer.digest = Digest::sha256_of_hex(hex).ok();
    }
    Ok(layer)
}

fn open_manifest_form(index: &ArchiveIndex, reference: &SourceRef) -> Result<Image, ImageError> {
    let location = index.path.display().to_string();
    let bytes = index.read_small("manifest.json", METADATA_LIMIT)?;
    let entries: Vec<ManifestEntry> = serde_json::from_slice(&bytes).map_err(|e| {
        ImageError::malformed(
            format!("{location}:manifest.json"),
            "docker save manifest",
            e,
        )
    })?;
    let entry = match entries.len() {
        0 => {
            return Err(ImageError::malformed(
                format!("{location}:manifest.json"),
                "docker save manifest",
                "it lists no images",
            ))
        }
        1 => entries.into_iter().next().unwrap(),
        _ => {
            let names: Vec<String> = entries
                .iter()
                .flat_map(|e| e.repo_tags.clone().unwrap_or_default())
                .collect();
            return Err(ImageError::AmbiguousImage {
                location,
                names: names.join(", "),
            });
        }
    };
    let config_bytes = index.read_small(&entry.config, METADATA_LIMIT)?;
    let config_digest = Digest::new(DigestAlgorithm::Sha256, &Sha256::digest(&config_bytes));
    if let Some(hex) = entry
        .config
        .strip_prefix("blobs/sha256/")
        .or_else(|| entry.config.strip_suffix(".json"))
    {
        if hex.len() == 64 && hex != config_digest.hex() {
            return Err(ImageError::DigestMismatch {
                what: "config",
                digest: format!("sha256:{hex}"),
                actual: config_digest.to_string(),
            });
        }
    }
    let config = parse_config(&config_bytes, &format!("{location}:{}", entry.config))?;
    let mut layers = entry
        .layers
        .iter()
        .enumerate()
        .map(|(i, name)| layer_from_member(index, i, name))
        .collect::<Result<Vec<_>, _>>()?;
    attach_diff_ids(&mut layers, &config, &location)?;
    let history = history_of(&config);
    attach_history(&mut layers, &history);
    Ok(Image {
        source: reference.display_name(),
        repo_tags: entry.repo_tags.unwrap_or_default(),
        manifest_digest: None,
        config_digest: Some(config_digest),
        platform: Some(Platform {
            os: config.os().to_string(),
            architecture: config.architecture().to_string(),
            variant: config.variant().clone(),
        }),
        config: Some(config),
        history,
        content: ImageContent::Layers(layers),
    })
}

#[derive(Deserialize)]
struct LegacyLayerJson {
    id: String,
    #[serde(default)]
    parent: Option<String>,
    #[serde(default)]
    container_config: Option<LegacyContainerConfig>,
    #[serde(default)]
    created: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LegacyContainerConfig {
    #[serde(default)]
    cmd: Option<Vec<String>>,
}

/// The pre-1.10 `docker save` layout: one directory per layer, chained by `parent` ids, and no
/// diff_ids to verify against (so these layers are streamed unverified and not cached).
fn open_legacy_form(index: &ArchiveIndex, reference: &SourceRef) -> Result<Image, ImageError> {
    let location = index.path.display().to_string();
    let mut by_id: BTreeMap<String, (LegacyLayerJson, Vec<u8>)> = BTreeMap::new();
    let json_names: Vec<String> = index
        .names()
        .filter(|n| n.ends_with("/json") && n.matches('/').count() == 1)
        .map(str::to_string)
        .collect();
    for name in json_names {
        let bytes = index.read_small(&name, METADATA_LIMIT)?;
        let parsed: LegacyLayerJson = serde_json::from_slice(&bytes).map_err(|e| {
            ImageError::malformed(format!("{location}:{name}"), "legacy layer json", e)
        })?;
        by_id.insert(parsed.id.clone(), (parsed, bytes));
    }
    let parents: BTreeSet<&str> = by_id
        .values()
        .filter_map(|(j, _)| j.parent.as_deref())
        .collect();
    let tops: Vec<&String> = by_id
        .keys()
        .filter(|id| !parents.contains(id.as_str()))
        .collect();
    let top = match tops.as_slice() {
        [one] => (*one).clone(),
        _ => {
            return Err(ImageError::malformed(
                location,
                "legacy docker save archive",
                format!("expected one top layer, found {}", tops.len()),
            ))
        }
    };
    let mut chain = Vec::new();
    let mut cursor = Some(top.clone());
    while let Some(id) = cursor {
        if chain.len() > by_id.len() {
            return Err(ImageError::malformed(
                location,
                "legacy docker save archive",
                "layer parents form a loop",
            ));
        }
        let (json, _) = by_id.get(&id).ok_or_else(|| ImageError::MissingBlob {
            digest: format!("{id}/json"),
            location: location.clone(),
        })?;
        chain.push(id.clone());
        cursor = json.parent.clone();
    }
    chain.reverse();
    let mut layers = Vec::new();
    let mut history = Vec::new();
    for (i, id) in chain.iter().enumerate() {
        let (json, _) = &by_id[id];
        let mut layer = layer_from_member(index, i, &format!("{id}/layer.tar"))?;
        layer.created_by = json
            .container_config
            .as_ref()
            .and_then(|c| c.cmd.as_ref())
            .map(|c| c.join(" "));
        history.push(HistoryStep {
            created_by: layer.created_by.clone(),
            created: json.created.clone(),
            comment: None,
            empty_layer: false,
        });
        layers.push(layer);
    }
    // The top layer's json is the image config in the v1 shape; lend it an empty rootfs so the
    // OCI config type can carry its Env, User and the rest.
    let mut top_config: serde_json::Value = serde_json::from_slice(&by_id[&top].1)
        .map_err(|e| ImageError::malformed(&location, "legacy layer json", e))?;
    top_config["rootfs"] = serde_json::json!({"type": "layers", "diff_ids": []});
    if top_config.get("architecture").is_none() {
        top_config["architecture"] = "amd64".into();
    }
    if top_config.get("os").is_none() {
        top_config["os"] = "linux".into();
    }
    let config = serde_json::from_value(top_config).ok();
    Ok(Image {
        source: reference.display_name(),
        repo_tags: Vec::new(),
        manifest_digest: None,
        config_digest: None,
        config,
        platform: None,
        history,
        content: ImageContent::Layers(layers),
    })
}
