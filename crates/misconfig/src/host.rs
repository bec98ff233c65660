//! Docker host checks read from a root filesystem (`bulwark config --host-root DIR`,
//! `BW-HOST-*`): ownership and permissions of the daemon's files (CIS Docker Benchmark v1.6.0
//! section 3), audit rules for them (section 1.1), and the host's `daemon.json` (section 2).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use bulwark_types::{MisconfigLocation, Misconfiguration};

use crate::{catalog, scan_files, ConfigScan, FileError, FileKind, SourceFile};

/// A file whose owner and mode CIS section 3 prescribes.
struct Owned {
    id: &'static str,
    /// Candidate locations (distributions differ); every one that exists is checked.
    paths: &'static [&'static str],
    /// Group name the file should belong to (`root` or `docker`).
    group: &'static str,
    /// Bits that must not be set.
    forbidden: u32,
    wanted: &'static str,
    /// CIS Docker items for ownership, then for permissions, per candidate path.
    cis: &'static [(&'static str, &'static str)],
}

const OWNED: &[Owned] = &[
    Owned {
        id: "BW-HOST-001",
        paths: &[
            "usr/lib/systemd/system/docker.service",
            "lib/systemd/system/docker.service",
            "etc/systemd/system/docker.service",
        ],
        group: "root",
        forbidden: 0o133,
        wanted: "root:root 644",
        cis: &[("3.1", "3.2"), ("3.1", "3.2"), ("3.1", "3.2")],
    },
    Owned {
        id: "BW-HOST-002",
        paths: &[
            "usr/lib/systemd/system/docker.socket",
            "lib/systemd/system/docker.socket",
            "etc/systemd/system/docker.socket",
        ],
        group: "root",
        forbidden: 0o133,
        wanted: "root:root 644",
        cis: &[("3.3", "3.4"), ("3.3", "3.4"), ("3.3", "3.4")],
    },
    Owned {
        id: "BW-HOST-003",
        paths: &["etc/docker"],
        group: "root",
        forbidden: 0o022,
        wanted: "root:root 755",
        cis: &[("3.5", "3.6")],
    },
    Owned {
        id: "BW-HOST-004",
        paths: &["etc/docker/daemon.json"],
        group: "root",
        forbidden: 0o133,
        wanted: "root:root 644",
        cis: &[("3.17", "3.18")],
    },
    Owned {
        id: "BW-HOST-005",
        paths: &["var/run/docker.sock", "run/docker.sock"],
        group: "docker",
        forbidden: 0o117,
        wanted: "root:docker 660",
        cis: &[("3.15", "3.16"), ("3.15", "3.16")],
    },
    Owned {
        id: "BW-HOST-006",
        paths: &["etc/default/docker", "etc/sysconfig/docker"],
        group: "root",
        forbidden: 0o133,
        wanted: "root:root 644",
        cis: &[("3.19", "3.22"), ("3.20", "3.21")],
    },
];

/// What CIS 1.1 wants audited, when it exists on the host.
const AUDITED: &[(&str, &str)] = &[
    ("usr/bin/dockerd", "1.1.3"),
    ("run/containerd", "1.1.4"),
    ("var/lib/docker", "1.1.5"),
    ("etc/docker", "1.1.6"),
    ("usr/lib/systemd/system/docker.service", "1.1.7"),
    ("lib/systemd/system/docker.service", "1.1.7"),
    ("run/containerd/containerd.sock", "1.1.8"),
    ("usr/lib/systemd/system/docker.socket", "1.1.9"),
    ("lib/systemd/system/docker.socket", "1.1.9"),
    ("etc/default/docker", "1.1.10"),
    ("etc/docker/daemon.json", "1.1.11"),
    ("etc/containerd/config.toml", "1.1.12"),
    ("etc/sysconfig/docker", "1.1.13"),
    ("usr/bin/containerd", "1.1.14"),
    ("usr/bin/containerd-shim", "1.1.15"),
    ("usr/bin/containerd-shim-runc-v1", "1.1.16"),
    ("usr/bin/containerd-shim-runc-v2", "1.1.17"),
    ("usr/bin/runc", "1.1.18"),
    ("usr/sbin/runc", "1.1.18"),
];

