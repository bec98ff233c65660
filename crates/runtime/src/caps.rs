//! Linux capabilities: their names by bit (`capability.h`), the engines' default sets, and
//! the decoding of `/proc/<pid>/status`'s hexadecimal masks.

use std::collections::BTreeSet;

use bulwark_engine::Engine;

/// Capability names by bit number, without the `CAP_` prefix.
const NAMES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// Docker's default set (moby `oci/caps/defaults.go`).
const DOCKER_DEFAULT: [&str; 14] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
];

/// Podman's default set (containers.conf `default_capabilities` since Podman 4).
const PODMAN_DEFAULT: [&str; 11] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// `CAP_SYS_ADMIN`, `sys_admin`, `SYS_ADMIN` → `SYS_ADMIN`; `ALL` stays `ALL`.
pub fn normalize(name: &str) -> String {
    let upper = name.trim().to_ascii_uppercase();
    upper
        .strip_prefix("CAP_")
        .map(str::to_string)
        .unwrap_or(upper)
}

/// Every capability the kernel names.
pub fn all() -> BTreeSet<String> {
    NAMES.iter().map(|n| n.to_string()).collect()
}

/// The capabilities an engine gives a container that asks for nothing.
pub fn engine_default(engine: Engine) -> BTreeSet<String> {
    let names: &[&str] = match engine {
        Engine::Docker => &DOCKER_DEFAULT,
        Engine::Podman => &PODMAN_DEFAULT,
    };
    names.iter().map(|n| n.to_string()).collect()
}

/// The names of the bits set in a `CapEff:`-style mask (hexadecimal); bits past the known
/// names come out as `CAP_<bit>`. `None` when the mask is not hexadecimal.
pub fn decode(mask: &str) -> Option<BTreeSet<String>> {
    let bits = u64::from_str_radix(mask.trim(), 16).ok()?;
    Some(
        (0..64u32)
            .filter(|bit| bits & (1u64 << bit) != 0)
            .map(|bit| match NAMES.get(bit as usize) {
                Some(name) => name.to_string(),
                None => format!("CAP_{bit}"),
            })
            .collect(),
    )
}

/// The declared set: the engine's defaults with `CapDrop` removed and `CapAdd` added (`ALL`
/// in either means every capability), or every capability when privileged.
pub fn declared(
    engine: Engine,
    privileged: bool,
    add: &[String],
    drop: &[String],
) -> BTreeSet<String> {
    if privileged {
        return all();
    }
    let mut set = engine_default(engine);
    for d in drop.iter().map(|d| normalize(d)) {
        if d == "ALL" {
            set.clear();
        } else {
            set.remove(&d);
        }
    }
    for a in add.iter().map(|a| normalize(a)) {
        if a == "ALL" {
            set.extend(all());
        } else {
            set.insert(a);
        }
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_decode_to_names() {
        // Docker's default set plus SYS_ADMIN, as /proc shows it.
        let set = decode("00000000a82425fb").unwrap();
        let mut want = engine_default(Engine::Docker);
        want.insert("SYS_ADMIN".into());
        assert_eq!(set, want);
        assert!(decode("0000000000000000").unwrap().is_empty());
        assert!(decode("zz").is_none());
        assert!(decode("8000000000000000").unwrap().contains("CAP_63"));
    }

    #[test]
    fn declared_sets_follow_add_and_drop() {
        let d = declared(Engine::Docker, false, &["CAP_SYS_ADMIN".into()], &[]);
        assert!(d.contains("SYS_ADMIN") && d.contains("CHOWN"));
        let hard = declared(
            Engine::Docker,
            false,
            &["net_bind_service".into()],
            &["ALL".into()],
        );
        assert_eq!(
            hard.into_iter().collect::<Vec<_>>(),
            vec!["NET_BIND_SERVICE"]
        );
        assert_eq!(declared(Engine::Podman, true, &[], &[]).len(), NAMES.len());
    }
}
