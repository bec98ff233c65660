//! Checks on a workload's pod template: the Pod Security Standards controls (baseline and
//! restricted), root filesystem, resources, images, probes, service account tokens and secrets
//! in the environment.
//!
//! Settings that exist both on the pod's and the container's `securityContext` are read the way
//! the kubelet reads them: the container's value wins, the pod's applies when the container says
//! nothing. A forbidden or incomplete value is reported at its key; a missing required
//! setting is reported at the container's `name:` (or, for pod-level settings, the pod
//! template's `spec:`).

use std::collections::HashSet;

use super::caps::{cap_name, BASELINE_CAPS};
use super::{Object, Out};
use crate::yaml::Node;

/// Kinds whose objects hold a pod template, and where.
fn pod_template<'a>(obj: &Object<'a>) -> Option<Pod<'a>> {
    let root = obj.node;
    let (holder, meta): (&Node, Option<&Node>) = match obj.kind {
        "Pod" => (root, root.get("metadata")),
        // DeploymentConfig (OpenShift) and Rollout (Argo Rollouts) carry a Deployment's template.
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job"
        | "DeploymentConfig"
        | "Rollout" => {
            let t = root.path(&["spec", "template"])?;
            (t, t.get("metadata"))
        }
        "CronJob" => {
            let t = root.path(&["spec", "jobTemplate", "spec", "template"])?;
            (t, t.get("metadata"))
        }
        "PodTemplate" => {
            let t = root.get("template")?;
            (t, t.get("metadata"))
        }
        _ => return None,
    };
    let (spec_key, spec) = holder.entry("spec")?;
    spec.is_map().then_some(Pod {
        spec_key,
        spec,
        annotations: meta.and_then(|m| m.get("annotations")),
        batch: matches!(obj.kind, "Job" | "CronJob") || one_off_pod(obj),
    })
}

/// A bare Pod that runs to completion: created by a Job (its `ownerReferences`), or with a
/// restart policy other than Always. Probes keep long-running containers healthy and routed;
/// a one-off run has neither need.
fn one_off_pod(obj: &Object) -> bool {
    if obj.kind != "Pod" {
        return false;
    }
    let owned_by_job = obj
        .node
        .path(&["metadata", "ownerReferences"])
        .map(Node::seq)
        .unwrap_or_default()
        .iter()
        .any(|o| {
            matches!(
                o.get("kind").and_then(Node::as_str),
                Some("Job" | "CronJob")
            )
        });
    let restart = obj
        .node
        .path(&["spec", "restartPolicy"])
        .and_then(Node::as_str);
    owned_by_job || matches!(restart, Some("Never" | "OnFailure"))
}

/// The labels of the pods a workload creates.
pub(crate) fn pod_labels<'a>(obj: &Object<'a>) -> Option<&'a Node> {
    let root = obj.node;
    match obj.kind {
        "Pod" => root.path(&["metadata", "labels"]),
        "CronJob" => root.path(&[
            "spec",
            "jobTemplate",
            "spec",
            "template",
            "metadata",
            "labels",
        ]),
        _ => root.path(&["spec", "template", "metadata", "labels"]),
    }
}

pub(crate) fn is_workload(kind: &str) -> bool {
    matches!(
        kind,
        "Pod"
            | "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "ReplicaSet"
            | "ReplicationController"
            | "Job"
            | "CronJob"
            | "DeploymentConfig"
            | "Rollout"
    )
}

struct Pod<'a> {
    spec_key: &'a Node,
    spec: &'a Node,
    annotations: Option<&'a Node>,
    /// Job or CronJob: runs to completion, so no probes.
    batch: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ContainerKind {
    Regular,
    Init,
    Ephemeral,
}

struct Container<'a> {
    node: &'a Node,
    name: &'a str,
    kind: ContainerKind,
}

