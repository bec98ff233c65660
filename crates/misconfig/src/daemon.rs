//! Docker daemon settings (`daemon.json`, `BW-DMN-*`) against CIS Docker Benchmark v1.6.0
//! section 2. Findings on a key point at its line; findings on a missing key are on the file.

use serde_json::{Map, Value};

use crate::{FileError, Hit, SourceFile};

/// The line (1-based) where a top-level `"key":` appears, found in the text since serde_json
/// keeps no positions.
fn key_line(text: &str, key: &str) -> Option<usize> {
    let needle = format!("\"{key}\"");
    let mut depth = 0i32;
    let mut in_str = false;
    let mut escaped = false;
    let bytes = text.as_bytes();
    let mut line = 1;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\n' {
            line += 1;
        }
        if in_str {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_str = false;
            }
        } else if b == b'"' {
            if depth == 1 && text[i..].starts_with(&needle) {
                let rest = text[i + needle.len()..].trim_start();
                if rest.starts_with(':') {
                    return Some(line);
                }
            }
            in_str = true;
        } else if b == b'{' || b == b'[' {
            depth += 1;
        } else if b == b'}' || b == b']' {
            depth -= 1;
        }
        i += 1;
    }
    None
}

struct Ctx<'a> {
    text: &'a str,
    map: &'a Map<String, Value>,
    hits: Vec<Hit>,
}

impl Ctx<'_> {
    fn at(&mut self, id: &'static str, key: &str, msg: String) {
        let mut h = Hit::new(id, msg).on("daemon");
        if let Some(l) = key_line(self.text, key) {
            h = h.at(l, 1);
        }
        self.hits.push(h);
    }

    fn file(&mut self, id: &'static str, msg: &str) {
        self.hits.push(Hit::new(id, msg).on("daemon"));
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key)
    }

    fn is_true(&self, key: &str) -> bool {
        self.get(key) == Some(&Value::Bool(true))
    }
}

/// Runs every daemon.json check on one file.
pub fn scan(file: &SourceFile) -> Result<Vec<Hit>, FileError> {
    let text = std::str::from_utf8(&file.bytes)
        .map_err(|_| FileError::new(&file.path, None, "not UTF-8 text: not a daemon.json"))?;
    let value: Value = serde_json::from_str(text)
        .map_err(|e| FileError::new(&file.path, Some(e.line()), format!("invalid JSON: {e}")))?;
    let Value::Object(map) = &value else {
        return Err(FileError::new(
            &file.path,
            Some(1),
            "daemon.json must be a JSON object of daemon options",
        ));
    };
    let mut c = Ctx {
        text,
        map,
        hits: Vec::new(),
    };
    check(&mut c);
    Ok(c.hits)
}

