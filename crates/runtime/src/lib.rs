//! Audits running containers, agentless: each container's inspect document from the Docker or
//! Podman API ([`bulwark_engine::Client`]) is checked against the catalogue's runtime checks
//! (`BW-RT-*`, mapped to CIS Docker section 5 and NIST SP 800-190 4.4; [`checks`]); when the
//! engine runs on this machine, /proc adds what the engine cannot say ([`procfs`]): the
//! capabilities the processes really hold, the files they map and hold open, which
//! [`usage`] joins with the image's package file lists so that every vulnerability says
//! whether its package is `loaded`; the engine's `changes` become [`drift`], with new
//! executables and package databases picked out; and [`advice`] writes the least-privilege
//! settings as `docker run` flags, compose and Kubernetes snippets. [`audit_container`] does
//! all of it for one container and returns an [`Audited`], whose [`Audited::attach`] marks the
//! image's vulnerabilities once the caller has scanned the image (`bulwark-scan`, which this
//! crate does not depend on). Nothing is executed in the container.
#![forbid(unsafe_code)]

pub mod advice;
pub mod caps;
pub mod checks;
pub mod drift;
pub mod inspect;
pub mod procfs;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod usage;

use std::collections::{BTreeMap, BTreeSet};

use bulwark_engine::{Client, Engine, EngineError};
use bulwark_types::{ContainerAudit, Misconfiguration, Package, VulnerabilityFinding};
use serde_json::Value;

use crate::inspect::Container;
use crate::procfs::{ContainerRoot, FilesInUse, ProcFs};
use crate::usage::{Owners, Usage};

/// Why a container could not be audited.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("the inspect document of container {container} is not what the Docker Engine API describes: {message}")]
    Inspect { container: String, message: String },
}

/// One container's audit, before the image's vulnerabilities are attached.
#[derive(Debug)]
pub struct Audited {
    pub audit: ContainerAudit,
    /// Its findings, in check order.
    pub findings: Vec<Misconfiguration>,
    usage: Usage,
    root: Option<ContainerRoot>,
}

/// The ids of the containers to audit: the named ones (names or ids, as given), else every
/// running container, in the engine's order.
pub fn containers(client: &Client, named: &[String]) -> Result<Vec<String>, RuntimeError> {
    if !named.is_empty() {
        return Ok(named.to_vec());
    }
    Ok(client
        .list_containers(false)?
        .iter()
        .filter_map(|c| c.get("Id").and_then(Value::as_str).map(str::to_string))
        .collect())
}

/// The location of a container's findings.
pub fn location_path(name: &str) -> String {
    format!("container:{name}")
}

/// The checks and advice of an inspect document alone: no /proc, no changes. (The
/// privileged case, which this sandbox cannot start, is tested through this.)
pub fn audit_document(engine: Engine, doc: &Value) -> Result<Audited, RuntimeError> {
    let c = Container::from_inspect(doc).map_err(|message| RuntimeError::Inspect {
        container: doc
            .get("Name")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .trim_start_matches('/')
            .to_string(),
        message,
    })?;
    Ok(assemble(
        engine,
        &c,
        None,
        Vec::new(),
        Vec::new(),
        Usage::Unknown(String::new()),
        None,
    ))
}

/// Audits one running container through `client` and, when its processes are on this
/// machine, through `proc`.
pub fn audit_container(client: &Client, id: &str, proc: &ProcFs) -> Result<Audited, RuntimeError> {
    let doc = client.inspect_container(id)?;
    let c = Container::from_inspect(&doc).map_err(|message| RuntimeError::Inspect {
        container: id.to_string(),
        message,
    })?;
    let mut warnings = Vec::new();
    let mut effective = None;
    let mut usage = Usage::Unknown("the container is not running".to_string());
    let mut root = None;
    if let Some(pid) = c.pid() {
        match proc.belongs_to(pid, &c.id) {
            Ok(true) => {
                let pids = processes(client, id, pid, proc, &c.id, &mut warnings);
                let mut caps = BTreeSet::new();
                let mut files: FilesInUse = BTreeMap::new();
                for &p in &pids {
                    if let Ok(eff) = proc.effective_capabilities(p) {
                        caps.extend(eff);
                    }
                    match proc.files(p) {
                        Ok(f) => {
                            for path in f.exe.into_iter().chain(f.mapped).chain(f.open) {
                                files.entry(path).or_default().insert(p);
                            }
                        }
                        Err(e) => warnings.push(format!("cannot read the files of pid {p}: {e}")),
                    }
                }
                effective = Some(caps);
                let container_root = proc.container_root(pid);
                if container_root.readable() {
                    root = Some(container_root);
                    usage = Usage::Read(files);
                } else {
                    usage = Usage::Unknown(format!("/proc/{pid}/root is not readable (run as root, or as the container's owner)"));
                    warnings.push(format!(
                        "in-use evidence unknown: /proc/{pid}/root is not readable"
                    ));
                }
            }
            Ok(false) => {
                let why = format!("pid {pid} in this machine's /proc is not the container's process: the engine runs elsewhere (a VM or a remote host)");
                warnings.push(format!(
                    "in-use evidence and effective capabilities unknown: {why}"
                ));
                usage = Usage::Unknown(why);
            }
            Err(e) => {
                let why = format!("/proc/{pid} is not readable here ({e}): the engine runs elsewhere, or bulwark lacks the permission");
                warnings.push(format!(
                    "in-use evidence and effective capabilities unknown: {why}"
                ));
                usage = Usage::Unknown(why);
            }
        }
    }
    let changes = match client.container_changes(id) {
        Ok(changes) => changes,
        Err(e) => {
            warnings.push(format!("drift unknown: {e}"));
            Vec::new()
        }
    };
    Ok(assemble(
        client.engine(),
        &c,
        effective,
        changes,
        warnings,
        usage,
        root,
    ))
}