impl<'a> Container<'a> {
    /// The `name:` key, where findings about a missing setting land.
    fn at(&self) -> &'a Node {
        self.node.entry("name").map(|(k, _)| k).unwrap_or(self.node)
    }

    /// Where a setting at `path` that is missing or wrong is reported: its key when it is
    /// written (with a wrong or incomplete value), else the container's `name:`.
    fn missing_at(&self, path: &[&str]) -> &'a Node {
        self.node.path_key(path).unwrap_or_else(|| self.at())
    }

    /// A container `securityContext` field, as the API server decodes it: a field written
    /// `null` (or left empty) is unset, so the pod's value (where one exists) applies.
    fn sc(&self, key: &str) -> Option<(&'a Node, &'a Node)> {
        set_entry(self.node.get("securityContext")?, key)
    }

    fn label(&self) -> String {
        let kind = match self.kind {
            ContainerKind::Regular => "container",
            ContainerKind::Init => "init container",
            ContainerKind::Ephemeral => "ephemeral container",
        };
        format!("{kind} {:?}", self.name)
    }
}

/// The entry under `key` unless its value is null: JSON `null` (YAML `~` or nothing) decodes to
/// an unset pointer field in the API server, exactly as if the key were absent.
fn set_entry<'a>(node: &'a Node, key: &str) -> Option<(&'a Node, &'a Node)> {
    node.entry(key).filter(|(_, v)| !v.is_null())
}

fn containers<'a>(spec: &'a Node) -> Vec<Container<'a>> {
    let mut out = Vec::new();
    for (key, kind) in [
        ("initContainers", ContainerKind::Init),
        ("containers", ContainerKind::Regular),
        ("ephemeralContainers", ContainerKind::Ephemeral),
    ] {
        for node in spec.get(key).map(Node::seq).unwrap_or_default() {
            out.push(Container {
                node,
                name: node.get("name").and_then(Node::as_str).unwrap_or("unnamed"),
                kind,
            });
        }
    }
    out
}

/// What the whole set says that a workload check needs: service accounts that do not mount
/// their token.
#[derive(Default)]
pub(crate) struct SetContext {
    no_automount: HashSet<(String, String)>,
}

impl SetContext {
    /// Records what one object adds to the context (live objects arrive one at a time).
    pub fn observe(&mut self, o: &Object) {
        let off = o
            .node
            .get("automountServiceAccountToken")
            .and_then(Node::as_bool)
            == Some(false);
        if o.kind == "ServiceAccount" && off {
            self.no_automount
                .insert((o.effective_namespace().to_string(), o.name.to_string()));
        }
    }

    pub fn new(objects: &[Object]) -> SetContext {
        let mut set = SetContext::default();
        for o in objects {
            set.observe(o);
        }
        set
    }
}

/// Sysctls the baseline level allows (namespaced and isolated from the host).
const SAFE_SYSCTLS: &[&str] = &[
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
];

/// Volume types the restricted level allows (hostPath has its own check).
const RESTRICTED_VOLUMES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
    "hostPath",
];

const SELINUX_TYPES: &[&str] = &[
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
];

/// Host paths that hand the container the container runtime (and so the node).
const RUNTIME_SOCKETS: &[&str] = &[
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run/containerd/containerd.sock",
    "/run/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
    "/run/crio/crio.sock",
    "/var/run/cri-dockerd.sock",
    "/",
    "/var",
    "/var/run",
    "/run",
    "/var/run/docker",
    "/var/lib/docker",
    "/run/containerd",
    "/var/run/containerd",
];

