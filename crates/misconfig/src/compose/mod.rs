//! Checks for Compose files (`docker-compose.yml`, `compose.yaml`): each service's privileges,
//! host namespaces and mounts, capabilities, confinement, secrets in its environment, user,
//! published ports, image, filesystem, limits and restart policy.
//!
//! Both the short and the long syntax of `volumes` and `ports`, and both the list and the map
//! form of `environment`, are understood. Findings land on the offending key or list item, or
//! on the service's name when a setting is missing.

use crate::yaml::{self, Node};
use crate::{FileError, Hit, SourceFile};

/// Capabilities Docker grants by default; adding any other is reported.
const DEFAULT_CAPS: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "NET_RAW",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// Container ports that must not be published on every interface: (port, what listens there).
const SENSITIVE_PORTS: &[(u32, &str)] = &[
    (22, "SSH"),
    (23, "telnet"),
    (2375, "the Docker API without TLS"),
    (2376, "the Docker API"),
    (2379, "etcd"),
    (3306, "MySQL"),
    (3389, "RDP"),
    (5432, "PostgreSQL"),
    (5984, "CouchDB"),
    (6379, "Redis"),
    (6443, "the Kubernetes API server"),
    (9200, "Elasticsearch"),
    (9300, "Elasticsearch transport"),
    (10250, "the kubelet API"),
    (11211, "memcached"),
    (15672, "the RabbitMQ management UI"),
    (27017, "MongoDB"),
    (1433, "SQL Server"),
    (1521, "Oracle"),
    (5672, "AMQP"),
    (8086, "InfluxDB"),
    (9042, "Cassandra"),
];

/// Host paths that hand the container the Docker daemon (and so the host).
fn runtime_socket(path: &str) -> bool {
    // `//var/run/docker.sock` is the Docker Desktop for Windows spelling.
    let path = format!("/{}", path.trim_start_matches('/'));
    let p = path.trim_end_matches('/');
    matches!(
        p,
        "" | "/var"
            | "/var/run/docker.sock"
            | "/run/docker.sock"
            | "/var/run"
            | "/run"
            | "/var/run/docker"
            | "/var/lib/docker"
            | "/run/containerd"
            | "/var/run/containerd"
            | "/run/containerd/containerd.sock"
            | "/var/run/containerd/containerd.sock"
            | "/run/podman/podman.sock"
            | "/var/run/podman/podman.sock"
    ) || (p.ends_with(".sock")
        && (p.contains("docker") || p.contains("containerd") || p.contains("podman")))
}

/// Host directories whose mount exposes or lets the container change the host itself.
fn sensitive_host_dir(path: &str) -> Option<&'static str> {
    let path = format!("/{}", path.trim_start_matches('/'));
    let p = path.trim_end_matches('/');
    [
        "/etc",
        "/boot",
        "/dev",
        "/proc",
        "/sys",
        "/usr",
        "/lib",
        "/lib64",
        "/bin",
        "/sbin",
        "/root",
        "/var/lib/kubelet",
        "/etc/kubernetes",
    ]
    .into_iter()
    .find(|d| {
        p == *d
            || (p.starts_with(d)
                && p[d.len()..].starts_with('/')
                && matches!(*d, "/boot" | "/root" | "/proc" | "/sys"))
    })
}

/// A boolean field: Compose takes quoted booleans too (`privileged: "true"`), since the
/// value may come from interpolation.
fn flag(node: &Node) -> Option<bool> {
    node.as_bool().or_else(|| match node.as_str()?.trim() {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    })
}

