//! Checks on an image itself (`BW-IMG-*`): its configuration (user, exposed ports, ENV), its
//! build history (`ADD` of URLs, `curl | sh`, HEALTHCHECK), and its final filesystem
//! (package caches, setuid/setgid and world-writable files, sudo and sshd). Findings on files
//! carry the layer that brought them.

use std::collections::BTreeMap;

use bulwark_analyze::{FileKind, ImageFacts};
use bulwark_image::Image;
use bulwark_types::{LayerRef, MisconfigLocation, Misconfiguration};

use crate::catalog;
use crate::dockerfile::shell::commands;

/// Where findings on the image's configuration point.
pub const CONFIG_PATH: &str = "image-config";

/// Ports whose exposure means a remote administration service, with what it is.
pub const SENSITIVE_PORTS: &[(u16, &str)] = &[
    (22, "SSH"),
    (23, "telnet"),
    (2375, "the Docker API without TLS"),
    (2376, "the Docker API"),
    (3389, "RDP"),
    (5900, "VNC"),
    (5985, "WinRM"),
    (5986, "WinRM"),
    (6443, "the Kubernetes API"),
    (10250, "the kubelet API"),
];

/// Package-manager caches that belong in no final image: (directory, what).
const CACHES: &[(&str, &str)] = &[
    ("var/lib/apt/lists/", "apt package lists"),
    ("var/cache/apt/archives/", "apt downloaded packages"),
    ("var/cache/apk/", "apk index cache"),
    ("var/cache/yum/", "yum cache"),
    ("var/cache/dnf/", "dnf cache"),
    ("var/cache/zypp/", "zypper cache"),
    ("root/.cache/pip/", "pip cache"),
    ("root/.npm/_cacache/", "npm cache"),
    ("usr/local/share/.cache/yarn/", "yarn cache"),
    ("root/.cache/go-build/", "Go build cache"),
];

fn finding(id: &str, message: String, path: &str, layer: Option<LayerRef>) -> Misconfiguration {
    let meta = catalog()
        .get(id)
        .unwrap_or_else(|| panic!("check {id} has no metadata file"));
    meta.finding(
        message,
        MisconfigLocation {
            path: path.to_string(),
            line: None,
            column: None,
            end_line: None,
            resource: None,
            layer,
        },
    )
}

pub(crate) fn layer_ref(facts: &ImageFacts, index: usize) -> LayerRef {
    let summary = facts.layers.iter().find(|l| l.index == index);
    LayerRef {
        index,
        diff_id: summary.and_then(|l| l.diff_id.clone()),
        created_by: summary.and_then(|l| l.created_by.clone()),
    }
}

/// The shell command of a history step: `/bin/sh -c apt-get …` or BuildKit's
/// `RUN /bin/sh -c apt-get … # buildkit`.
fn history_command(created_by: &str) -> Option<&str> {
    let s = created_by.trim();
    if let Some(p) = s.find("/bin/sh -c ") {
        let rest = &s[p + "/bin/sh -c ".len()..];
        if rest.trim_start().starts_with("#(nop)") {
            return None;
        }
        return Some(rest.strip_suffix("# buildkit").unwrap_or(rest));
    }
    s.strip_prefix("RUN ")
}