pub(crate) fn check(obj: &Object, set: &SetContext, out: &mut Out) {
    match obj.kind {
        "PodSecurityPolicy" => return super::psp::check(obj, out),
        "ServiceAccount" => return default_service_account(obj, out),
        "ConfigMap" => return config_map(obj, out),
        _ => {}
    }
    let Some(pod) = pod_template(obj) else {
        return;
    };
    let spec = pod.spec;
    let containers = containers(spec);
    let pod_sc = spec.get("securityContext");

    // Host namespaces.
    for (key, id, what) in [
        ("hostNetwork", "BW-K8S-002", "the node's network namespace"),
        ("hostPID", "BW-K8S-003", "the node's process namespace"),
        ("hostIPC", "BW-K8S-004", "the node's IPC namespace"),
    ] {
        if let Some((k, v)) = spec.entry(key) {
            if v.as_bool() == Some(true) {
                out.hit(
                    obj,
                    k,
                    id,
                    format!("{key}: true shares {what} with the pod"),
                );
            }
        }
    }

    // Volumes. A source written `null` is no source at all, and a volume without one is an
    // emptyDir (the API server's default), so only sources with a value count.
    for vol in spec.get("volumes").map(Node::seq).unwrap_or_default() {
        let vname = vol.get("name").and_then(Node::as_str).unwrap_or("unnamed");
        if let Some((k, hp)) = set_entry(vol, "hostPath") {
            let path = hp.get("path").and_then(Node::as_str).unwrap_or("");
            out.hit(
                obj,
                k,
                "BW-K8S-005",
                format!("volume {vname:?} mounts the node's path {path:?}"),
            );
            let trimmed = path.trim_end_matches('/');
            let trimmed = if trimmed.is_empty() { "/" } else { trimmed };
            // Without a path the API server rejects the volume; it mounts nothing.
            if !path.is_empty() && RUNTIME_SOCKETS.contains(&trimmed)
                || trimmed.ends_with(".sock")
                    && (trimmed.contains("docker")
                        || trimmed.contains("containerd")
                        || trimmed.contains("crio"))
            {
                let at = hp.entry("path").map(|(k, _)| k).unwrap_or(k);
                out.hit(
                    obj,
                    at,
                    "BW-K8S-032",
                    format!("volume {vname:?} mounts the container runtime's socket or state ({path}): control of the runtime is control of the node"),
                );
            }
        }
        for (k, v) in vol.map() {
            let Some(t) = k.as_str() else { continue };
            if t != "name" && !v.is_null() && !RESTRICTED_VOLUMES.contains(&t) {
                out.hit(
                    obj,
                    k,
                    "BW-K8S-018",
                    format!("volume {vname:?} is of type {t}, which the restricted level does not allow"),
                );
            }
        }
    }

    // Sysctls.
    for s in pod_sc
        .and_then(|sc| sc.get("sysctls"))
        .map(Node::seq)
        .unwrap_or_default()
    {
        if let Some((k, n)) = s.entry("name") {
            let name = n.as_str().unwrap_or("");
            if !SAFE_SYSCTLS.contains(&name) {
                out.hit(
                    obj,
                    k,
                    "BW-K8S-017",
                    format!("sysctl {name:?} is not in the safe set"),
                );
            }
        }
    }

    // Pod-level forbidden values (seccomp, AppArmor, SELinux, runAsUser, hostProcess).
    if let Some(sc) = pod_sc {
        // Forbidden values are reported on the pod even where every container overrides
        // them: the Pod Security Standards forbid the pod-level field itself, and admission
        // rejects the pod.
        forbidden_sc_values(obj, sc, "the pod's securityContext", out);
    }
    annotations(obj, &pod, &containers, out);

    // Only fields that exist on the pod's securityContext are inherited by containers
    // (runAsUser, runAsGroup, runAsNonRoot, seLinuxOptions, seccompProfile, appArmorProfile,
    // windowsOptions). privileged, allowPrivilegeEscalation, capabilities,
    // readOnlyRootFilesystem and procMount are container-only: written on the pod, the API
    // server drops them, so the container checks below read them from the container alone.
    let pod_non_root = pod_sc.and_then(|sc| set_entry(sc, "runAsNonRoot"));
    let pod_uid = pod_sc.and_then(|sc| set_entry(sc, "runAsUser"));
    let pod_seccomp = pod_sc
        .and_then(|sc| sc.path(&["seccompProfile", "type"]))
        .and_then(Node::as_str);
    let annotated_seccomp = |c: &Container| -> bool {
        let ann = pod.annotations;
        let ok = |v: Option<&str>| {
            v.is_some_and(|v| {
                v == "runtime/default" || v == "docker/default" || v.starts_with("localhost/")
            })
        };
        ok(ann
            .and_then(|a| {
                a.get(&format!(
                    "container.seccomp.security.alpha.kubernetes.io/{}",
                    c.name
                ))
            })
            .and_then(Node::as_str))
            || ok(ann
                .and_then(|a| a.get("seccomp.security.alpha.kubernetes.io/pod"))
                .and_then(Node::as_str))
    };

    for c in &containers {
        let label = c.label();
        let sc = c.node.get("securityContext");
        if let Some(sc) = sc {
            forbidden_sc_values(obj, sc, &format!("{label}'s securityContext"), out);
        }
        // privileged
        if let Some((k, v)) = c.sc("privileged") {
            if v.as_bool() == Some(true) {
                out.hit(
                    obj,
                    k,
                    "BW-K8S-001",
                    format!(
                        "{label} runs privileged: it has every capability and the node's devices"
                    ),
                );
            }
        }
        // hostPort
        for p in c.node.get("ports").map(Node::seq).unwrap_or_default() {
            if let Some((k, v)) = p.entry("hostPort") {
                if v.as_i64().is_some_and(|n| n != 0) {
                    out.hit(
                        obj,
                        k,
                        "BW-K8S-006",
                        format!("{label} binds host port {}", v.as_i64().unwrap_or(0)),
                    );
                }
            }
        }
        // capabilities
        let caps = sc.and_then(|sc| sc.get("capabilities"));
        if let Some((k, add)) = caps.and_then(|c| c.entry("add")) {
            let extra: Vec<String> = add
                .strs()
                .into_iter()
                .map(cap_name)
                .filter(|cap| !BASELINE_CAPS.contains(&cap.as_str()))
                .collect();
            if !extra.is_empty() {
                out.hit(
                    obj,
                    k,
                    "BW-K8S-007",
                    format!("{label} adds capabilities {}", extra.join(", ")),
                );
            }
        }
        // Restricted: of the baseline set, only NET_BIND_SERVICE may be added back.
        if let Some((k, add)) = caps.and_then(|c| c.entry("add")) {
            let extra: Vec<String> = add
                .strs()
                .into_iter()
                .map(cap_name)
                .filter(|cap| cap != "NET_BIND_SERVICE" && BASELINE_CAPS.contains(&cap.as_str()))
                .collect();
            if !extra.is_empty() {
                out.hit(
                    obj,
                    k,
                    "BW-K8S-008",
                    format!(
                        "{label} adds {}: the restricted level allows adding only NET_BIND_SERVICE",
                        extra.join(", ")
                    ),
                );
            }
        }
        let drops_all = caps
            .and_then(|c| c.get("drop"))
            .is_some_and(|d| d.strs().into_iter().any(|s| cap_name(s) == "ALL"));
        if !drops_all {
            out.hit(
                obj,
                c.missing_at(&["securityContext", "capabilities", "drop"]),
                "BW-K8S-008",
                format!("{label} does not drop ALL capabilities"),
            );
        }
        // allowPrivilegeEscalation
        match c.sc("allowPrivilegeEscalation") {
            Some((_, v)) if v.as_bool() == Some(false) => {}
            Some((k, _)) => out.hit(
                obj,
                k,
                "BW-K8S-009",
                format!("{label} allows privilege escalation"),
            ),
            None => out.hit(
                obj,
                c.missing_at(&["securityContext", "allowPrivilegeEscalation"]),
                "BW-K8S-009",
                format!("{label} does not set allowPrivilegeEscalation: false"),
            ),
        }
        // Root: the container's runAsNonRoot and runAsUser override the pod's. Either
        // runAsNonRoot: true or an explicit non-zero uid keeps the process off uid 0; the image's
        // USER cannot be seen from the manifest, so anything else may run as root.
        let non_root = c.sc("runAsNonRoot").or(pod_non_root);
        let uid = c.sc("runAsUser").or(pod_uid);
        let uid_value = uid.and_then(|(_, v)| v.as_i64());
        let safe = non_root.is_some_and(|(_, v)| v.as_bool() == Some(true))
            || uid_value.is_some_and(|u| u > 0);
        if !safe {
            let (at, why) = match (non_root, uid) {
                (Some((k, _)), _) => (k, "runAsNonRoot is false".to_string()),
                (None, Some((k, _))) if uid_value == Some(0) => (k, "it runs as uid 0".to_string()),
                _ => (
                    c.missing_at(&["securityContext", "runAsNonRoot"]),
                    "neither it nor the pod sets runAsNonRoot: true or a non-zero runAsUser".into(),
                ),
            };
            out.hit(
                obj,
                at,
                "BW-K8S-010",
                format!("{label} may run as root: {why}"),
            );
        }
        // seccomp required (restricted); Unconfined is BW-K8S-012's.
        let own = c
            .node
            .path(&["securityContext", "seccompProfile", "type"])
            .and_then(Node::as_str);
        let effective = own.or(pod_seccomp);
        let set = matches!(
            effective,
            Some("RuntimeDefault" | "Localhost" | "Unconfined")
        );
        if !set && !annotated_seccomp(c) {
            out.hit(
                obj,
                c.missing_at(&["securityContext", "seccompProfile", "type"]),
                "BW-K8S-013",
                format!("{label} has no seccomp profile (RuntimeDefault or Localhost), here or on the pod"),
            );
        }
        // procMount
        if let Some((k, v)) = c.sc("procMount") {
            if v.as_str().is_some_and(|m| m != "Default") {
                out.hit(
                    obj,
                    k,
                    "BW-K8S-016",
                    format!("{label} sets procMount: {}", v.as_str().unwrap_or("")),
                );
            }
        }
        if c.kind != ContainerKind::Ephemeral {
            // readOnlyRootFilesystem
            match c.sc("readOnlyRootFilesystem") {
                Some((_, v)) if v.as_bool() == Some(true) => {}
                Some((k, _)) => out.hit(
                    obj,
                    k,
                    "BW-K8S-020",
                    format!("{label} has a writable root filesystem"),
                ),
                None => out.hit(
                    obj,
                    c.missing_at(&["securityContext", "readOnlyRootFilesystem"]),
                    "BW-K8S-020",
                    format!("{label} does not set readOnlyRootFilesystem: true"),
                ),
            }
            resources(obj, spec, c, out);
        }
        image(obj, c, out);
        if c.kind == ContainerKind::Regular && !pod.batch {
            for (key, id) in [
                ("livenessProbe", "BW-K8S-026"),
                ("readinessProbe", "BW-K8S-027"),
            ] {
                if c.node.get(key).is_none() {
                    out.hit(obj, c.at(), id, format!("{label} has no {key}"));
                }
            }
        }
        env(obj, c, out);
        dashboard_args(obj, c, out);
        tiller(obj, c, out);
    }

    service_account(obj, &pod, set, out);
}