/// Runs every compose check on one file.
pub fn scan(file: &SourceFile) -> Result<Vec<Hit>, FileError> {
    let text = std::str::from_utf8(&file.bytes).map_err(|_| {
        FileError::new(
            &file.path,
            None,
            "not UTF-8 text; compose files are UTF-8 YAML",
        )
    })?;
    let docs =
        yaml::load_stream(text).map_err(|e| FileError::new(&file.path, Some(e.line), e.message))?;
    let mut hits = Vec::new();
    for doc in &docs {
        for (key, service) in doc.get("services").map(Node::map).unwrap_or_default() {
            let name = key.as_str().unwrap_or("unnamed");
            let mut s = Service {
                key,
                node: service,
                name,
                hits: &mut hits,
            };
            s.check();
        }
    }
    Ok(hits)
}

struct Service<'a, 'h> {
    key: &'a Node,
    node: &'a Node,
    name: &'a str,
    hits: &'h mut Vec<Hit>,
}

impl Service<'_, '_> {
    fn hit(&mut self, at: &Node, id: &'static str, message: String) {
        self.hits.push(
            Hit::new(id, message)
                .at(at.line, at.col)
                .on(format!("service {}", self.name)),
        );
    }

    fn check(&mut self) {
        let node = self.node;
        let name = self.name;
        let key = self.key;
        // privileged
        let privileged = node.get("privileged").and_then(flag) == Some(true);
        if let (true, Some((k, _))) = (privileged, node.entry("privileged")) {
            self.hit(
                k,
                "BW-CMP-001",
                format!("service {name} runs privileged: root on the host in all but name"),
            );
        }
        // docker.sock
        for v in node.get("volumes").map(Node::seq).unwrap_or_default() {
            let (source, at) = match v.as_str() {
                // A lone path is an anonymous volume at that container path, not a mount.
                Some(short) if !short.contains(':') => continue,
                Some(short) => (short.split(':').next().unwrap_or(""), v),
                None => match v.entry("source") {
                    Some((k, s))
                        if v.get("type")
                            .and_then(Node::as_str)
                            .is_none_or(|t| t == "bind") =>
                    {
                        (s.as_str().unwrap_or(""), k)
                    }
                    _ => continue,
                },
            };
            if runtime_socket(source) {
                self.hit(at, "BW-CMP-002", format!("service {name} mounts {source}: control of the Docker daemon is control of the host"));
            } else if let Some(dir) = sensitive_host_dir(source) {
                self.hit(
                    at,
                    "BW-CMP-015",
                    format!("service {name} mounts the host's {dir}"),
                );
            }
            // Mount propagation: short syntax `src:dst:rshared`, long `bind: {propagation: shared}`.
            let shared = |p: &str| matches!(p, "shared" | "rshared");
            let propagation = match v.as_str() {
                Some(short) => short
                    .split(':')
                    .nth(2)
                    .and_then(|opts| opts.split(',').find(|o| shared(o)))
                    .map(|o| (v, o.to_string())),
                None => v
                    .path(&["bind", "propagation"])
                    .and_then(Node::as_str)
                    .filter(|p| shared(p))
                    .map(|p| {
                        (
                            v.path_key(&["bind", "propagation"]).unwrap_or(v),
                            p.to_string(),
                        )
                    }),
            };
            if let Some((at, mode)) = propagation {
                self.hit(at, "BW-CMP-016", format!("service {name} mounts {source} with {mode} propagation: mounts made in the container reach the host"));
            }
        }
        // host namespaces
        for k in ["network_mode", "pid", "ipc", "userns_mode", "uts"] {
            if let Some((kn, v)) = node.entry(k) {
                if v.as_str() == Some("host") {
                    self.hit(
                        kn,
                        "BW-CMP-003",
                        format!("service {name} shares the host's namespace ({k}: host)"),
                    );
                }
            }
        }
        // cap_add
        for c in node.get("cap_add").map(Node::seq).unwrap_or_default() {
            // Docker reads capability names case-insensitively, with or without `CAP_`.
            let upper = c.as_str().unwrap_or("").trim().to_ascii_uppercase();
            let cap = upper.strip_prefix("CAP_").unwrap_or(&upper).to_string();
            if !cap.is_empty() && !DEFAULT_CAPS.contains(&cap.as_str()) {
                self.hit(
                    c,
                    "BW-CMP-004",
                    format!("service {name} adds capability {cap}"),
                );
            }
        }
        // security_opt
        let mut no_new_privs = false;
        for o in node.get("security_opt").map(Node::seq).unwrap_or_default() {
            let opt = o.as_str().unwrap_or("").replace('=', ":");
            let opt = opt.trim();
            if matches!(
                opt,
                "seccomp:unconfined"
                    | "apparmor:unconfined"
                    | "label:disable"
                    | "systempaths:unconfined"
            ) {
                self.hit(
                    o,
                    "BW-CMP-005",
                    format!("service {name} turns off confinement ({opt})"),
                );
            }
            if opt == "no-new-privileges" || opt == "no-new-privileges:true" {
                no_new_privs = true;
            }
        }
        if !no_new_privs {
            self.hit(
                key,
                "BW-CMP-012",
                format!("service {name} does not set security_opt no-new-privileges:true"),
            );
        }
        self.environment();
        // user
        match node.entry("user") {
            Some((k, v)) => {
                let user = v.as_str().unwrap_or("");
                let uid = user.split(':').next().unwrap_or("");
                if uid == "root" || uid == "0" {
                    self.hit(k, "BW-CMP-007", format!("service {name} runs as {user}"));
                }
            }
            None => self.hit(key, "BW-CMP-007", format!("service {name} sets no user: it runs as the image's user, root unless the image says otherwise")),
        }
        self.ports();
        // image
        if node.get("build").is_none() {
            if let Some((k, v)) = node.entry("image") {
                let image = v.as_str().unwrap_or("");
                let (name_part, pinned) = match image.split_once('@') {
                    Some((n, _)) => (n, true),
                    None => (image, false),
                };
                let last = name_part.rsplit('/').next().unwrap_or(name_part);
                let tag = last.split_once(':').map(|(_, t)| t);
                if !pinned && !image.contains("${") && tag.is_none_or(|t| t == "latest") {
                    self.hit(
                        k,
                        "BW-CMP-009",
                        format!("service {name} uses image {image:?}: latest, or no tag"),
                    );
                }
            }
        }
        // read_only
        match node.entry("read_only") {
            Some((_, v)) if flag(v) == Some(true) => {}
            Some((k, _)) => self.hit(
                k,
                "BW-CMP-010",
                format!("service {name} has a writable root filesystem"),
            ),
            None => self.hit(
                key,
                "BW-CMP-010",
                format!("service {name} does not set read_only: true"),
            ),
        }
        // memory limit
        let limited = node.get("mem_limit").is_some_and(|v| !v.is_null())
            || node
                .path(&["deploy", "resources", "limits", "memory"])
                .is_some_and(|v| !v.is_null());
        if !limited {
            self.hit(key, "BW-CMP-011", format!("service {name} has no memory limit (mem_limit or deploy.resources.limits.memory)"));
        }
        // devices
        for d in node.get("devices").map(Node::seq).unwrap_or_default() {
            let dev = d
                .as_str()
                .map(str::to_string)
                .or_else(|| d.get("source").and_then(Node::as_str).map(str::to_string))
                .unwrap_or_default();
            self.hit(
                d,
                "BW-CMP-013",
                format!(
                    "service {name} is given the host device {}",
                    dev.split(':').next().unwrap_or("")
                ),
            );
        }
        // pids limit
        let pids = node
            .get("pids_limit")
            .and_then(Node::as_i64)
            .filter(|n| *n > 0)
            .is_some()
            || node
                .path(&["deploy", "resources", "limits", "pids"])
                .and_then(Node::as_i64)
                .is_some_and(|n| n > 0);
        if !pids {
            // `pids_limit: -1` (or 0) is written and wrong: report it there.
            let at = node.entry("pids_limit").map(|(k, _)| k).unwrap_or(key);
            self.hit(at, "BW-CMP-017", format!("service {name} has no PIDs limit (pids_limit): a fork bomb in it exhausts the host"));
        }
        // healthcheck turned off
        if let Some(hc) = node.get("healthcheck") {
            // Reported at the setting that turns it off.
            let disabled = hc
                .entry("disable")
                .filter(|(_, v)| flag(v) == Some(true))
                .or_else(|| {
                    hc.entry("test")
                        .filter(|(_, t)| t.strs().first() == Some(&"NONE"))
                });
            if let Some((k, _)) = disabled {
                self.hit(
                    k,
                    "BW-CMP-018",
                    format!("service {name} turns its image's HEALTHCHECK off"),
                );
            }
        }
        // restart policy
        if let Some((k, v)) = node.entry("restart") {
            if matches!(v.as_str(), Some("always" | "unless-stopped")) {
                self.hit(k, "BW-CMP-014", format!("service {name} restarts {} without bound: a crashing or exploited container comes back forever", v.as_str().unwrap_or("")));
            }
        }
    }

