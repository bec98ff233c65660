//! Images held by a local container engine: the Docker Engine API on Docker's socket, and the
//! same API as Podman serves it (`podman system service`).
//!
//! An image is inspected first (`GET /images/{name}/json` for its id, layer diff_ids and
//! config; `/images/{id}/history` for its build steps), which is enough to build the
//! [`Image`] and to look every layer up in the cache. Only if some layer is not cached is the
//! image exported (`GET /images/{id}/get`), and that single tar stream is read once: each layer
//! is analysed as it passes (see [`EngineExport::read`]). One socket stream carries the layers
//! one after another, so unlike files and registries they are analysed in sequence, not in
//! parallel.

mod export;
mod http;

use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use bulwark_types::Digest;
use serde_json::{json, Map, Value};

pub use export::ExportedMember;

use crate::model::{attach_history, parse_config};
use crate::stream::{LayerStream, Limits};
use crate::{HistoryStep, Image, ImageContent, ImageError, Layer, Platform};

/// Inspect and history answers are small; a larger one is not an engine talking.
const SMALL_ANSWER: u64 = 16 << 20;

/// A local container engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    Docker,
    Podman,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Docker => "docker",
            Engine::Podman => "podman",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Engine::Docker => "Docker",
            Engine::Podman => "Podman",
        }
    }

    fn start_hint(self) -> &'static str {
        match self {
            Engine::Docker => "is dockerd running? (`systemctl start docker`)",
            Engine::Podman => {
                "start the API service (`systemctl --user start podman.socket`, or `podman system service --time=0 &`)"
            }
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a bare image name (`nginx:1.25`) is looked for, in `--source` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    Engine(Engine),
    /// The registry the name points at.
    Remote,
}

impl Source {
    /// docker, podman, remote: local engines first, so a scan sees the image that was just
    /// built, and a registry only when no engine has it.
    pub const DEFAULT: [Source; 3] = [
        Source::Engine(Engine::Docker),
        Source::Engine(Engine::Podman),
        Source::Remote,
    ];

    /// Parses a comma-separated list (`docker,podman,remote`).
    pub fn parse_list(s: &str) -> Result<Vec<Source>, String> {
        let mut out = Vec::new();
        for word in s.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            let source: Source = word.parse()?;
            if !out.contains(&source) {
                out.push(source);
            }
        }
        if out.is_empty() {
            return Err("name at least one source: docker, podman or remote".to_string());
        }
        Ok(out)
    }
}

impl FromStr for Source {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "docker" | "docker-daemon" => Ok(Source::Engine(Engine::Docker)),
            "podman" => Ok(Source::Engine(Engine::Podman)),
            "remote" | "registry" => Ok(Source::Remote),
            other => Err(format!(
                "unknown image source {other:?} (expected docker, podman or remote)"
            )),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Engine(e) => f.write_str(e.name()),
            Source::Remote => f.write_str("remote"),
        }
    }
}

/// How to reach the engines.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Docker's address (`unix:///path`); default: `DOCKER_HOST`, else /var/run/docker.sock.
    pub docker_host: Option<String>,
    /// Podman's address (`unix:///path`); default: `CONTAINER_HOST`, else
    /// `$XDG_RUNTIME_DIR/podman/podman.sock`, else /run/podman/podman.sock.
    pub podman_host: Option<String>,
    /// Longest wait for any one read of an answer, and for a whole small answer or an
    /// export's head. An export can be slow to start: Podman writes the whole archive before
    /// it sends the first byte.
    pub timeout: Duration,
    /// The slowest an export may stream, averaged over windows never shorter than `timeout`.
    pub min_rate: crate::MinRate,
}

impl Default for EngineOptions {
    fn default() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        EngineOptions {
            docker_host: var("DOCKER_HOST"),
            podman_host: var("CONTAINER_HOST"),
            timeout: Duration::from_secs(300),
            min_rate: crate::MinRate::default(),
        }
    }
}

