//! Registry credentials: where they come from (flags, environment, Docker's `config.json` and
//! its credential helpers) and how a server asks for them (`WWW-Authenticate` challenges).
//!
//! Secrets live in [`Secret`], which masks itself whenever it is displayed or debug-printed.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;

use super::RegistryError;

/// A password or token. Prints as `***`; the value is only reachable through [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// What to authenticate with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A user name and password (or personal access token), sent as Basic to the registry or
    /// to its token service.
    Basic { username: String, password: Secret },
    /// An OAuth2 refresh token (`identitytoken` in `config.json`), exchanged at the token
    /// service.
    IdentityToken(Secret),
}

impl Credentials {
    pub fn basic(username: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials::Basic {
            username: username.into(),
            password: Secret::new(password),
        }
    }

    /// The `Authorization` header value for Basic, when these are Basic credentials.
    pub(crate) fn basic_header(&self) -> Option<String> {
        match self {
            Credentials::Basic { username, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{}", password.expose()))
            )),
            Credentials::IdentityToken(_) => None,
        }
    }
}

/// Where `config.json` lives: `$DOCKER_CONFIG`, else `~/.docker`.
pub fn default_docker_config_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker"))
}

#[derive(Debug, Default, serde::Deserialize)]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

/// The keys `config.json` may use for a registry: `docker login` writes Docker Hub as
/// `https://index.docker.io/v1/`, others as the bare host, older clients with a scheme.
fn lookup_keys(registry: &str) -> Vec<String> {
    if registry == super::DOCKER_HUB {
        vec![
            "https://index.docker.io/v1/".into(),
            "index.docker.io".into(),
            "docker.io".into(),
            "registry-1.docker.io".into(),
        ]
    } else {
        vec![
            registry.to_string(),
            format!("https://{registry}"),
            format!("http://{registry}"),
        ]
    }
}

/// Normalises a `config.json` key for comparison: no scheme, no path.
fn key_host(key: &str) -> &str {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    k.split('/').next().unwrap_or(k)
}

/// Reads the credentials `config.json` in `dir` holds for `registry`: a `credHelpers` entry
/// first, then `auths`, then the `credsStore` helper. A missing file means none.
pub fn from_docker_config(
    dir: &Path,
    registry: &str,
) -> Result<Option<Credentials>, RegistryError> {
    let path = dir.join("config.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(RegistryError::Config(format!(
                "cannot read {}: {e}",
                path.display()
            )))
        }
    };
    let config: DockerConfig = serde_json::from_str(&text).map_err(|e| {
        RegistryError::Config(format!(
            "{} is not a valid Docker config (line {}, column {}): {e}",
            path.display(),
            e.line(),
            e.column()
        ))
    })?;
    let keys = lookup_keys(registry);
    let wanted = |k: &str| keys.iter().any(|w| w == k) || key_host(k) == registry;

    if let Some((key, helper)) = config.cred_helpers.iter().find(|(k, _)| wanted(k)) {
        return run_helper(helper, key, &path);
    }
    if let Some((key, entry)) = config.auths.iter().find(|(k, _)| wanted(k)) {
        if let Some(token) = &entry.identitytoken {
            if !token.is_empty() {
                return Ok(Some(Credentials::IdentityToken(Secret::new(token.clone()))));
            }
        }
        if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    RegistryError::Config(format!(
                        "{}: auths.{key:?}.auth is not base64 of USER:PASSWORD",
                        path.display()
                    ))
                })?;
            let (user, pass) = decoded.split_once(':').ok_or_else(|| {
                RegistryError::Config(format!(
                    "{}: auths.{key:?}.auth does not decode to USER:PASSWORD",
                    path.display()
                ))
            })?;
            return Ok(Some(Credentials::basic(user, pass)));
        }
        if let (Some(u), Some(p)) = (&entry.username, &entry.password) {
            return Ok(Some(Credentials::basic(u.clone(), p.clone())));
        }
    }
    if let Some(store) = config.creds_store.as_deref().filter(|s| !s.is_empty()) {
        // The helper knows the key it was given at login; ask with the canonical one.
        return run_helper(store, &keys[0], &path);
    }
    Ok(None)
}