fn check(c: &mut Ctx) {
    // 2.2 inter-container communication on the default bridge.
    match c.get("icc") {
        Some(Value::Bool(false)) => {}
        Some(_) => c.at("BW-DMN-001", "icc", "icc is not false: containers on the default bridge talk to each other freely".into()),
        None => c.file("BW-DMN-001", "icc is not set (default true): containers on the default bridge talk to each other freely"),
    }
    // 2.9 user namespaces.
    match c.get("userns-remap") {
        Some(Value::String(s)) if !s.is_empty() => {}
        Some(_) => c.at(
            "BW-DMN-002",
            "userns-remap",
            "userns-remap is empty: root in a container is root on the host".into(),
        ),
        None => c.file(
            "BW-DMN-002",
            "userns-remap is not set: root in a container is root on the host",
        ),
    }
    // 2.15 live restore.
    if !c.is_true("live-restore") {
        match c.get("live-restore") {
            Some(_) => c.at(
                "BW-DMN-003",
                "live-restore",
                "live-restore is not true: a daemon restart stops every container".into(),
            ),
            None => c.file(
                "BW-DMN-003",
                "live-restore is not set: a daemon restart stops every container",
            ),
        }
    }
    // 2.14 no-new-privileges.
    if !c.is_true("no-new-privileges") {
        match c.get("no-new-privileges") {
            Some(_) => c.at(
                "BW-DMN-004",
                "no-new-privileges",
                "no-new-privileges is not true: setuid programs can raise privileges in containers"
                    .into(),
            ),
            None => c.file(
                "BW-DMN-004",
                "no-new-privileges is not set: setuid programs can raise privileges in containers",
            ),
        }
    }
    // 2.5 insecure registries.
    if let Some(Value::Array(regs)) = c.get("insecure-registries") {
        let named: Vec<String> = regs
            .iter()
            .filter_map(|r| r.as_str())
            .filter(|r| !r.starts_with("127.") && !r.starts_with("localhost") && *r != "::1/128")
            .map(String::from)
            .collect();
        if !named.is_empty() {
            c.at(
                "BW-DMN-005",
                "insecure-registries",
                format!(
                    "insecure registries: {} (pulled over plain HTTP or unverified TLS)",
                    named.join(", ")
                ),
            );
        }
    }
    // 2.7 TCP socket without TLS client verification.
    if let Some(Value::Array(hosts)) = c.get("hosts") {
        let tcp: Vec<String> = hosts
            .iter()
            .filter_map(|h| h.as_str())
            .filter(|h| h.starts_with("tcp://"))
            .map(String::from)
            .collect();
        let verified = c.is_true("tlsverify")
            && c.get("tlscacert").is_some()
            && c.get("tlscert").is_some()
            && c.get("tlskey").is_some();
        if !tcp.is_empty() && !verified {
            c.at("BW-DMN-006", "hosts", format!("the daemon listens on {} without tlsverify and its certificates: anyone who reaches the port controls the host", tcp.join(", ")));
        }
    }
    // 2.3 log level.
    if let Some(v) = c.get("log-level") {
        if v.as_str() != Some("info") {
            c.at(
                "BW-DMN-007",
                "log-level",
                format!("log-level is {v}, not info"),
            );
        }
    }
    // 2.13 centralized logging.
    match c.get("log-driver").and_then(|v| v.as_str()) {
        Some("json-file" | "local" | "none") | None => {
            let shown = c
                .get("log-driver")
                .map(|v| v.to_string())
                .unwrap_or_else(|| "not set (json-file)".into());
            match c.get("log-driver") {
                Some(_) => c.at(
                    "BW-DMN-008",
                    "log-driver",
                    format!("log-driver is {shown}: container logs stay on the host only"),
                ),
                None => c.file(
                    "BW-DMN-008",
                    &format!("log-driver is {shown}: container logs stay on the host only"),
                ),
            }
        }
        Some(_) => {}
    }
    // 2.8 default ulimits.
    match c.get("default-ulimits") {
        Some(Value::Object(m)) if !m.is_empty() => {}
        Some(_) => c.at(
            "BW-DMN-009",
            "default-ulimits",
            "default-ulimits is empty".into(),
        ),
        None => c.file(
            "BW-DMN-009",
            "default-ulimits is not set: containers inherit the daemon's limits",
        ),
    }
    // 2.16 userland proxy.
    match c.get("userland-proxy") {
        Some(Value::Bool(false)) => {}
        Some(_) => c.at(
            "BW-DMN-010",
            "userland-proxy",
            "userland-proxy is not false".into(),
        ),
        None => c.file(
            "BW-DMN-010",
            "userland-proxy is not set (default true): a docker-proxy process per published port",
        ),
    }
    // 2.18 experimental.
    if c.is_true("experimental") {
        c.at(
            "BW-DMN-011",
            "experimental",
            "experimental features are enabled".into(),
        );
    }
    // 2.4 iptables.
    if c.get("iptables") == Some(&Value::Bool(false)) {
        c.at(
            "BW-DMN-012",
            "iptables",
            "iptables is false: Docker cannot maintain the firewall rules that isolate containers"
                .into(),
        );
    }
    // 2.6 aufs.
    if c.get("storage-driver").and_then(|v| v.as_str()) == Some("aufs") {
        c.at(
            "BW-DMN-013",
            "storage-driver",
            "storage-driver is aufs (deprecated, removed from Docker)".into(),
        );
    }
    // 2.12 authorization plugins.
    match c.get("authorization-plugins") {
        Some(Value::Array(a)) if !a.is_empty() => {}
        Some(_) => c.at(
            "BW-DMN-014",
            "authorization-plugins",
            "authorization-plugins is empty".into(),
        ),
        None => c.file(
            "BW-DMN-014",
            "no authorization plugin: every client of the socket can do everything",
        ),
    }
    // 2.17 seccomp.
    if c.get("seccomp-profile").and_then(|v| v.as_str()) == Some("unconfined") {
        c.at(
            "BW-DMN-015",
            "seccomp-profile",
            "seccomp-profile is unconfined: containers may make every system call".into(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FileKind;

    fn run(text: &str) -> Result<Vec<Hit>, FileError> {
        scan(&SourceFile {
            path: "daemon.json".into(),
            kind: FileKind::DaemonJson,
            bytes: text.as_bytes().to_vec(),
        })
    }

    #[test]
    fn invalid_json_names_the_line() {
        let e = run("{\n  \"icc\": false,\n  \"live-restore\": ,\n}").unwrap_err();
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("invalid JSON"));
        assert!(run("[1]").unwrap_err().message.contains("JSON object"));
    }

    #[test]
    fn key_lines_skip_nested_keys() {
        let text = "{\n \"log-opts\": {\"icc\": 1},\n \"icc\": true\n}";
        assert_eq!(key_line(text, "icc"), Some(3));
    }
}