/// The container's processes (host pids) from the engine's `top`, kept only when /proc
/// says they are the container's; the first process alone when `top` fails.
fn processes(
    client: &Client,
    id: &str,
    pid: u32,
    proc: &ProcFs,
    container_id: &str,
    warnings: &mut Vec<String>,
) -> Vec<u32> {
    // A container's processes are its cgroup's: what `top` lists must be in it.
    let mut pids = match client.container_top(id) {
        Ok(top) => bulwark_engine::pids_of_top(&top),
        // /proc says the same, by cgroup.
        Err(_) => proc.processes_of(container_id),
    };
    pids.retain(|&p| p == pid || proc.belongs_to(p, container_id).unwrap_or(false));
    if !pids.contains(&pid) {
        pids.insert(0, pid);
    }
    if pids.len() > procfs::MAX_PROCESSES {
        warnings.push(format!(
            "{} processes: only the first {} were read",
            pids.len(),
            procfs::MAX_PROCESSES
        ));
        pids.truncate(procfs::MAX_PROCESSES);
    }
    pids
}

fn assemble(
    engine: Engine,
    c: &Container,
    effective: Option<BTreeSet<String>>,
    changes: Vec<Value>,
    mut warnings: Vec<String>,
    usage: Usage,
    mut root: Option<ContainerRoot>,
) -> Audited {
    let h = c.host();
    let privileged = h.privileged == Some(true);
    let add = h.cap_add.clone().unwrap_or_default();
    let drop = h.cap_drop.clone().unwrap_or_default();
    let declared = caps::declared(engine, privileged, &add, &drop);
    let defaults = caps::engine_default(engine);
    let added: BTreeSet<String> = declared.difference(&defaults).cloned().collect();
    let name = c.display_name();
    let path = location_path(&name);
    let resource = format!("{} container {name}", engine.name());
    let mut findings: Vec<Misconfiguration> = checks::check(c, &added)
        .into_iter()
        .map(|hit| hit.on(resource.clone()).into_finding(&path))
        .collect();

    let mounts: Vec<String> = c
        .mounts()
        .iter()
        .filter_map(|m| m.destination.clone())
        .collect();
    let (drift, truncated) = drift::entries(&changes, &mounts, root.as_mut());
    if truncated {
        warnings.push(format!(
            "more than {} changed files: only the first are listed",
            drift::MAX_DRIFT_ENTRIES
        ));
    }
    for d in drift.iter().filter(|d| d.executable && d.kind != "deleted") {
        findings.push(
            bulwark_misconfig::Hit::new(
                "BW-RT-024",
                format!(
                    "{} was {} after the container started and is executable",
                    d.path, d.kind
                ),
            )
            .on(resource.clone())
            .into_finding(&path),
        );
    }
    let databases: Vec<&str> = drift
        .iter()
        .filter(|d| d.package_database)
        .map(|d| d.path.as_str())
        .collect();
    if !databases.is_empty() {
        findings.push(
            bulwark_misconfig::Hit::new(
                "BW-RT-025",
                format!(
                    "package database files changed after start: {}",
                    databases.join(", ")
                ),
            )
            .on(resource.clone())
            .into_finding(&path),
        );
    }

    let advice = advice::advise(c, &added, &declared, effective.as_ref());
    Audited {
        audit: ContainerAudit {
            name,
            id: c.id.clone(),
            image: c.image_reference(),
            image_id: c.image.clone(),
            engine: engine.name().to_string(),
            pid: c.pid(),
            declared_capabilities: declared.into_iter().collect(),
            effective_capabilities: effective.map(|e| e.into_iter().collect()),
            in_use_files: Vec::new(),
            drift,
            advice,
            warnings,
        },
        findings,
        usage,
        root,
    }
}

impl Audited {
    /// The image reference to scan for this container's packages (`docker:<image id>`).
    pub fn image_source(&self) -> String {
        format!("{}:{}", self.audit.engine, self.audit.image_id)
    }

    /// This container's copy of the image's vulnerabilities, each with its in-use state
    /// (`unknown`, with the reason, when /proc was not readable); also lists the container's
    /// package files in use in [`ContainerAudit::in_use_files`].
    pub fn attach(
        &mut self,
        packages: &[Package],
        findings: &[VulnerabilityFinding],
    ) -> Vec<VulnerabilityFinding> {
        let name = self.audit.name.clone();
        match (&self.usage, self.root.as_mut()) {
            (Usage::Read(files), Some(root)) => {
                let owners = Owners::find(packages, files, root);
                self.audit.in_use_files = owners.files();
                usage::attach(findings, Some(&owners), &name, "")
            }
            (Usage::Unknown(why), _) => usage::attach(findings, None, &name, why),
            (Usage::Read(_), None) => usage::attach(
                findings,
                None,
                &name,
                "the container's root is not readable",
            ),
        }
    }
}