impl EngineOptions {
    /// The socket the engine listens on; an error for addresses bulwark cannot use.
    pub fn socket(&self, engine: Engine) -> Result<PathBuf, EngineError> {
        match engine {
            Engine::Docker => match &self.docker_host {
                Some(host) => unix_path(engine, "DOCKER_HOST", host),
                None => Ok(PathBuf::from("/var/run/docker.sock")),
            },
            Engine::Podman => {
                if let Some(host) = &self.podman_host {
                    return unix_path(engine, "CONTAINER_HOST", host);
                }
                if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
                    let user = Path::new(&dir).join("podman/podman.sock");
                    if user.exists() {
                        return Ok(user);
                    }
                }
                Ok(PathBuf::from("/run/podman/podman.sock"))
            }
        }
    }
}

fn unix_path(engine: Engine, variable: &'static str, host: &str) -> Result<PathBuf, EngineError> {
    if let Some(path) = host.strip_prefix("unix://") {
        if !path.is_empty() {
            return Ok(PathBuf::from(path));
        }
    } else if host.starts_with('/') {
        return Ok(PathBuf::from(host));
    }
    Err(EngineError::UnsupportedHost {
        engine: engine.title(),
        variable,
        host: host.to_string(),
    })
}

/// Why an engine could not give an image.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{engine} address {variable}={host:?} is not a unix socket; bulwark reads images from engines only over a local unix socket (unix:///path). For a remote daemon, `docker save IMAGE -o image.tar` and scan docker-archive:image.tar, or scan the image from its registry (registry:NAME); `--source` without {engine_lower} skips it", engine_lower = engine.to_ascii_lowercase())]
    UnsupportedHost {
        engine: &'static str,
        variable: &'static str,
        host: String,
    },
    #[error("{engine} is not running here: no socket at {}. {hint}; or name another source (--source)", socket.display())]
    Absent {
        engine: &'static str,
        socket: PathBuf,
        hint: &'static str,
    },
    #[error("{engine} does not answer on {}: connection refused. {hint}", socket.display())]
    Refused {
        engine: &'static str,
        socket: PathBuf,
        hint: &'static str,
    },
    #[error("permission denied on {engine}'s socket {}: run as a user who may use it (for Docker, a member of the `docker` group), or name another source (--source)", socket.display())]
    PermissionDenied {
        engine: &'static str,
        socket: PathBuf,
    },
    #[error("{engine} at {} did not answer within {secs}s while {what}", socket.display())]
    Timeout {
        engine: &'static str,
        socket: PathBuf,
        secs: u64,
        what: String,
    },
    #[error("{engine} at {} sends too slowly while {what}: {detail}; gave up (see --engine-timeout)", socket.display())]
    TooSlow {
        engine: &'static str,
        socket: PathBuf,
        what: String,
        detail: String,
    },
    #[error("{engine} has no image {name:?}: `{cli} pull {name}` first, or scan it from its registry (registry:{name})")]
    NoSuchImage {
        engine: &'static str,
        cli: &'static str,
        name: String,
    },
    #[error("{engine} answered {status} while {what}: {message}")]
    Status {
        engine: &'static str,
        status: u16,
        what: String,
        message: String,
    },
    #[error("talking to {engine} at {} while {what}: {message}", socket.display())]
    Protocol {
        engine: &'static str,
        socket: PathBuf,
        what: String,
        message: String,
    },
    #[error(
        "{engine}'s answer while {what} is not what the Docker Engine API describes: {message}"
    )]
    Inspect {
        engine: &'static str,
        what: String,
        message: String,
    },
    #[error("reading the image export from {engine}: {message}")]
    Export { engine: String, message: String },
    #[error("no source has the image {name:?}: {tried}")]
    NotFound { name: String, tried: String },
}

impl EngineError {
    /// Whether trying the next source is right: the engine is not there, or lacks the image.
    pub fn falls_through(&self) -> bool {
        matches!(
            self,
            EngineError::Absent { .. }
                | EngineError::Refused { .. }
                | EngineError::NoSuchImage { .. }
        )
    }
}

