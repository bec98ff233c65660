//! A client for the Docker Engine API on a local unix socket, as Docker serves it and as
//! Podman does (`podman system service`): which engines there are ([`Engine`]), where a bare
//! image name is looked for ([`Source`]), how to reach them ([`EngineOptions`]), and the three
//! calls a scan makes through a [`Client`]: inspect an image, read its history, and stream its
//! export (`GET /images/{id}/get`), every read held to a timeout and a [`MinRate`]. Failures
//! are [`EngineError`]s that say what to start, fix or choose instead. The crate knows nothing
//! of the image model: `bulwark-image` turns the answers into an `Image` whose layers are read,
//! verified, from the export stream, and `bulwark-image`'s registry client shares the pacing
//! ([`pace`]). Only the standard library's unix socket and `serde_json` are used, no HTTP crate.
#![forbid(unsafe_code)]

mod http;
pub mod pace;

use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

pub use pace::{MinRate, TooSlow};

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

    /// The engine's name as its documentation writes it, for messages.
    pub fn title(self) -> &'static str {
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
    pub min_rate: MinRate,
}

impl Default for EngineOptions {
    fn default() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        EngineOptions {
            docker_host: var("DOCKER_HOST"),
            podman_host: var("CONTAINER_HOST"),
            timeout: Duration::from_secs(300),
            min_rate: MinRate::default(),
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
    #[error("{engine} has no container {name:?}: `{cli} ps -a` lists the ones it has")]
    NoSuchContainer {
        engine: &'static str,
        cli: &'static str,
        name: String,
    },
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
pub struct Client {
    engine: Engine,
    socket: PathBuf,
    timeout: Duration,
    min_rate: MinRate,
}

impl Client {
    fn get(&self, path: &str, what: &str) -> Result<http::Response, EngineError> {
        http::get(&self.socket, path, self.timeout, http::Pace::Whole)
            .map_err(|e| self.io_error(e, what))
    }

    /// GETs an answer whose body streams (an export): it must keep up the minimum rate,
    /// judged over windows no shorter than the per-read timeout the user allows for a pause.
    fn get_streamed(&self, path: &str, what: &str) -> Result<http::Response, EngineError> {
        let rate = MinRate {
            window: self.min_rate.window.max(self.timeout),
            ..self.min_rate
        };
        http::get(&self.socket, path, self.timeout, http::Pace::Stream(rate))
            .map_err(|e| self.io_error(e, what))
    }

    fn io_error(&self, e: io::Error, what: &str) -> EngineError {
        let engine = self.engine.title();
        let socket = self.socket.clone();
        if let Some(slow) = pace::too_slow(&e) {
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

impl Client {
    /// Reaches `engine` where `options` say it listens; an error, without connecting, when its
    /// socket is absent or not usable by this user.
    pub fn connect(engine: Engine, options: &EngineOptions) -> Result<Client, EngineError> {
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
        Ok(Client {
            engine,
            socket,
            timeout: options.timeout,
            min_rate: options.min_rate,
        })
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// `GET /images/{name}/json`: the image's id, layer diff_ids and config fields.
    pub fn inspect(&self, name: &str) -> Result<Value, EngineError> {
        self.get_json(
            &format!("/images/{}/json", encode_name(name)),
            "inspecting the image",
        )?
        .ok_or_else(|| EngineError::NoSuchImage {
            engine: self.engine.title(),
            cli: self.engine.name(),
            name: name.to_string(),
        })
    }

    /// `GET /images/{id}/history`: the build steps, newest first; an empty list when the
    /// engine has none.
    pub fn history(&self, id: &str) -> Result<Value, EngineError> {
        Ok(self
            .get_json(
                &format!("/images/{}/history", encode_name(id)),
                "reading the image history",
            )?
            .unwrap_or(Value::Array(Vec::new())))
    }

    /// `GET /images/{id}/get`: the image as one `docker save` tar stream, which must keep up
    /// the minimum rate; a read timeout in the middle names the engine.
    pub fn export(self: &Arc<Self>, id: &str) -> Result<Box<dyn Read + Send>, EngineError> {
        let what = "exporting the image";
        let response = self.get_streamed(&format!("/images/{}/get", encode_name(id)), what)?;
        if response.status != 200 {
            let status = response.status;
            let body = response.read_small(64 << 10).unwrap_or_default();
            return Err(EngineError::Status {
                engine: self.engine.title(),
                status,
                what: what.to_string(),
                message: engine_message(&body),
            });
        }
        Ok(Box::new(TimeoutNamed {
            inner: response.body,
            client: self.clone(),
        }))
    }
}

/// The calls `bulwark runtime` makes: running containers, their inspect documents, the files
/// changed since they started, their processes and the engine's container events.
impl Client {
    /// `GET /containers/json`: the running containers (every container with `all`), as the
    /// engine lists them (`Id`, `Names`, `Image`, `ImageID`, `State`).
    pub fn list_containers(&self, all: bool) -> Result<Vec<Value>, EngineError> {
        let path = format!("/containers/json?all={}", if all { "1" } else { "0" });
        match self.get_json(&path, "listing the containers")? {
            Some(Value::Array(list)) => Ok(list),
            Some(Value::Null) | None => Ok(Vec::new()),
            Some(other) => Err(EngineError::Inspect {
                engine: self.engine.title(),
                what: "listing the containers".to_string(),
                message: format!("expected a list, got {}", kind_of(&other)),
            }),
        }
    }

    /// `GET /containers/{id}/json`: the container's inspect document (`HostConfig`,
    /// `Config`, `State`, `Mounts` ...).
    pub fn inspect_container(&self, id: &str) -> Result<Value, EngineError> {
        self.get_json(
            &format!("/containers/{}/json", encode_name(id)),
            "inspecting the container",
        )?
        .ok_or_else(|| self.no_such_container(id))
    }

    /// `GET /containers/{id}/changes`: the files added (`Kind` 1), changed (0) or deleted (2)
    /// in the container's root filesystem since it was created; empty when none.
    pub fn container_changes(&self, id: &str) -> Result<Vec<Value>, EngineError> {
        match self.get_json(
            &format!("/containers/{}/changes", encode_name(id)),
            "reading the container's changes",
        )? {
            Some(Value::Array(list)) => Ok(list),
            Some(_) => Ok(Vec::new()),
            None => Err(self.no_such_container(id)),
        }
    }

    /// `GET /containers/{id}/top`: the container's processes as `ps` shows them (`Titles`,
    /// `Processes`); [`pids_of_top`] picks the host pids out of it.
    pub fn container_top(&self, id: &str) -> Result<Value, EngineError> {
        self.get_json(
            &format!("/containers/{}/top", encode_name(id)),
            "listing the container's processes",
        )?
        .ok_or_else(|| self.no_such_container(id))
    }

    /// `GET /events` for container `start`, `die` and `destroy` events: one JSON object per
    /// event, for as long as the engine keeps the connection (the head must come within the
    /// timeout; then the stream may stay quiet indefinitely).
    pub fn container_events(&self) -> Result<Events, EngineError> {
        let what = "following the container events";
        let filters = r#"{"type":["container"],"event":["start","die","destroy"]}"#;
        let path = format!("/events?filters={}", percent_encode(filters));
        let response = http::get(&self.socket, &path, self.timeout, http::Pace::Open)
            .map_err(|e| self.io_error(e, what))?;
        if response.status != 200 {
            let status = response.status;
            let body = response.read_small(64 << 10).unwrap_or_default();
            return Err(EngineError::Status {
                engine: self.engine.title(),
                status,
                what: what.to_string(),
                message: engine_message(&body),
            });
        }
        Ok(Events {
            stream: serde_json::Deserializer::from_reader(response.body).into_iter(),
        })
    }

    fn no_such_container(&self, name: &str) -> EngineError {
        EngineError::NoSuchContainer {
            engine: self.engine.title(),
            cli: self.engine.name(),
            name: name.to_string(),
        }
    }
}

/// The engine's container events, one decoded JSON object at a time; `None` when the engine
/// closes the stream.
pub struct Events {
    stream: serde_json::StreamDeserializer<
        'static,
        serde_json::de::IoRead<Box<dyn Read + Send>>,
        Value,
    >,
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Events")
    }
}

impl Iterator for Events {
    type Item = Result<Value, String>;

    fn next(&mut self) -> Option<Self::Item> {
        self.stream
            .next()
            .map(|event| event.map_err(|e| format!("the engine's event stream broke: {e}")))
    }
}

/// The host pids in a `top` answer: the column titled `PID` (Docker's `ps -ef` and Podman's
/// own format both have one); rows whose pid does not parse are skipped.
pub fn pids_of_top(top: &Value) -> Vec<u32> {
    let Some(column) = top
        .get("Titles")
        .and_then(Value::as_array)
        .and_then(|titles| titles.iter().position(|t| t.as_str() == Some("PID")))
    else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = top
        .get("Processes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|row| row.get(column)?.as_str()?.trim().parse().ok())
        .collect();
    pids.sort_unstable();
    pids.dedup();
    pids
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A query value as a URL component: everything but unreserved characters escaped.
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 2);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
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
    fn top_answers_give_their_pid_column() {
        let docker = serde_json::json!({
            "Titles": ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
            "Processes": [["root", "812", "790", "0", "01:00", "?", "00:00:00", "sleep 1"],
                          ["root", "notapid", "1", "0", "", "", "", ""]]
        });
        assert_eq!(pids_of_top(&docker), vec![812]);
        let podman = serde_json::json!({
            "Titles": ["USER", "PID", "PPID", "%CPU", "ELAPSED", "TTY", "TIME", "COMMAND"],
            "Processes": [["root", "1", "0", "0.000", "1s", "?", "0s", "sleep 1"]]
        });
        assert_eq!(pids_of_top(&podman), vec![1]);
        assert!(pids_of_top(&serde_json::json!({"Processes": []})).is_empty());
        assert_eq!(
            percent_encode(r#"{"type":["container"]}"#),
            "%7B%22type%22%3A%5B%22container%22%5D%7D"
        );
    }

    #[test]
    fn hosts_must_be_unix_sockets() {
        let options = EngineOptions {
            docker_host: Some("tcp://10.0.0.1:2375".into()),
            podman_host: Some("unix:///tmp/p.sock".into()),
            timeout: Duration::from_secs(1),
            min_rate: MinRate::default(),
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
}