/// A finding that names only the CIS Docker controls it breaks (`cis`), keeping the
/// check's other mappings: one check covers several CIS items (ownership and permissions, or
/// one audit item per path).
fn finding(id: &str, message: String, path: &str, root: &Path, cis: &[&str]) -> Misconfiguration {
    let meta = catalog()
        .get(id)
        .unwrap_or_else(|| panic!("check {id} has no metadata file"));
    let mut f = meta.finding(
        message,
        MisconfigLocation {
            path: path.to_string(),
            line: None,
            column: None,
            end_line: None,
            resource: Some(format!("host {}", root.display())),
            layer: None,
        },
    );
    f.compliance.retain(|c| {
        c.framework != bulwark_types::Framework::CisDocker || cis.contains(&c.control.as_str())
    });
    f
}

/// The gid of `name` in the host's /etc/group.
fn group_id(root: &Path, name: &str) -> Option<u32> {
    let text = std::fs::read_to_string(root.join("etc/group")).ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next()? == name).then_some(())?;
        f.next()?;
        f.next()?.parse().ok()
    })
}

/// The paths the host's audit rules watch (`-w PATH` or `-F path=PATH`).
fn audit_watches(root: &Path, errors: &mut Vec<FileError>) -> (Vec<String>, bool) {
    let mut files: Vec<PathBuf> = vec![root.join("etc/audit/audit.rules")];
    if let Ok(entries) = std::fs::read_dir(root.join("etc/audit/rules.d")) {
        let mut more: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "rules"))
            .collect();
        more.sort();
        files.extend(more);
    }
    let mut watches = Vec::new();
    let mut any = false;
    for f in files {
        let text = match std::fs::read_to_string(&f) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                errors.push(FileError::new(
                    &f.display().to_string(),
                    None,
                    format!("cannot read: {e}"),
                ));
                continue;
            }
        };
        any = true;
        for line in text.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.first().is_some_and(|w| w.starts_with('#')) {
                continue;
            }
            for (i, w) in words.iter().enumerate() {
                if *w == "-w" {
                    if let Some(p) = words.get(i + 1) {
                        watches.push(p.trim_end_matches('/').to_string());
                    }
                }
                if let Some(p) = w.strip_prefix("path=").or_else(|| w.strip_prefix("dir=")) {
                    watches.push(p.trim_end_matches('/').to_string());
                }
            }
        }
    }
    (watches, any)
}