/// One engine, reached through its socket.
#[derive(Debug, Clone)]
struct Client {
    engine: Engine,
    socket: PathBuf,
    timeout: Duration,
    min_rate: crate::MinRate,
}

impl Client {
    fn get(&self, path: &str, what: &str) -> Result<http::Response, EngineError> {
        http::get(&self.socket, path, self.timeout, http::Pace::Whole)
            .map_err(|e| self.io_error(e, what))
    }

    /// GETs an answer whose body streams (an export): it must keep up the minimum rate,
    /// judged over windows no shorter than the per-read timeout the user allows for a pause.
    fn get_streamed(&self, path: &str, what: &str) -> Result<http::Response, EngineError> {
        let rate = crate::MinRate {
            window: self.min_rate.window.max(self.timeout),
            ..self.min_rate
        };
        http::get(&self.socket, path, self.timeout, http::Pace::Stream(rate))
            .map_err(|e| self.io_error(e, what))
    }

    fn io_error(&self, e: io::Error, what: &str) -> EngineError {
        let engine = self.engine.title();
        let socket = self.socket.clone();
        if let Some(slow) = crate::pace::too_slow(&e) {
            return EngineError::TooSlow {
                engine,
                socket,
                what: what.to_string(),
                detail: slow.to_string(),
            };
        }
        match e.kind() {
            io::ErrorKind::NotFound => EngineError::Absent {
                engine,
                socket,
                hint: self.engine.start_hint(),
            },
            io::ErrorKind::ConnectionRefused => EngineError::Refused {
                engine,
                socket,
                hint: self.engine.start_hint(),
            },
            io::ErrorKind::PermissionDenied => EngineError::PermissionDenied { engine, socket },
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => EngineError::Timeout {
                engine,
                socket,
                secs: self.timeout.as_secs(),
                what: what.to_string(),
            },
            _ => EngineError::Protocol {
                engine,
                socket,
                what: what.to_string(),
                message: e.to_string(),
            },
        }
    }

    /// A JSON answer; 404 is `None`, other failures carry the engine's own message.
    fn get_json(&self, path: &str, what: &str) -> Result<Option<Value>, EngineError> {
        let response = self.get(path, what)?;
        let status = response.status;
        let body = response
            .read_small(SMALL_ANSWER)
            .map_err(|e| self.io_error(e, what))?;
        if status == 404 {
            return Ok(None);
        }
        if status != 200 {
            return Err(EngineError::Status {
                engine: self.engine.title(),
                status,
                what: what.to_string(),
                message: engine_message(&body),
            });
        }
        serde_json::from_slice(&body)
            .map(Some)
            .map_err(|e| EngineError::Inspect {
                engine: self.engine.title(),
                what: what.to_string(),
                message: e.to_string(),
            })
    }
}

/// The `message` of an engine's JSON error, else the body's start.
fn engine_message(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(500)]).into_owned())
}

/// An image name as a path segment: names carry `/`, `:` and `@`, which the API's routes
/// accept as they are; anything else unusual is escaped.
fn encode_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The export of one inspected image, read at most once per scan.
#[derive(Clone)]
pub struct EngineExport {
    client: Arc<Client>,
    id: String,
}

impl fmt::Debug for EngineExport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineExport")
            .field("engine", &self.client.engine)
            .field("socket", &self.client.socket)
            .field("id", &self.id)
            .finish()
    }
}

impl EngineExport {
    pub fn engine(&self) -> Engine {
        self.client.engine
    }