/// Values forbidden wherever they are written (pod or container `securityContext`).
fn forbidden_sc_values(obj: &Object, sc: &Node, whose: &str, out: &mut Out) {
    if let Some((k, v)) = sc.entry("runAsUser") {
        if v.as_i64() == Some(0) {
            out.hit(
                obj,
                k,
                "BW-K8S-011",
                format!("{whose} sets runAsUser: 0 (root)"),
            );
        }
    }
    if let Some((k, v)) = sc.get("seccompProfile").and_then(|s| s.entry("type")) {
        if v.as_str() == Some("Unconfined") {
            out.hit(
                obj,
                k,
                "BW-K8S-012",
                format!("{whose} sets seccompProfile type Unconfined"),
            );
        }
    }
    if let Some((k, v)) = sc.get("appArmorProfile").and_then(|s| s.entry("type")) {
        if v.as_str() == Some("Unconfined") {
            out.hit(
                obj,
                k,
                "BW-K8S-014",
                format!("{whose} sets appArmorProfile type Unconfined"),
            );
        }
    }
    if let Some(se) = sc.get("seLinuxOptions") {
        if let Some((k, v)) = se.entry("type") {
            let t = v.as_str().unwrap_or("");
            if !t.is_empty() && !SELINUX_TYPES.contains(&t) {
                out.hit(
                    obj,
                    k,
                    "BW-K8S-015",
                    format!("{whose} sets SELinux type {t:?}"),
                );
            }
        }
        for key in ["user", "role"] {
            if let Some((k, v)) = se.entry(key) {
                if v.as_str().is_some_and(|s| !s.is_empty()) {
                    out.hit(
                        obj,
                        k,
                        "BW-K8S-015",
                        format!("{whose} sets a custom SELinux {key}"),
                    );
                }
            }
        }
    }
    if let Some((k, v)) = sc
        .path(&["windowsOptions"])
        .and_then(|w| w.entry("hostProcess"))
    {
        if v.as_bool() == Some(true) {
            out.hit(
                obj,
                k,
                "BW-K8S-019",
                format!("{whose} runs a Windows HostProcess container"),
            );
        }
    }
}