    fn environment(&mut self) {
        let Some(env) = self.node.get("environment") else {
            return;
        };
        let name = self.name;
        let mut found: Vec<(&Node, String)> = Vec::new();
        match &env.value {
            crate::yaml::Value::Map(entries) => {
                for (k, v) in entries.iter() {
                    let (Some(var), Some(value)) = (k.as_str(), v.as_str()) else {
                        continue;
                    };
                    if let Some(why) = secret_env(var, value) {
                        found.push((
                            k,
                            format!("service {name} sets {var} {why} (value redacted)"),
                        ));
                    }
                }
            }
            crate::yaml::Value::Seq(items) => {
                for item in items.iter() {
                    let Some((var, value)) = item.as_str().and_then(|s| s.split_once('=')) else {
                        continue;
                    };
                    if let Some(why) = secret_env(var.trim(), value) {
                        found.push((
                            item,
                            format!("service {name} sets {} {why} (value redacted)", var.trim()),
                        ));
                    }
                }
            }
            _ => {}
        }
        for (at, msg) in found {
            self.hit(at, "BW-CMP-006", msg);
        }
    }

    fn ports(&mut self) {
        let name = self.name;
        let mut found: Vec<(&Node, String)> = Vec::new();
        for p in self.node.get("ports").map(Node::seq).unwrap_or_default() {
            let (host_ip, container) = match p.as_str() {
                Some(short) => match parse_short_port(short) {
                    Some(parts) => parts,
                    None => continue,
                },
                None => {
                    let target = p.get("target").and_then(Node::as_i64);
                    let Some(target) = target else { continue };
                    (
                        p.get("host_ip").and_then(Node::as_str).map(str::to_string),
                        target.to_string(),
                    )
                }
            };
            let all_interfaces = host_ip
                .as_deref()
                .is_none_or(|ip| ip == "0.0.0.0" || ip == "::" || ip == "[::]");
            if !all_interfaces {
                continue;
            }
            let Ok(port) = container.parse::<u32>() else {
                continue;
            };
            if let Some((_, what)) = SENSITIVE_PORTS.iter().find(|(n, _)| *n == port) {
                found.push((p, format!("service {name} publishes port {port} ({what}) on every interface of the host")));
            }
        }
        for (at, msg) in found {
            self.hit(at, "BW-CMP-008", msg);
        }
    }
}

