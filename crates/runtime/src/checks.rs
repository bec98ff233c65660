//! The checks on one container's inspect document (catalogue ids `BW-RT-001` to `-023`),
//! each a [`Hit`] that the catalogue turns into a finding with its CIS Docker and NIST SP
//! 800-190 controls.

use std::collections::BTreeSet;

use bulwark_misconfig::Hit;

use crate::inspect::Container;

/// Host paths a container must not see: mounting one (or anything under it) is a finding.
const SENSITIVE_DIRS: [&str; 8] = [
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/proc",
    "/sys",
    "/usr",
    "/var/lib/docker",
];

/// Engine sockets: whoever reaches one controls the engine.
const ENGINE_SOCKETS: [&str; 6] = [
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/podman/podman.sock",
    "/var/run/podman/podman.sock",
    "/run/containerd/containerd.sock",
    "/var/run/containerd/containerd.sock",
];

/// Every check's hits for `c`, whose capabilities the engine declares as `declared` beyond
/// its defaults (`added`).
pub fn check(c: &Container, added: &BTreeSet<String>) -> Vec<Hit> {
    let h = c.host();
    let mut hits = Vec::new();
    let mut hit = |id: &'static str, message: String| hits.push(Hit::new(id, message));
    let privileged = h.privileged == Some(true);
    if privileged {
        hit("BW-RT-001", "the container runs with --privileged".into());
    }
    if !privileged && !added.is_empty() {
        let names: Vec<&str> = added.iter().map(String::as_str).collect();
        hit(
            "BW-RT-002",
            format!(
                "capabilities added to the engine's defaults: {}",
                names.join(", ")
            ),
        );
    }
    for m in c.mounts() {
        let Some(source) = m.source.as_deref() else {
            continue;
        };
        if m.kind.as_deref().is_some_and(|k| k != "bind") {
            continue;
        }
        let source = source.trim_end_matches('/');
        let source = if source.is_empty() { "/" } else { source };
        let destination = m.destination.as_deref().unwrap_or("?");
        let access = if m.rw == Some(false) {
            "read-only"
        } else {
            "writable"
        };
        if ENGINE_SOCKETS.contains(&source) {
            hit(
                "BW-RT-004",
                format!("the engine socket {source} is mounted at {destination} ({access})"),
            );
        } else if source == "/"
            || SENSITIVE_DIRS
                .iter()
                .any(|d| source == *d || source.starts_with(&format!("{d}/")))
        {
            hit(
                "BW-RT-003",
                format!("host {source} is mounted at {destination} ({access})"),
            );
        }
    }
    let host_mode = |mode: &Option<String>| mode.as_deref() == Some("host");
    if host_mode(&h.network_mode) {
        hit(
            "BW-RT-005",
            "the container uses the host's network (--network host)".into(),
        );
    }
    if host_mode(&h.pid_mode) {
        hit(
            "BW-RT-006",
            "the container shares the host's PID namespace (--pid host)".into(),
        );
    }
    if host_mode(&h.ipc_mode) {
        hit(
            "BW-RT-007",
            "the container shares the host's IPC namespace (--ipc host)".into(),
        );
    }
    if host_mode(&h.uts_mode) {
        hit(
            "BW-RT-008",
            "the container shares the host's UTS namespace (--uts host)".into(),
        );
    }
    if host_mode(&h.userns_mode) {
        hit(
            "BW-RT-009",
            "the container shares the host's user namespace (--userns host)".into(),
        );
    }
    let opts = c.security_opts();
    let opt = |key: &str, value: &str| opts.iter().any(|(k, v)| k == key && v == value);
    if !privileged && opt("seccomp", "unconfined") {
        hit(
            "BW-RT-010",
            "seccomp is off (--security-opt seccomp=unconfined)".into(),
        );
    }
    if !privileged
        && (opt("apparmor", "unconfined") || c.app_armor_profile.as_deref() == Some("unconfined"))
    {
        hit(
            "BW-RT-011",
            "AppArmor is off (--security-opt apparmor=unconfined)".into(),
        );
    }
    let no_new_privileges = opts
        .iter()
        .any(|(k, v)| k == "no-new-privileges" && (v.is_empty() || v == "true"));
    if !no_new_privileges {
        hit(
            "BW-RT-012",
            "no-new-privileges is not set: setuid binaries can raise privileges".into(),
        );
    }
    if h.readonly_rootfs != Some(true) {
        hit(
            "BW-RT-013",
            "the root filesystem is writable (no --read-only)".into(),
        );
    }
    let user = c.user();
    if runs_as_root(&user) {
        let shown = if user.is_empty() {
            "no user set: root"
        } else {
            user.as_str()
        };
        hit("BW-RT-014", format!("the container runs as root ({shown})"));
    }
    if h.memory.unwrap_or(0) <= 0 {
        hit("BW-RT-015", "no memory limit (--memory)".into());
    }
    let cpu_limited = h.nano_cpus.unwrap_or(0) > 0
        || h.cpu_quota.unwrap_or(0) > 0
        || h.cpu_shares.unwrap_or(0) > 0
        || h.cpuset_cpus.as_deref().is_some_and(|s| !s.is_empty());
    if !cpu_limited {
        hit(
            "BW-RT-016",
            "no CPU limit or share (--cpus, --cpu-shares)".into(),
        );
    }
    if h.pids_limit.unwrap_or(0) <= 0 {
        hit("BW-RT-017", "no PIDs limit (--pids-limit)".into());
    }
    if let Some(policy) = &h.restart_policy {
        let name = policy.name.as_deref().unwrap_or("");
        let retries = policy.maximum_retry_count.unwrap_or(0);
        match name {
            "always" | "unless-stopped" => hit(
                "BW-RT-018",
                format!("restart policy {name}: restarted forever"),
            ),
            "on-failure" if retries <= 0 || retries > 5 => hit(
                "BW-RT-018",
                format!(
                    "restart policy on-failure with {retries} retries (0 is unbounded; at most 5)"
                ),
            ),
            _ => {}
        }
    }
    for (port, bindings) in h.port_bindings.iter().flatten() {
        for b in bindings.iter().flatten() {
            let ip = b.host_ip.as_deref().unwrap_or("");
            if matches!(ip, "" | "0.0.0.0" | "::" | "[::]") {
                let host_port = b.host_port.as_deref().unwrap_or("?");
                let shown = if ip.is_empty() { "0.0.0.0" } else { ip };
                hit(
                    "BW-RT-019",
                    format!("port {port} is published on {shown}:{host_port}, every interface"),
                );
            }
        }
    }
    let image = c.image_reference();
    if !pinned(&image, &c.image) {
        hit(
            "BW-RT-020",
            format!("the image is referenced as {image:?}, by tag rather than digest"),
        );
    }
    let devices: Vec<&str> = h
        .devices
        .iter()
        .flatten()
        .filter_map(|d| d.path_on_host.as_deref())
        .collect();
    if !privileged && !devices.is_empty() {
        hit(
            "BW-RT-021",
            format!("host devices passed through: {}", devices.join(", ")),
        );
    }
    if host_mode(&h.cgroupns_mode) {
        hit(
            "BW-RT-022",
            "the container shares the host's cgroup namespace (--cgroupns host)".into(),
        );
    }
    if opt("label", "disable") {
        hit(
            "BW-RT-023",
            "SELinux separation is disabled (--security-opt label=disable)".into(),
        );
    }
    hits
}