#[derive(serde::Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// Runs `docker-credential-HELPER get` with the server URL on stdin (the Docker credential
/// helper protocol). "Not found" answers mean no credentials.
fn run_helper(
    helper: &str,
    server: &str,
    config: &Path,
) -> Result<Option<Credentials>, RegistryError> {
    if helper.is_empty()
        || !helper
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(RegistryError::Config(format!(
            "{}: credential helper name {helper:?} is not valid",
            config.display()
        )));
    }
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            RegistryError::Config(format!(
                "{} names the credential helper {helper:?}, but {program} cannot be run: {e}. Install it or remove it from the config",
                config.display()
            ))
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| RegistryError::Config(format!("{program} get failed: {e}")))?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        if said.to_ascii_lowercase().contains("not found") {
            return Ok(None);
        }
        // The helper's own words could echo a secret; say only how it ended.
        return Err(RegistryError::Config(format!(
            "{program} get for {server} failed ({}); check the helper with `echo {server} | {program} get`",
            out.status
        )));
    }
    let answer: HelperAnswer = serde_json::from_slice(&out.stdout).map_err(|e| {
        RegistryError::Config(format!(
            "{program} get answered something that is not the helper protocol's JSON: {e}"
        ))
    })?;
    if answer.secret.is_empty() {
        return Ok(None);
    }
    if answer.username == "<token>" {
        return Ok(Some(Credentials::IdentityToken(Secret::new(answer.secret))));
    }
    Ok(Some(Credentials::basic(answer.username, answer.secret)))
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Lower-cased scheme: `basic` or `bearer`.
    pub scheme: String,
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    /// Parses `Bearer realm="…",service="…",scope="…"` (quoted values may hold commas).
    pub fn parse(header: &str) -> Option<Challenge> {
        let header = header.trim();
        let (scheme, rest) = match header.split_once(char::is_whitespace) {
            Some((s, r)) => (s, r),
            None => (header, ""),
        };
        if scheme.is_empty() {
            return None;
        }
        let mut params = BTreeMap::new();
        let mut chars = rest.chars().peekable();
        loop {
            while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
                chars.next();
            }
            let mut key = String::new();
            while let Some(&c) = chars.peek() {
                if c == '=' || c == ',' {
                    break;
                }
                key.push(c);
                chars.next();
            }
            if key.trim().is_empty() {
                break;
            }
            if chars.next() != Some('=') {
                break;
            }
            let mut value = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            if let Some(n) = chars.next() {
                                value.push(n);
                            }
                        }
                        '"' => break,
                        c => value.push(c),
                    }
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == ',' {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
            params.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
        }
        Some(Challenge {
            scheme: scheme.to_ascii_lowercase(),
            params,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_mask_themselves() {
        let c = Credentials::basic("alice", "hunter2");
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("alice"));
        assert_eq!(format!("{}", Secret::new("x")), "***");
        assert_eq!(c.basic_header().unwrap(), "Basic YWxpY2U6aHVudGVyMg==");
    }

    #[test]
    fn parses_challenges() {
        let c = Challenge::parse(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull,push""#,
        )
        .unwrap();
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.params["realm"], "https://auth.docker.io/token");
        assert_eq!(c.params["service"], "registry.docker.io");
        assert_eq!(c.params["scope"], "repository:library/nginx:pull,push");
        let c = Challenge::parse(r#"Basic realm="Registry Realm""#).unwrap();
        assert_eq!(c.scheme, "basic");
        assert_eq!(c.params["realm"], "Registry Realm");
        assert!(Challenge::parse("").is_none());
    }

    #[test]
    fn reads_docker_config_forms() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"auths":{
                "https://index.docker.io/v1/":{"auth":"dXNlcjpwYXNz"},
                "reg.example:5000":{"username":"u","password":"p:w"},
                "https://tok.example":{"identitytoken":"refresh"}}}"#,
        )
        .unwrap();
        assert_eq!(
            from_docker_config(dir.path(), "docker.io").unwrap(),
            Some(Credentials::basic("user", "pass"))
        );
        assert_eq!(
            from_docker_config(dir.path(), "reg.example:5000").unwrap(),
            Some(Credentials::basic("u", "p:w"))
        );
        assert_eq!(
            from_docker_config(dir.path(), "tok.example").unwrap(),
            Some(Credentials::IdentityToken(Secret::new("refresh")))
        );
        assert_eq!(
            from_docker_config(dir.path(), "other.example").unwrap(),
            None
        );
        std::fs::write(dir.path().join("config.json"), "{\n  \"auths\": 3}").unwrap();
        let err = from_docker_config(dir.path(), "x").unwrap_err().to_string();
        assert!(
            err.contains("config.json") && err.contains("line 2"),
            "{err}"
        );
        let err = {
            std::fs::write(
                dir.path().join("config.json"),
                r#"{"credHelpers":{"x.example":"bulwark-test-no-such-helper"}}"#,
            )
            .unwrap();
            from_docker_config(dir.path(), "x.example")
                .unwrap_err()
                .to_string()
        };
        assert!(
            err.contains("docker-credential-bulwark-test-no-such-helper"),
            "{err}"
        );
    }
}