/// Legacy seccomp and AppArmor annotations on the pod (template) metadata.
fn annotations(obj: &Object, pod: &Pod, containers: &[Container], out: &mut Out) {
    let Some(ann) = pod.annotations else { return };
    for (k, v) in ann.map() {
        let (Some(key), Some(value)) = (k.as_str(), v.as_str()) else {
            continue;
        };
        if (key == "seccomp.security.alpha.kubernetes.io/pod"
            || key.starts_with("container.seccomp.security.alpha.kubernetes.io/"))
            && value == "unconfined"
        {
            out.hit(
                obj,
                k,
                "BW-K8S-012",
                format!("annotation {key} is unconfined"),
            );
        }
        if let Some(name) = key.strip_prefix("container.apparmor.security.beta.kubernetes.io/") {
            if value == "unconfined"
                && (containers.is_empty() || containers.iter().any(|c| c.name == name))
            {
                out.hit(
                    obj,
                    k,
                    "BW-K8S-014",
                    format!("annotation {key} is unconfined"),
                );
            }
        }
    }
}

/// Container requests and limits; a pod-level `resources` (Kubernetes 1.32+) covers the
/// resources it sets for every container.
fn resources(obj: &Object, pod_spec: &Node, c: &Container, out: &mut Out) {
    for (section, id) in [("limits", "BW-K8S-021"), ("requests", "BW-K8S-022")] {
        let values = c.node.path(&["resources", section]);
        let pod_values = pod_spec.path(&["resources", section]);
        let set =
            |v: Option<&Node>, r: &str| v.and_then(|v| v.get(r)).is_some_and(|n| !n.is_null());
        let missing: Vec<&str> = ["cpu", "memory"]
            .into_iter()
            .filter(|r| !set(values, r) && !set(pod_values, r))
            .collect();
        if !missing.is_empty() {
            out.hit(
                obj,
                c.missing_at(&["resources", section]),
                id,
                format!("{} sets no {} {section}", c.label(), missing.join(" or ")),
            );
        }
    }
}

