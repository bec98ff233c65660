//! Linux capabilities as the Pod Security Standards and the runtimes name them, shared by
//! the workload checks and the PodSecurityPolicy checks.

/// Capabilities the baseline level allows a container to add.
pub(super) const BASELINE_CAPS: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// A capability as the runtimes read it: case-insensitive, with or without `CAP_`
/// (containerd and CRI-O upper-case the name and add the prefix).
pub(super) fn cap_name(cap: &str) -> String {
    let upper = cap.trim().to_ascii_uppercase();
    match upper.strip_prefix("CAP_") {
        Some(rest) => rest.to_string(),
        None => upper,
    }
}