    /// Streams the image's export once, handing each layer that `known` does not vouch for to
    /// `visit` as it passes, with its tar verified against the diff_id it must have. Returns
    /// `visit`'s result per image layer (None for known layers). When every layer is known the
    /// engine is not asked for the export at all.
    pub fn read<T: Clone, E: From<ImageError>>(
        &self,
        layers: &[Layer],
        limits: Limits,
        known: &dyn Fn(&Layer) -> bool,
        visit: &mut dyn FnMut(ExportedMember<'_>, &mut LayerStream) -> Result<T, E>,
    ) -> Result<Vec<Option<T>>, E> {
        if layers.iter().all(known) {
            return Ok(vec![None; layers.len()]);
        }
        let what = "exporting the image";
        let response = self
            .client
            .get_streamed(&format!("/images/{}/get", encode_name(&self.id)), what)
            .map_err(ImageError::Engine)?;
        if response.status != 200 {
            let status = response.status;
            let body = response.read_small(64 << 10).unwrap_or_default();
            return Err(ImageError::Engine(EngineError::Status {
                engine: self.client.engine.title(),
                status,
                what: what.to_string(),
                message: engine_message(&body),
            })
            .into());
        }
        let client = self.client.clone();
        let body: Box<dyn Read + Send> = Box::new(TimeoutNamed {
            inner: response.body,
            client,
        });
        export::read_export(
            body,
            self.client.engine.title(),
            layers,
            limits,
            known,
            visit,
        )
    }
}

/// Turns a read timeout in the middle of the export into the engine's timeout message.
struct TimeoutNamed {
    inner: Box<dyn Read + Send>,
    client: Arc<Client>,
}

impl Read for TimeoutNamed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| match e.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => io::Error::new(
                io::ErrorKind::TimedOut,
                self.client
                    .io_error(e, "streaming the image export")
                    .to_string(),
            ),
            _ => e,
        })
    }
}

/// Opens `name` in `engine`: inspects it and prepares its export.
pub fn open(engine: Engine, name: &str, options: &EngineOptions) -> Result<Image, EngineError> {
    let socket = options.socket(engine)?;
    match socket.try_exists() {
        Ok(true) => {}
        Ok(false) => {
            return Err(EngineError::Absent {
                engine: engine.title(),
                socket,
                hint: engine.start_hint(),
            })
        }
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            return Err(EngineError::PermissionDenied {
                engine: engine.title(),
                socket,
            })
        }
        // Anything else shows itself, with its cause, when connecting.
        Err(_) => {}
    }
    let client = Arc::new(Client {
        engine,
        socket,
        timeout: options.timeout,
        min_rate: options.min_rate,
    });
    let inspect = client
        .get_json(
            &format!("/images/{}/json", encode_name(name)),
            "inspecting the image",
        )?
        .ok_or_else(|| EngineError::NoSuchImage {
            engine: engine.title(),
            cli: engine.name(),
            name: name.to_string(),
        })?;
    let id = inspect
        .get("Id")
        .and_then(Value::as_str)
        .ok_or_else(|| EngineError::Inspect {
            engine: engine.title(),
            what: "inspecting the image".into(),
            message: "no Id".into(),
        })?
        .to_string();
    let history = client
        .get_json(
            &format!("/images/{}/history", encode_name(&id)),
            "reading the image history",
        )?
        .unwrap_or(Value::Array(Vec::new()));
    let export = EngineExport { client, id };
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
    use super::*;

    #[test]
    fn sources_parse_in_order_without_repeats() {
        assert_eq!(
            Source::parse_list("podman, docker,podman,remote").unwrap(),
            vec![
                Source::Engine(Engine::Podman),
                Source::Engine(Engine::Docker),
                Source::Remote
            ]
        );
        assert!(Source::parse_list("docker,kube").is_err());
        assert!(Source::parse_list(" , ").is_err());
    }

    #[test]
    fn hosts_must_be_unix_sockets() {
        let options = EngineOptions {
            docker_host: Some("tcp://10.0.0.1:2375".into()),
            podman_host: Some("unix:///tmp/p.sock".into()),
            timeout: Duration::from_secs(1),
            min_rate: crate::MinRate::default(),
        };
        let err = options.socket(Engine::Docker).unwrap_err().to_string();
        assert!(
            err.contains("DOCKER_HOST") && err.contains("docker save"),
            "{err}"
        );
        assert_eq!(
            options.socket(Engine::Podman).unwrap(),
            PathBuf::from("/tmp/p.sock")
        );
    }

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