/// Image reference parts: (tag, digest-pinned).
fn image_ref(image: &str) -> (Option<&str>, bool) {
    let (name, digest) = match image.split_once('@') {
        Some((n, _)) => (n, true),
        None => (image, false),
    };
    let last = name.rsplit('/').next().unwrap_or(name);
    (last.split_once(':').map(|(_, t)| t), digest)
}

fn image(obj: &Object, c: &Container, out: &mut Out) {
    let label = c.label();
    let Some((k, v)) = c.node.entry("image") else {
        return;
    };
    let image = v.as_str().unwrap_or("").trim();
    if image.is_empty() {
        return;
    }
    let (tag, pinned) = image_ref(image);
    let latest = tag.is_none_or(|t| t == "latest");
    if !pinned {
        if latest {
            out.hit(
                obj,
                k,
                "BW-K8S-023",
                match tag {
                    None => format!("{label} uses image {image:?} without a tag (latest)"),
                    Some(_) => format!("{label} uses image {image:?}"),
                },
            );
        }
        out.hit(
            obj,
            k,
            "BW-K8S-024",
            format!("{label} image {image:?} is not pinned by digest"),
        );
        match c.node.entry("imagePullPolicy") {
            Some((pk, pv)) if pv.as_str() != Some("Always") => out.hit(
                obj,
                pk,
                "BW-K8S-025",
                format!("{label} pulls the mutable image {image:?} with policy {}", pv.as_str().unwrap_or("")),
            ),
            // Without a policy, a tag other than latest defaults to IfNotPresent.
            None if !latest => out.hit(
                obj,
                k,
                "BW-K8S-025",
                format!("{label} pulls the mutable image {image:?} with the default policy IfNotPresent"),
            ),
            _ => {}
        }
    }
}