/// Runs every image check.
pub fn scan(image: &Image, facts: &ImageFacts) -> Vec<Misconfiguration> {
    let mut out = Vec::new();
    let config = image.config.as_ref().and_then(|c| c.config().as_ref());

    // BW-IMG-001: the user the container starts as.
    let user = config.and_then(|c| c.user().clone()).unwrap_or_default();
    let name = user.split(':').next().unwrap_or("").trim();
    if name.is_empty() || name == "root" || name == "0" {
        let shown = if name.is_empty() {
            "the image sets no user: containers run as root".to_string()
        } else {
            format!("the image's user is {user}: containers run as root")
        };
        out.push(finding("BW-IMG-001", shown, CONFIG_PATH, None));
    }

    // BW-IMG-002: the config's Healthcheck is a Docker extension oci-spec does not model;
    // every builder records the HEALTHCHECK instruction in the history, so read it there.
    let health = image
        .history
        .iter()
        .filter_map(|h| h.created_by.as_deref())
        .rfind(|c| c.contains("HEALTHCHECK"));
    match health {
        None => out.push(finding(
            "BW-IMG-002",
            "the image has no HEALTHCHECK".to_string(),
            CONFIG_PATH,
            None,
        )),
        Some(h) if h.contains("\"NONE\"") || h.trim_end().ends_with("HEALTHCHECK NONE") => out
            .push(finding(
                "BW-IMG-002",
                "the image's HEALTHCHECK is NONE".to_string(),
                CONFIG_PATH,
                None,
            )),
        Some(_) => {}
    }

    // BW-IMG-003: exposed administration ports.
    for port in config
        .and_then(|c| c.exposed_ports().clone())
        .unwrap_or_default()
    {
        let number: Option<u16> = port.split('/').next().and_then(|p| p.parse().ok());
        if let Some((p, what)) = SENSITIVE_PORTS.iter().find(|(p, _)| Some(*p) == number) {
            out.push(finding(
                "BW-IMG-003",
                format!("the image exposes port {port} ({what}, port {p})"),
                CONFIG_PATH,
                None,
            ));
        }
    }

    // BW-IMG-004: credential-named ENV variables and labels with a real value (never shown).
    for env in config.and_then(|c| c.env().clone()).unwrap_or_default() {
        if let Some((k, v)) = env.split_once('=') {
            if bulwark_secrets::credential::credential_value(k, v) {
                out.push(finding(
                    "BW-IMG-004",
                    format!("ENV {k} looks like a secret and is stored in the image config"),
                    CONFIG_PATH,
                    None,
                ));
            }
        }
    }
    for (k, v) in config.and_then(|c| c.labels().clone()).unwrap_or_default() {
        if bulwark_secrets::credential::credential_value(&k, &v) {
            out.push(finding(
                "BW-IMG-004",
                format!("LABEL {k} looks like a secret and is stored in the image config"),
                CONFIG_PATH,
                None,
            ));
        }
    }

    // BW-IMG-011: credential-named build arguments, which every builder writes into the
    // history (`RUN |1 DB_PASSWORD=… /bin/sh -c …`, `ARG DB_PASSWORD=…`).
    let mut layer_at = 0;
    for (step, h) in image.history.iter().enumerate() {
        let layer = if h.empty_layer {
            None
        } else {
            layer_at += 1;
            Some(layer_ref(facts, layer_at - 1))
        };
        let Some(created_by) = h.created_by.as_deref() else {
            continue;
        };
        for (name, _) in bulwark_secrets::credential::build_arg_credentials(created_by) {
            let place = match &layer {
                Some(l) => format!("history step {step} (layer {})", l.index),
                None => format!("history step {step}"),
            };
            out.push(finding(
                "BW-IMG-011",
                format!("build argument {name} looks like a secret and is recorded in {place}"),
                "history",
                layer.clone(),
            ));
        }
    }

    // BW-IMG-005: ADD of a URL and downloads piped into a shell, from the build history.
    for l in &facts.layers {
        let Some(created_by) = l.created_by.as_deref() else {
            continue;
        };
        let layer = Some(layer_ref(facts, l.index));
        let add_url = created_by
            .split_whitespace()
            .collect::<Vec<_>>()
            .windows(2)
            .any(|w| {
                w[0] == "ADD" && (w[1].starts_with("http://") || w[1].starts_with("https://"))
            });
        if add_url {
            out.push(finding(
                "BW-IMG-005",
                format!("layer {} was made by ADD of a remote URL", l.index),
                "history",
                layer.clone(),
            ));
        }
        if let Some(cmd) = history_command(created_by) {
            if crate::dockerfile::pipes_download_to_shell(&commands(cmd)) {
                out.push(finding(
                    "BW-IMG-005",
                    format!(
                        "layer {} was made by piping a download into a shell",
                        l.index
                    ),
                    "history",
                    layer,
                ));
            }
        }
    }

    // BW-IMG-006: package manager caches, one finding per cache with the newest layer.
    let mut caches: BTreeMap<&str, (usize, u64, usize, &str)> = BTreeMap::new();
    for (path, f) in &facts.files {
        if f.record.kind != FileKind::Regular {
            continue;
        }
        let Some((dir, what)) = CACHES.iter().find(|(d, _)| path.starts_with(d)) else {
            continue;
        };
        let name = &path[dir.len()..];
        if name == "lock"
            || name.starts_with("partial/")
            || name.ends_with("/lock")
            || name == "auxfiles"
        {
            continue;
        }
        let e = caches.entry(dir).or_insert((0, 0, 0, what));
        e.0 += 1;
        e.1 += f.record.size;
        e.2 = e.2.max(f.layer);
    }
    for (dir, (count, bytes, layer, what)) in caches {
        out.push(finding(
            "BW-IMG-006",
            format!(
                "{what} left in the image: {count} file{} ({bytes} bytes) under /{dir}",
                if count == 1 { "" } else { "s" }
            ),
            &format!("/{}", dir.trim_end_matches('/')),
            Some(layer_ref(facts, layer)),
        ));
    }

    // BW-IMG-007 (setuid/setgid), BW-IMG-008 (world-writable).
    for (path, f) in &facts.files {
        let mode = f.record.mode;
        match f.record.kind {
            FileKind::Regular => {
                if mode & 0o6000 != 0 {
                    let bits = match (mode & 0o4000 != 0, mode & 0o2000 != 0) {
                        (true, true) => "setuid and setgid",
                        (true, false) => "setuid",
                        _ => "setgid",
                    };
                    out.push(finding(
                        "BW-IMG-007",
                        format!(
                            "/{path} is {bits} (mode {:04o}), added in layer {}",
                            mode & 0o7777,
                            f.layer
                        ),
                        &format!("/{path}"),
                        Some(layer_ref(facts, f.layer)),
                    ));
                }
                if mode & 0o002 != 0 {
                    out.push(finding(
                        "BW-IMG-008",
                        format!(
                            "/{path} is writable by every user (mode {:04o})",
                            mode & 0o7777
                        ),
                        &format!("/{path}"),
                        Some(layer_ref(facts, f.layer)),
                    ));
                }
            }
            FileKind::Dir if mode & 0o002 != 0 && mode & 0o1000 == 0 => {
                out.push(finding(
                    "BW-IMG-008",
                    format!("directory /{path} is writable by every user without the sticky bit (mode {:04o})", mode & 0o7777),
                    &format!("/{path}"),
                    Some(layer_ref(facts, f.layer)),
                ));
            }
            _ => {}
        }
    }

    // BW-IMG-009 (sudo), BW-IMG-010 (an SSH server).
    for p in &facts.packages {
        let id = match p.name.as_str() {
            "sudo" | "doas" => "BW-IMG-009",
            "openssh-server" | "dropbear" | "openssh-server-pam" => "BW-IMG-010",
            _ => continue,
        };
        out.push(finding(
            id,
            format!(
                "package {} {} is installed (layer {})",
                p.name, p.version, p.layer.index
            ),
            p.found_in
                .first()
                .map(|f| f.as_str())
                .unwrap_or(CONFIG_PATH),
            Some(p.layer.clone()),
        ));
    }
    if !facts.packages.iter().any(|p| {
        matches!(
            p.name.as_str(),
            "openssh-server" | "dropbear" | "openssh-server-pam"
        )
    }) {
        if let Some(f) = facts.files.get("usr/sbin/sshd") {
            out.push(finding(
                "BW-IMG-010",
                format!("/usr/sbin/sshd is present (layer {})", f.layer),
                "/usr/sbin/sshd",
                Some(layer_ref(facts, f.layer)),
            ));
        }
    }
    out
}