/// Runs every host check on the root filesystem at `root`.
pub fn scan_root(root: &Path) -> ConfigScan {
    let mut scan = ConfigScan::default();
    if !root.is_dir() {
        scan.errors.push(FileError::new(
            &root.display().to_string(),
            None,
            "--host-root must be a directory (the host's root filesystem)",
        ));
        return scan;
    }
    scan.checked.insert(crate::CheckKind::Host);
    let docker_gid = group_id(root, "docker");
    // Controls some check could judge, and those it did judge (their file exists).
    let mut subject_controls = std::collections::BTreeSet::new();
    let mut judged = std::collections::BTreeSet::new();
    for o in OWNED {
        for (n, rel) in o.paths.iter().enumerate() {
            let path = root.join(rel);
            let (own_ctl, mode_ctl) = o.cis.get(n).copied().unwrap_or(("", ""));
            subject_controls.extend([own_ctl, mode_ctl]);
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            judged.extend([own_ctl, mode_ctl]);
            scan.files_scanned += 1;
            let shown = format!("/{rel}");
            let mut problems = Vec::new();
            let mut controls = Vec::new();
            if meta.uid() != 0 {
                problems.push(format!("owner uid {} (not root)", meta.uid()));
            }
            let gid_ok = match o.group {
                "root" => meta.gid() == 0,
                // Without a docker group the socket should at least not be someone else's.
                _ => Some(meta.gid()) == docker_gid || (docker_gid.is_none() && meta.gid() == 0),
            };
            if !gid_ok {
                problems.push(format!("group gid {} (not {})", meta.gid(), o.group));
            }
            if !problems.is_empty() {
                controls.push(own_ctl);
            }
            let mode = meta.mode() & 0o7777;
            if mode & o.forbidden != 0 {
                problems.push(format!("mode {mode:04o}"));
                controls.push(mode_ctl);
            }
            if !problems.is_empty() {
                scan.findings.push(finding(
                    o.id,
                    format!(
                        "{shown}: {}; want {} or stricter",
                        problems.join(", "),
                        o.wanted
                    ),
                    &shown,
                    root,
                    &controls,
                ));
            }
        }
    }

    let (watches, have_rules) = audit_watches(root, &mut scan.errors);
    for (rel, control) in AUDITED {
        subject_controls.insert(control);
        if std::fs::symlink_metadata(root.join(rel)).is_err() {
            continue;
        }
        judged.insert(control);
        let abs = format!("/{rel}");
        if !watches.contains(&abs) {
            let why = if have_rules {
                "no audit rule watches it"
            } else {
                "no audit rules found (etc/audit/audit.rules, etc/audit/rules.d/*.rules)"
            };
            scan.findings.push(finding(
                "BW-HOST-007",
                format!("{abs} exists but {why}"),
                &abs,
                root,
                &[control],
            ));
        }
    }

    scan.not_applicable = subject_controls
        .difference(&judged)
        .filter(|c| !c.is_empty())
        .map(|c| c.to_string())
        .collect();

    // The host's daemon.json, with the daemon checks.
    let daemon = root.join("etc/docker/daemon.json");
    if let Ok(bytes) = std::fs::read(&daemon) {
        let mut more = scan_files(&[SourceFile {
            path: daemon.display().to_string(),
            kind: FileKind::DaemonJson,
            bytes,
        }]);
        scan.findings.append(&mut more.findings);
        scan.errors.append(&mut more.errors);
        scan.files_scanned += more.files_scanned;
        scan.checked.append(&mut more.checked);
    }
    scan
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn put(root: &Path, rel: &str, text: &str, mode: u32) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn ids(scan: &ConfigScan) -> Vec<(String, String)> {
        scan.findings
            .iter()
            .map(|f| (f.check_id.clone(), f.location.path.clone()))
            .collect()
    }

    /// Tests run as whoever runs them; ownership is what the files get (root in CI). Checks
    /// that compare ownership are asserted only when the test runs as root.
    fn running_as_root(dir: &Path) -> bool {
        std::fs::metadata(dir)
            .map(|m| m.uid() == 0)
            .unwrap_or(false)
    }

    #[test]
    fn bad_and_good_hosts() {
        let bad = tempfile::tempdir().unwrap();
        let r = bad.path();
        put(r, "lib/systemd/system/docker.service", "[Service]\n", 0o666);
        put(r, "lib/systemd/system/docker.socket", "[Socket]\n", 0o644);
        put(r, "etc/docker/daemon.json", "{\"icc\": true}\n", 0o666);
        std::fs::set_permissions(r.join("etc/docker"), std::fs::Permissions::from_mode(0o777))
            .unwrap();
        put(r, "var/run/docker.sock", "", 0o666);
        put(r, "etc/group", "root:x:0:\ndocker:x:0:\n", 0o644);
        put(r, "usr/bin/dockerd", "", 0o755);
        put(
            r,
            "etc/audit/rules.d/docker.rules",
            "-w /usr/bin/dockerd -k docker\n",
            0o640,
        );
        let scan = scan_root(r);
        let got = ids(&scan);
        for want in [
            ("BW-HOST-001", "/lib/systemd/system/docker.service"),
            ("BW-HOST-003", "/etc/docker"),
            ("BW-HOST-004", "/etc/docker/daemon.json"),
            ("BW-HOST-005", "/var/run/docker.sock"),
            ("BW-HOST-007", "/etc/docker"),
            ("BW-HOST-007", "/lib/systemd/system/docker.service"),
        ] {
            assert!(
                got.contains(&(want.0.to_string(), want.1.to_string())),
                "{want:?} not in {got:?}"
            );
        }
        // docker.socket is 644 and dockerd is audited.
        assert!(!got.iter().any(|(i, _)| i == "BW-HOST-002"), "{got:?}");
        assert!(!got.contains(&("BW-HOST-007".into(), "/usr/bin/dockerd".into())));
        // The host's daemon.json gets the daemon checks.
        assert!(got.iter().any(|(i, _)| i == "BW-DMN-001"));
        // Each finding names only the CIS items it breaks.
        let audit = scan
            .findings
            .iter()
            .find(|f| f.check_id == "BW-HOST-007" && f.location.path == "/etc/docker")
            .unwrap();
        let cis: Vec<&str> = audit
            .compliance
            .iter()
            .filter(|c| c.framework == bulwark_types::Framework::CisDocker)
            .map(|c| c.control.as_str())
            .collect();
        assert_eq!(cis, vec!["1.1.6"]);
        let sock = scan
            .findings
            .iter()
            .find(|f| f.check_id == "BW-HOST-005")
            .unwrap();
        assert!(sock.compliance.iter().any(|c| c.control == "3.16"));
        let mode_msg = &scan
            .findings
            .iter()
            .find(|f| f.check_id == "BW-HOST-005")
            .unwrap()
            .message;
        assert!(mode_msg.contains("mode 0666"), "{mode_msg}");
        // /etc/default/docker and /etc/sysconfig/docker do not exist on this host: their
        // controls are not applicable, those of files that exist are not.
        for absent in ["3.19", "3.22", "3.20", "3.21", "1.1.10", "1.1.13"] {
            assert!(
                scan.not_applicable.contains(absent),
                "{absent}: {:?}",
                scan.not_applicable
            );
        }
        for present in ["3.1", "3.2", "3.15", "3.16", "1.1.3", "1.1.7"] {
            assert!(!scan.not_applicable.contains(present), "{present}");
        }
        let r = crate::compliance::report(
            crate::compliance::Target::CisDocker,
            &scan.findings,
            &scan.checked,
            &scan.not_applicable,
        );
        let status = |id: &str| r.controls.iter().find(|c| c.id == id).unwrap().status;
        assert_eq!(status("3.19"), crate::compliance::Status::NotApplicable);
        assert_eq!(status("3.2"), crate::compliance::Status::Fail);
        assert_eq!(
            status("3.3"),
            crate::compliance::Status::Pass,
            "docker.socket is root:root 644"
        );

        let good = tempfile::tempdir().unwrap();
        let g = good.path();
        put(g, "lib/systemd/system/docker.service", "[Service]\n", 0o644);
        put(g, "etc/docker/daemon.json", "{}\n", 0o644);
        std::fs::set_permissions(g.join("etc/docker"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        put(g, "var/run/docker.sock", "", 0o660);
        let gid = std::fs::metadata(g.join("var/run/docker.sock"))
            .unwrap()
            .gid();
        put(
            g,
            "etc/group",
            &format!("root:x:0:\ndocker:x:{gid}:\n"),
            0o644,
        );
        put(
            g,
            "etc/audit/audit.rules",
            "-w /etc/docker -k docker\n-w /etc/docker/daemon.json -k docker\n-a always,exit -F path=/lib/systemd/system/docker.service -F perm=wa -k docker\n",
            0o640,
        );
        let scan = scan_root(g);
        let host: Vec<_> = ids(&scan)
            .into_iter()
            .filter(|(i, _)| i.starts_with("BW-HOST"))
            .collect();
        if running_as_root(g) {
            assert!(host.is_empty(), "{host:?}");
        } else {
            // Not root: the files are owned by this user, so only ownership may be reported.
            assert!(
                scan.findings
                    .iter()
                    .filter(|f| f.check_id.starts_with("BW-HOST"))
                    .all(|f| f.message.contains("not root")),
                "{host:?}"
            );
        }
        assert!(scan_root(&g.join("missing")).errors[0]
            .message
            .contains("--host-root"));
    }
}
