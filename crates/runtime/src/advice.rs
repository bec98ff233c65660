//! Least-privilege advice: the settings a container could run with, from what it was given
//! and what its processes hold, as `docker run` flags, a compose service and a Kubernetes
//! `securityContext`.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use bulwark_types::LeastPrivilegeAdvice;

use crate::checks::runs_as_root;
use crate::inspect::Container;

/// Limits suggested when the container has none: a starting point to measure against.
const DEFAULT_MEMORY: &str = "512m";
const DEFAULT_CPUS: &str = "1";
const DEFAULT_PIDS: i64 = 256;

/// The advice for `c`: `added` are the capabilities it was given beyond the engine's
/// defaults, `effective` what its processes hold (`None`: /proc was not readable, then the
/// declared set stands in).
pub fn advise(
    c: &Container,
    added: &BTreeSet<String>,
    declared: &BTreeSet<String>,
    effective: Option<&BTreeSet<String>>,
) -> LeastPrivilegeAdvice {
    let h = c.host();
    // What it holds, less what was added on top of the defaults: the added ones are the
    // ones to question first. A process holding nothing needs nothing.
    let keep: Vec<String> = effective
        .unwrap_or(declared)
        .iter()
        .filter(|cap| !added.contains(*cap))
        .cloned()
        .collect();
    let read_only_mounts: Vec<String> = c
        .mounts()
        .iter()
        .filter(|m| m.rw != Some(false))
        .filter_map(|m| m.destination.clone())
        .collect();
    let memory = h
        .memory
        .filter(|&m| m > 0)
        .map(|m| format!("{}m", (m + (1 << 20) - 1) >> 20))
        .unwrap_or_else(|| DEFAULT_MEMORY.to_string());
    let cpus = h
        .nano_cpus
        .filter(|&n| n > 0)
        .map(|n| format!("{}", n as f64 / 1e9))
        .unwrap_or_else(|| DEFAULT_CPUS.to_string());
    let pids = h.pids_limit.filter(|&p| p > 0).unwrap_or(DEFAULT_PIDS);
    let user = if runs_as_root(&c.user()) {
        "1000:1000".to_string()
    } else {
        c.user()
    };
    let restart = match h.restart_policy.as_ref().and_then(|r| r.name.as_deref()) {
        None | Some("") | Some("no") => None,
        Some(_) => Some("on-failure:5"),
    };

    let mut docker = vec!["--cap-drop ALL".to_string()];
    docker.extend(keep.iter().map(|cap| format!("--cap-add {cap}")));
    docker.push("--read-only".into());
    docker.push("--security-opt no-new-privileges".into());
    docker.push(format!("--user {user}"));
    docker.push(format!("--memory {memory}"));
    docker.push(format!("--cpus {cpus}"));
    docker.push(format!("--pids-limit {pids}"));
    if let Some(r) = restart {
        docker.push(format!("--restart {r}"));
    }
    for m in c.mounts() {
        if let (Some(src), Some(dst)) = (&m.source, &m.destination) {
            if m.rw != Some(false) && m.kind.as_deref() == Some("bind") {
                docker.push(format!("-v {src}:{dst}:ro"));
            }
        }
    }

    let name = c.display_name();
    let mut compose = format!("services:\n  {name}:\n    read_only: true\n    cap_drop: [ALL]\n");
    if !keep.is_empty() {
        let _ = writeln!(compose, "    cap_add: [{}]", keep.join(", "));
    }
    let _ = write!(
        compose,
        "    security_opt: [\"no-new-privileges:true\"]\n    user: \"{user}\"\n    mem_limit: {memory}\n    cpus: {cpus}\n    pids_limit: {pids}\n"
    );
    if let Some(r) = restart {
        let _ = writeln!(compose, "    restart: {r}");
    }

    let (uid, gid) = user.split_once(':').unwrap_or((user.as_str(), ""));
    let mut kubernetes = String::from("securityContext:\n  privileged: false\n  allowPrivilegeEscalation: false\n  readOnlyRootFilesystem: true\n  runAsNonRoot: true\n");
    if uid.bytes().all(|b| b.is_ascii_digit()) && !uid.is_empty() {
        let _ = writeln!(kubernetes, "  runAsUser: {uid}");
    }
    if gid.bytes().all(|b| b.is_ascii_digit()) && !gid.is_empty() {
        let _ = writeln!(kubernetes, "  runAsGroup: {gid}");
    }
    kubernetes.push_str("  capabilities:\n    drop: [\"ALL\"]\n");
    if !keep.is_empty() {
        let quoted: Vec<String> = keep.iter().map(|c| format!("\"{c}\"")).collect();
        let _ = writeln!(kubernetes, "    add: [{}]", quoted.join(", "));
    }
    kubernetes.push_str("  seccompProfile:\n    type: RuntimeDefault\n");
    let k8s_memory = memory.trim_end_matches('m');
    let _ = write!(
        kubernetes,
        "resources:\n  limits:\n    memory: {k8s_memory}Mi\n    cpu: \"{cpus}\"\n"
    );

    LeastPrivilegeAdvice {
        drop_capabilities: added.iter().cloned().collect(),
        read_only_mounts,
        docker_run: docker,
        compose,
        kubernetes,
    }
}
