//! Images held by a local container engine (`docker:NAME`, `podman:NAME`), read through
//! `bulwark-engine`'s API client.
//!
//! An image is inspected first (its id, layer diff_ids and config; then its build steps),
//! which is enough to build the [`Image`] and to look every layer up in the cache. Only if
//! some layer is not cached is the image exported, and that single tar stream is read once:
//! each layer is analysed as it passes (see [`EngineExport::read`]). One socket stream carries
//! the layers one after another, so unlike files and registries they are analysed in
//! sequence, not in parallel.

mod export;

use std::io::{self, Read};
use std::sync::Arc;

pub use bulwark_engine::{Client, Engine, EngineError, EngineOptions, Source};
use bulwark_types::Digest;
use serde_json::{json, Map, Value};

pub use export::{EngineExport, ExportedMember};

use crate::model::{attach_history, parse_config};
use crate::{HistoryStep, Image, ImageContent, Layer, Platform};

/// Opens `name` in `engine`: inspects it and prepares its export.
pub fn open(engine: Engine, name: &str, options: &EngineOptions) -> Result<Image, EngineError> {
    let client = Arc::new(Client::connect(engine, options)?);
    let inspect = client.inspect(name)?;
    let id = inspect
        .get("Id")
        .and_then(Value::as_str)
        .ok_or_else(|| EngineError::Inspect {
            engine: engine.title(),
            what: "inspecting the image".into(),
            message: "no Id".into(),
        })?
        .to_string();
    let history = client.history(&id)?;
    let export = EngineExport::new(client, id);
    image_from_inspect(engine, name, &inspect, &history, export)
}

/// Builds the image from the inspect answer: the OCI config is rebuilt from the fields the
/// API returns (the API has no call for the config blob itself), and the history from the
/// history call, oldest first.
fn image_from_inspect(
    engine: Engine,
    name: &str,
    inspect: &Value,
    history: &Value,
    export: EngineExport,
) -> Result<Image, EngineError> {
    let bad = |message: String| EngineError::Inspect {
        engine: engine.title(),
        what: "inspecting the image".into(),
        message,
    };
    let diff_ids: Vec<Digest> = inspect
        .pointer("/RootFS/Layers")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no RootFS.Layers".into()))?
        .iter()
        .map(|v| {
            v.as_str()
                .ok_or_else(|| bad("a RootFS layer that is not a string".into()))?
                .parse::<Digest>()
                .map_err(|e| bad(format!("bad layer diff_id: {e}")))
        })
        .collect::<Result<_, _>>()?;
    let config_digest = inspect
        .get("Id")
        .and_then(Value::as_str)
        .and_then(|id| id.parse::<Digest>().ok());
    let steps = history_steps(history, diff_ids.len());
    let text = |key: &str| {
        inspect
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let mut config = json!({
        "architecture": text("Architecture").unwrap_or("amd64"),
        "os": text("Os").unwrap_or("linux"),
        "rootfs": {"type": "layers", "diff_ids": diff_ids.iter().map(|d| d.to_string()).collect::<Vec<_>>()},
        "history": steps.iter().map(|s| {
            let mut h = Map::new();
            if let Some(c) = &s.created { h.insert("created".into(), c.clone().into()); }
            if let Some(c) = &s.created_by { h.insert("created_by".into(), c.clone().into()); }
            if let Some(c) = &s.comment { h.insert("comment".into(), c.clone().into()); }
            if s.empty_layer { h.insert("empty_layer".into(), true.into()); }
            Value::Object(h)
        }).collect::<Vec<_>>(),
    });
    if let Some(v) = text("Variant") {
        config["variant"] = v.into();
    }
    if let Some(v) = text("Created") {
        config["created"] = v.into();
    }
    if let Some(v) = text("Author") {
        config["author"] = v.into();
    }
    if let Some(Value::Object(c)) = inspect.get("Config") {
        let mut oci = Map::new();
        for key in [
            "User",
            "ExposedPorts",
            "Env",
            "Entrypoint",
            "Cmd",
            "Volumes",
            "WorkingDir",
            "Labels",
            "StopSignal",
        ] {
            match c.get(key) {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) if s.is_empty() => {}
                Some(v) => {
                    oci.insert(key.to_string(), v.clone());
                }
            }
        }
        config["config"] = Value::Object(oci);
    }
    let bytes = serde_json::to_vec(&config).map_err(|e| bad(e.to_string()))?;
    let location = format!("{}:{name}", engine.name());
    let config =
        parse_config(&bytes, &location).map_err(|e| bad(format!("rebuilding its config: {e}")))?;
    let opener = Arc::new(|| -> io::Result<Box<dyn Read + Send>> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "an engine's layers are read together from one export stream",
        ))
    });
    let mut layers: Vec<Layer> = diff_ids
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            let mut layer = Layer::new(i, opener.clone());
            layer.diff_id = Some(d);
            layer.media_type = Some("application/vnd.docker.image.rootfs.diff.tar".into());
            layer
        })
        .collect();
    attach_history(&mut layers, &steps);
    let repo_tags = inspect
        .get("RepoTags")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "<none>:<none>")
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    Ok(Image {
        source: location,
        repo_tags,
        manifest_digest: None,
        config_digest,
        platform: Some(Platform {
            os: config.os().to_string(),
            architecture: config.architecture().to_string(),
            variant: config.variant().clone(),
        }),
        config: Some(config),
        history: steps,
        content: ImageContent::Exported { layers, export },
    })
}