/// `[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]` → (host IP, container port).
fn parse_short_port(spec: &str) -> Option<(Option<String>, String)> {
    let spec = spec.split('/').next()?.trim();
    let (ip, rest) = if let Some(r) = spec.strip_prefix('[') {
        let (ip, rest) = r.split_once(']')?;
        (Some(ip.to_string()), rest.trim_start_matches(':'))
    } else {
        let parts: Vec<&str> = spec.split(':').collect();
        match parts.len() {
            3 => (Some(parts[0].to_string()), &spec[parts[0].len() + 1..]),
            _ => (None, spec),
        }
    };
    let container = rest.rsplit(':').next()?.to_string();
    Some((ip.filter(|i| !i.is_empty()), container))
}

/// Why an environment variable looks like a literal secret, if it does.
fn secret_env(var: &str, value: &str) -> Option<&'static str> {
    let value = value.trim();
    if value.is_empty() || value.contains('$') {
        return None;
    }
    let looks = [
        "AKIA",
        "ASIA",
        "ghp_",
        "gho_",
        "github_pat_",
        "glpat-",
        "xoxb-",
        "xoxp-",
        "sk_live_",
        "-----BEGIN",
    ]
    .iter()
    .any(|p| value.starts_with(p));
    if looks {
        return Some("to a value that looks like a credential");
    }
    let n = var.to_ascii_uppercase();
    let secretish = [
        "PASSWORD",
        "PASSWD",
        "SECRET",
        "TOKEN",
        "API_KEY",
        "APIKEY",
        "ACCESS_KEY",
        "PRIVATE_KEY",
        "CREDENTIAL",
    ]
    .iter()
    .any(|w| n.contains(w))
        || n.ends_with("_PWD");
    let indirect = [
        "_FILE", "_PATH", "_DIR", "_URL", "_NAME", "_TTL", "_EXPIRY", "_TIMEOUT", "_LENGTH",
        "_ENABLED",
    ]
    .iter()
    .any(|s| n.ends_with(s));
    let trivial = value.starts_with('/')
        || matches!(
            value.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no"
        );
    (secretish && !indirect && !trivial).then_some("to a literal value in the file")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FileKind;

    #[test]
    fn bad_files_are_errors_with_lines() {
        let f = |text: &str| SourceFile {
            path: "compose.yaml".into(),
            kind: FileKind::Compose,
            bytes: text.as_bytes().to_vec(),
        };
        let err = scan(&f("services:\n  web:\n    image: [nginx\n")).unwrap_err();
        assert_eq!(err.path, "compose.yaml");
        assert!(err.line.is_some_and(|l| l >= 3), "{err}");
        let bomb = "x-a: &a [1,1,1,1,1,1,1,1,1,1]\nx-b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nx-c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nx-d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\nx-e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nservices: {}\n";
        let err = scan(&f(bomb)).unwrap_err();
        assert_eq!(err.line, Some(5), "{err}");
        assert!(scan(&f("services:\n  web:\n    <<: *missing\n")).is_err());
        // An anchor reused by several services (the common x- extension idiom) is fine.
        let hits = scan(&f("x-base: &base\n  image: nginx:1.27\n  privileged: true\nservices:\n  a: {<<: *base}\n  b:\n    <<: *base\n")).unwrap();
        let privileged: Vec<_> = hits.iter().filter(|h| h.check_id == "BW-CMP-001").collect();
        assert_eq!(privileged.len(), 2);
        assert_eq!(privileged[0].line, Some(3));
        assert_eq!(privileged[1].resource.as_deref(), Some("service b"));
    }

    #[test]
    fn short_port_syntax() {
        let p = |s: &str| parse_short_port(s).unwrap();
        assert_eq!(p("5432"), (None, "5432".into()));
        assert_eq!(p("5432:5432"), (None, "5432".into()));
        assert_eq!(
            p("127.0.0.1:15432:5432/tcp"),
            (Some("127.0.0.1".into()), "5432".into())
        );
        assert_eq!(p("[::1]:6379:6379"), (Some("::1".into()), "6379".into()));
        assert_eq!(p("0.0.0.0:22:22"), (Some("0.0.0.0".into()), "22".into()));
        assert!(secret_env("POSTGRES_PASSWORD", "example").is_some());
        assert!(secret_env("POSTGRES_PASSWORD", "${PG_PASS}").is_none());
        assert!(secret_env("POSTGRES_PASSWORD_FILE", "/run/secrets/pg").is_none());
        assert!(secret_env("AWS_KEY", "AKIAIOSFODNN7EXAMPLE").is_some());
    }
}