fn secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
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
        "AUTH_KEY",
        "ACCOUNT_KEY",
        "CONNECTION_STRING",
    ]
    .iter()
    .any(|w| n.contains(w))
        || n.ends_with("_PWD")
        || n == "PWD_HASH";
    let indirect = [
        "_FILE",
        "_PATH",
        "_DIR",
        "_URL",
        "_NAME",
        "_LENGTH",
        "_TTL",
        "_EXPIRY",
        "_TIMEOUT",
        "_HEADER",
        "_ENABLED",
        "_INTERVAL",
        "_SECONDS",
        "_REFRESH",
        "_SIZE",
        "_TYPE",
    ]
    .iter()
    .any(|s| n.ends_with(s));
    secretish && !indirect
}

fn env(obj: &Object, c: &Container, out: &mut Out) {
    let label = c.label();
    for e in c.node.get("env").map(Node::seq).unwrap_or_default() {
        let name = e.get("name").and_then(Node::as_str).unwrap_or("");
        if let Some((k, v)) = e.entry("value") {
            let value = v.as_str().unwrap_or("");
            if secret_name(name)
                && !value.is_empty()
                && !value.starts_with("$(")
                && !value.starts_with('/')
                && v.as_bool().is_none()
                && value.parse::<f64>().is_err()
            {
                out.hit(
                    obj,
                    k,
                    "BW-K8S-031",
                    format!("{label} sets {name} to a literal value (redacted) in the manifest"),
                );
            }
        }
        if let Some((k, _)) = e.get("valueFrom").and_then(|vf| vf.entry("secretKeyRef")) {
            out.hit(
                obj,
                k,
                "BW-K8S-033",
                format!("{label} reads secret into environment variable {name}"),
            );
        }
    }
    for e in c.node.get("envFrom").map(Node::seq).unwrap_or_default() {
        if let Some((k, _)) = e.entry("secretRef") {
            out.hit(
                obj,
                k,
                "BW-K8S-033",
                format!("{label} loads a whole secret into its environment"),
            );
        }
    }
}

/// Kubernetes Dashboard flags that turn off authentication or authorization.
fn dashboard_args(obj: &Object, c: &Container, out: &mut Out) {
    for key in ["args", "command"] {
        for a in c.node.get(key).map(Node::seq).unwrap_or_default() {
            let Some(arg) = a.as_str() else { continue };
            let arg = arg.trim();
            let flag = arg.split('=').next().unwrap_or(arg);
            let value = arg.split_once('=').map(|(_, v)| v.trim());
            let on = value.is_none_or(|v| v != "false");
            if on
                && matches!(
                    flag,
                    "--enable-skip-login"
                        | "--disable-settings-authorizer"
                        | "--enable-insecure-login"
                )
            {
                out.hit(
                    obj,
                    a,
                    "BW-K8S-045",
                    format!("{} runs the dashboard with {flag}", c.label()),
                );
            }
        }
    }
}

