//! Drift: what changed in a running container's filesystem since it started (the engine's
//! `changes` answer), with new executables and package databases picked out by reading the
//! files through the container's root.

use std::os::unix::fs::PermissionsExt;

use bulwark_types::DriftEntry;
use serde_json::Value;

use crate::procfs::ContainerRoot;

/// Changes listed per container; a container rewriting its whole filesystem is reported as
/// that, not file by file.
pub const MAX_DRIFT_ENTRIES: usize = 10_000;

/// Files and directories that are a package manager's database.
const PACKAGE_DATABASES: [&str; 7] = [
    "/var/lib/dpkg/status",
    "/var/lib/dpkg/info/",
    "/lib/apk/db/installed",
    "/var/lib/rpm/",
    "/usr/lib/sysimage/rpm/",
    "/var/lib/pacman/local/",
    "/usr/lib/opkg/status",
];

/// The drift entries of `changes` (`[{Path, Kind}]`), leaving out mount points and what is
/// under them (a volume is not the container's filesystem) and directories; `root` (when
/// /proc is readable) tells executables and directories apart. The second value says whether
/// entries were left out past [`MAX_DRIFT_ENTRIES`].
pub fn entries(
    changes: &[Value],
    mounts: &[String],
    mut root: Option<&mut ContainerRoot>,
) -> (Vec<DriftEntry>, bool) {
    let mut out = Vec::new();
    let mut truncated = false;
    for change in changes {
        let Some(path) = change.get("Path").and_then(Value::as_str) else {
            continue;
        };
        let kind = match change.get("Kind").and_then(Value::as_u64) {
            Some(0) => "changed",
            Some(1) => "added",
            Some(2) => "deleted",
            _ => continue,
        };
        let under_mount = mounts
            .iter()
            .any(|m| path == m || path.starts_with(&format!("{}/", m.trim_end_matches('/'))));
        if under_mount {
            continue;
        }
        let mut executable = false;
        if kind != "deleted" {
            if let Some(root) = root.as_deref_mut() {
                match root.inspect_file(path) {
                    Some((meta, _)) if meta.is_dir() => continue,
                    Some((meta, head)) if meta.is_file() => {
                        executable =
                            meta.permissions().mode() & 0o111 != 0 || head.starts_with(b"\x7fELF");
                    }
                    _ => {}
                }
            }
        }
        let package_database = PACKAGE_DATABASES.iter().any(|db| {
            path == db.trim_end_matches('/') || (db.ends_with('/') && path.starts_with(db))
        });
        if out.len() >= MAX_DRIFT_ENTRIES {
            truncated = true;
            break;
        }
        out.push(DriftEntry {
            path: path.to_string(),
            kind: kind.to_string(),
            executable,
            package_database,
        });
    }
    out.sort();
    (out, truncated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn executables_and_package_databases_are_flagged_mounts_and_dirs_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        std::fs::create_dir_all(r.join("usr/local/bin")).unwrap();
        std::fs::create_dir_all(r.join("var/lib/dpkg")).unwrap();
        std::fs::create_dir_all(r.join("tmp")).unwrap();
        std::fs::write(r.join("usr/local/bin/x"), b"\x7fELF\x02").unwrap();
        std::fs::write(r.join("tmp/script"), b"#!/bin/sh\n").unwrap();
        std::fs::set_permissions(r.join("tmp/script"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        std::fs::write(r.join("tmp/note"), b"hi").unwrap();
        std::fs::write(r.join("var/lib/dpkg/status"), b"Package: x\n").unwrap();
        let changes = vec![
            json!({"Path": "/usr", "Kind": 0}),
            json!({"Path": "/usr/local/bin/x", "Kind": 1}),
            json!({"Path": "/tmp/script", "Kind": 1}),
            json!({"Path": "/tmp/note", "Kind": 1}),
            json!({"Path": "/var/lib/dpkg/status", "Kind": 0}),
            json!({"Path": "/data", "Kind": 1}),
            json!({"Path": "/data/file", "Kind": 1}),
            json!({"Path": "/etc/gone", "Kind": 2}),
        ];
        let mut root = ContainerRoot::at(r);
        let (drift, truncated) = entries(&changes, &["/data".into()], Some(&mut root));
        assert!(!truncated);
        let shown: Vec<(&str, &str, bool, bool)> = drift
            .iter()
            .map(|d| {
                (
                    d.path.as_str(),
                    d.kind.as_str(),
                    d.executable,
                    d.package_database,
                )
            })
            .collect();
        assert_eq!(
            shown,
            vec![
                ("/etc/gone", "deleted", false, false),
                ("/tmp/note", "added", false, false),
                ("/tmp/script", "added", true, false),
                ("/usr/local/bin/x", "added", true, false),
                ("/var/lib/dpkg/status", "changed", false, true),
            ]
        );
    }
}