/// No user, `root`, uid 0, with or without a group.
pub fn runs_as_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or("").trim();
    name.is_empty() || name == "root" || name == "0"
}

/// Pinned: by digest (`…@sha256:…`), or by the image's own id (`sha256:…`, or a prefix of
/// it as `docker run` accepts).
fn pinned(reference: &str, image_id: &str) -> bool {
    if reference.contains("@sha256:") || reference.contains("@sha512:") {
        return true;
    }
    let id = image_id.strip_prefix("sha256:").unwrap_or(image_id);
    let given = reference.strip_prefix("sha256:").unwrap_or(reference);
    given.len() >= 12
        && given.bytes().all(|b| b.is_ascii_hexdigit())
        && !id.is_empty()
        && id.starts_with(given)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_pinned_by_digest_or_id() {
        let id = "sha256:fa6431085add5ec7a58aa4556c8843773ffb087dca9879a9620101efba2c1b9f";
        assert!(pinned("nginx@sha256:abcd", id));
        assert!(pinned(id, id));
        assert!(pinned("fa6431085add", id));
        assert!(!pinned("nginx:1.25", id));
        assert!(!pinned("fa64", id));
        assert!(!pinned("deadbeefdead", id));
    }

    #[test]
    fn root_users() {
        for u in ["", "root", "0", "0:0", "root:wheel"] {
            assert!(runs_as_root(u), "{u}");
        }
        for u in ["1000", "app", "1000:1000", "nobody"] {
            assert!(!runs_as_root(u), "{u}");
        }
    }
}