/// The history call's steps, oldest first. The API does not say which steps made no layer;
/// a step with size 0 is taken for one when that leaves as many layer steps as layers, else a
/// `#(nop)` step (the classic builder's mark for metadata-only steps).
fn history_steps(history: &Value, layer_count: usize) -> Vec<HistoryStep> {
    let Some(entries) = history.as_array() else {
        return Vec::new();
    };
    let entries: Vec<&Value> = entries.iter().rev().collect();
    let text = |v: &Value, key: &str| {
        v.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let by_size: Vec<bool> = entries
        .iter()
        .map(|e| e.get("Size").and_then(Value::as_i64).unwrap_or(0) == 0)
        .collect();
    let by_nop: Vec<bool> = entries
        .iter()
        .map(|e| text(e, "CreatedBy").is_some_and(|c| c.contains("#(nop)")))
        .collect();
    let layer_steps = |empty: &[bool]| empty.iter().filter(|e| !**e).count();
    let empty = if layer_steps(&by_size) == layer_count {
        by_size
    } else if layer_steps(&by_nop) == layer_count {
        by_nop
    } else {
        by_size
    };
    entries
        .iter()
        .zip(empty)
        .map(|(e, empty_layer)| HistoryStep {
            created_by: text(e, "CreatedBy"),
            created: e.get("Created").and_then(Value::as_i64).map(rfc3339),
            comment: text(e, "Comment"),
            empty_layer,
        })
        .collect()
}

/// Seconds since the epoch as RFC 3339 (UTC), the form image configs use.
fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Tries `sources` in order for a bare image name: an engine that is absent, down, or lacks
/// the image passes to the next; any other engine failure stops the search (a socket bulwark
/// may not use, or an unusable `DOCKER_HOST`, should be fixed, not silently bypassed).
/// Returns None when the order reaches `remote`.
pub(crate) fn lookup(
    name: &str,
    sources: &[Source],
    options: &EngineOptions,
) -> Result<Option<Image>, EngineError> {
    let mut tried = Vec::new();
    for source in sources {
        match source {
            Source::Remote => return Ok(None),
            Source::Engine(engine) => match open(*engine, name, options) {
                Ok(image) => return Ok(Some(image)),
                Err(e) if e.falls_through() => tried.push(format!("{engine}: {e}")),
                Err(e) => return Err(e),
            },
        }
    }
    Err(EngineError::NotFound {
        name: name.to_string(),
        tried: format!(
            "{}; add remote to --source to pull it from its registry",
            tried.join("; ")
        ),
    })
}
#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn an_absent_engine_falls_through_to_remote() {
        let dir = tempfile::tempdir().unwrap();
        let options = EngineOptions {
            docker_host: Some(format!("unix://{}/docker.sock", dir.path().display())),
            podman_host: Some(format!("unix://{}/podman.sock", dir.path().display())),
            timeout: Duration::from_secs(1),
            min_rate: crate::MinRate::default(),
        };
        assert!(lookup("nginx:1.25", &Source::DEFAULT, &options)
            .unwrap()
            .is_none());
        let err = lookup("nginx:1.25", &[Source::Engine(Engine::Podman)], &options).unwrap_err();
        assert!(err.to_string().contains("no socket at"), "{err}");
    }

    #[test]
    fn history_marks_layerless_steps() {
        let history = json!([
            {"Created": 1700000100, "CreatedBy": "/bin/sh -c #(nop)  CMD [\"sh\"]", "Size": 0},
            {"Created": 1700000000, "CreatedBy": "ADD rootfs /", "Size": 1000},
        ]);
        let steps = history_steps(&history, 1);
        assert_eq!(steps.len(), 2);
        assert!(!steps[0].empty_layer && steps[1].empty_layer);
        assert_eq!(steps[0].created.as_deref(), Some("2023-11-14T22:13:20Z"));
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }
}