/// Helm v2's Tiller: an unauthenticated gRPC endpoint (port 44134) that installs anything with
/// its own, usually cluster-admin, service account.
fn tiller(obj: &Object, c: &Container, out: &mut Out) {
    let Some((k, v)) = c.node.entry("image") else {
        return;
    };
    let image = v.as_str().unwrap_or("");
    // The last path segment of the repository, without tag or digest.
    let repo = image.split('@').next().unwrap_or("");
    let last = repo.rsplit('/').next().unwrap_or(repo);
    if last.split(':').next() == Some("tiller") {
        out.hit(
            obj,
            k,
            "BW-K8S-049",
            format!("{} runs Helm v2 Tiller ({image})", c.label()),
        );
    }
}

fn service_account(obj: &Object, pod: &Pod, set: &SetContext, out: &mut Out) {
    let spec = pod.spec;
    let sa_entry = spec
        .entry("serviceAccountName")
        .or_else(|| spec.entry("serviceAccount"));
    let sa = sa_entry.and_then(|(_, v)| v.as_str()).unwrap_or("default");
    let automount = spec.entry("automountServiceAccountToken");
    let sa_off = set
        .no_automount
        .contains(&(obj.effective_namespace().to_string(), sa.to_string()));
    let mounted = match automount {
        Some((_, v)) => v.as_bool() != Some(false),
        None => !sa_off,
    };
    if mounted {
        let at = automount.map(|(k, _)| k).unwrap_or(pod.spec_key);
        out.hit(
            obj,
            at,
            "BW-K8S-028",
            format!("the pod mounts the token of service account {sa:?}; set automountServiceAccountToken: false unless it calls the API"),
        );
        if sa == "default" {
            let at = sa_entry.map(|(k, _)| k).unwrap_or(pod.spec_key);
            out.hit(
                obj,
                at,
                "BW-K8S-030",
                "the pod runs as the namespace's default service account with its token mounted"
                    .into(),
            );
        }
    }
}

/// ConfigMap entries named like credentials with a literal value: ConfigMaps are not secret
/// (readable by anyone who can read the namespace's configuration, and not encrypted at rest).
fn config_map(obj: &Object, out: &mut Out) {
    for (k, v) in obj.node.get("data").map(Node::map).unwrap_or_default() {
        let (Some(key), Some(value)) = (k.as_str(), v.as_str()) else {
            continue;
        };
        // A whole config file (`application.properties: |`) is not a value.
        let env_name = key.replace(['.', '-'], "_");
        if secret_name(&env_name)
            && !value.trim().is_empty()
            && !value.contains('\n')
            && !value.starts_with('/')
            && !value.starts_with("${")
            && v.as_bool().is_none()
            && value.parse::<f64>().is_err()
        {
            out.hit(
                obj,
                k,
                "BW-K8S-050",
                format!("ConfigMap key {key} holds a literal credential (value redacted)"),
            );
        }
    }
}

/// The namespace's `default` ServiceAccount mounting its token into every pod that names no
/// account (CIS 5.1.5 asks for `automountServiceAccountToken: false` on it).
fn default_service_account(obj: &Object, out: &mut Out) {
    if obj.name != "default" {
        return;
    }
    match obj.node.entry("automountServiceAccountToken") {
        Some((_, v)) if v.as_bool() == Some(false) => {}
        Some((k, _)) => out.hit(
            obj,
            k,
            "BW-K8S-030",
            "the default service account mounts its token into every pod that names no account"
                .into(),
        ),
        None => out.hit(
            obj,
            obj.at(),
            "BW-K8S-030",
            "the default service account does not set automountServiceAccountToken: false".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references() {
        assert_eq!(image_ref("nginx"), (None, false));
        assert_eq!(image_ref("nginx:1.25"), (Some("1.25"), false));
        assert_eq!(image_ref("registry:5000/team/app"), (None, false));
        assert_eq!(
            image_ref("registry:5000/app:v1@sha256:ab"),
            (Some("v1"), true)
        );
        assert!(secret_name("DB_PASSWORD"));
        assert!(secret_name("GITHUB_TOKEN"));
        assert!(!secret_name("DB_PASSWORD_FILE"));
        assert!(!secret_name("LOG_LEVEL"));
    }
}
