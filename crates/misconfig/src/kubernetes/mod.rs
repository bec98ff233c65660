//! Checks for Kubernetes manifests: every workload kind's pod template (Pod Security Standards,
//! resources, images, probes, service account tokens, secrets in env), RBAC roles and bindings,
//! and the network exposure of the whole set (namespaces without a NetworkPolicy, allow-all
//! policies, admin ports on LoadBalancer/NodePort Services, dashboards, Ingress without TLS).
//!
//! [`scan_set`] loads every manifest with positions ([`crate::yaml`]), expands `List` kinds,
//! runs the per-object checks ([`workload`], [`psp`], [`rbac`], [`network`]) and then the
//! checks about the set. Unknown kinds are skipped; a file that cannot be parsed is reported
//! with its line and the other files are still checked; Helm templates that are not YAML yet
//! are skipped.

mod caps;
mod network;
mod psp;
mod rbac;
mod workload;

use std::collections::BTreeSet;

use rayon::prelude::*;

use crate::yaml::{self, Node};
use crate::{FileError, Hit, SourceFile};

/// One Kubernetes object of the scanned set.
pub(crate) struct Object<'a> {
    pub path: &'a str,
    pub node: &'a Node,
    pub kind: &'a str,
    pub name: &'a str,
    pub namespace: Option<&'a str>,
}

impl Object<'_> {
    /// `Deployment/prod/web`, or `ClusterRole/admin` without a namespace.
    pub fn resource(&self) -> String {
        match self.namespace {
            Some(ns) => format!("{}/{ns}/{}", self.kind, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }

    /// The namespace the object lands in when applied without `-n`.
    pub fn effective_namespace(&self) -> &str {
        self.namespace.unwrap_or("default")
    }

    /// Where to report a finding about the whole object: its `kind:` key.
    pub fn at(&self) -> &Node {
        self.node.entry("kind").map(|(k, _)| k).unwrap_or(self.node)
    }
}

/// Hits in the making, deduplicated by check and position.
#[derive(Default)]
pub(crate) struct Out {
    hits: Vec<(String, Hit)>,
    seen: BTreeSet<(String, &'static str, usize, usize)>,
}

impl Out {
    pub fn hit(&mut self, obj: &Object, at: &Node, check_id: &'static str, message: String) {
        if self
            .seen
            .insert((obj.path.to_string(), check_id, at.line, at.col))
        {
            self.hits.push((
                obj.path.to_string(),
                Hit::new(check_id, message)
                    .at(at.line, at.col)
                    .on(obj.resource()),
            ));
        }
    }
}

/// Runs every Kubernetes check on the whole set of manifests: (file path, hit) pairs.
pub fn scan_set(files: &[&SourceFile]) -> (Vec<(String, Hit)>, Vec<FileError>) {
    let loaded: Vec<(&str, Result<Vec<Node>, FileError>)> = files
        .par_iter()
        .map(|f| (f.path.as_str(), load(f)))
        .collect();
    let mut errors = Vec::new();
    let mut objects = Vec::new();
    for (path, docs) in &loaded {
        match docs {
            Ok(docs) => {
                for doc in docs {
                    collect_objects(path, doc, &mut objects, 0);
                }
            }
            Err(e) => errors.push(e.clone()),
        }
    }
    let set = workload::SetContext::new(&objects);
    let mut out = Out::default();
    for obj in &objects {
        workload::check(obj, &set, &mut out);
        rbac::check(obj, &mut out);
        network::check(obj, &mut out);
    }
    network::check_set(&objects, &mut out);
    (out.hits, errors)
}

/// Checks objects one at a time, as `bulwark k8s` reads them from a cluster: the per-object
/// checks of [`scan_set`], without its checks about the whole set (the cluster-wide checks
/// of bulwark-k8s see the cluster). ServiceAccounts handed over before a pod decide whether
/// it mounts a token, so hand them over first.
#[derive(Default)]
pub struct ObjectChecker {
    set: workload::SetContext,
}

impl ObjectChecker {
    pub fn new() -> ObjectChecker {
        ObjectChecker::default()
    }

    /// The hits of the objects in one file (a live object's JSON), and its error if it does
    /// not parse.
    pub fn check(&mut self, file: &SourceFile) -> (Vec<Hit>, Option<FileError>) {
        let docs = match load(file) {
            Ok(docs) => docs,
            Err(e) => return (Vec::new(), Some(e)),
        };
        let mut objects = Vec::new();
        for doc in &docs {
            collect_objects(&file.path, doc, &mut objects, 0);
        }
        for obj in &objects {
            self.set.observe(obj);
        }
        let mut out = Out::default();
        for obj in &objects {
            workload::check(obj, &self.set, &mut out);
            rbac::check(obj, &mut out);
            network::check(obj, &mut out);
        }
        (out.hits.into_iter().map(|(_, hit)| hit).collect(), None)
    }
}

/// Runs the per-object checks on one manifest, without the checks about the whole set (a
/// namespace without a NetworkPolicy says nothing about one object): the admission webhook
/// judges each object the API server is about to store on its own.
pub fn scan_object(file: &SourceFile) -> (Vec<Hit>, Vec<FileError>) {
    let (hits, error) = ObjectChecker::new().check(file);
    (hits, error.into_iter().collect())
}

fn load(file: &SourceFile) -> Result<Vec<Node>, FileError> {
    let text = std::str::from_utf8(&file.bytes).map_err(|e| {
        let line = file.bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        FileError::new(
            &file.path,
            Some(line),
            "not UTF-8 text; Kubernetes manifests are UTF-8 YAML or JSON",
        )
    })?;
    match yaml::load_stream(text) {
        Ok(docs) => Ok(docs),
        // A Helm chart's templates (`{{- if .Values.x }}`) are not manifests until rendered;
        // walking a chart must not report each one as broken YAML.
        Err(_) if text.contains("{{") && text.contains("}}") => Ok(Vec::new()),
        Err(e) => Err(FileError::new(&file.path, Some(e.line), e.message)),
    }
}

/// Adds the document's object, or the items of a `List` (`kind: List`, `PodList`, ...).
fn collect_objects<'a>(path: &'a str, doc: &'a Node, out: &mut Vec<Object<'a>>, depth: usize) {
    let Some(kind) = doc.get("kind").and_then(Node::as_str) else {
        return;
    };
    if kind.ends_with("List") {
        if let Some(items) = doc.get("items") {
            if depth < 4 {
                for item in items.seq() {
                    collect_objects(path, item, out, depth + 1);
                }
            }
            return;
        }
    }
    let meta = doc.get("metadata");
    out.push(Object {
        path,
        node: doc,
        kind,
        name: meta
            .and_then(|m| m.get("name").or_else(|| m.get("generateName")))
            .and_then(Node::as_str)
            .unwrap_or("unnamed"),
        namespace: meta.and_then(|m| m.get("namespace")).and_then(Node::as_str),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FileKind;

    fn file(path: &str, text: &str) -> SourceFile {
        SourceFile {
            path: path.into(),
            kind: FileKind::Kubernetes,
            bytes: text.as_bytes().to_vec(),
        }
    }

    #[test]
    fn lists_are_expanded_and_bad_files_do_not_stop_the_others() {
        let good = file(
            "list.yaml",
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p, namespace: x}\n  spec:\n    hostPID: true\n    containers: [{name: c, image: nginx}]\n",
        );
        let bad = file("bad.yaml", "apiVersion: v1\nkind: Pod\nspec: [\n");
        let bomb = file(
            "bomb.yaml",
            "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\nkind: Pod\n",
        );
        let unknown = file("crd.yaml", "apiVersion: x/v1\nkind: Widget\nspec: {}\n");
        let helm = file(
            "templates/deploy.yaml",
            "{{- if .Values.enabled }}\napiVersion: apps/v1\nkind: Deployment\n{{- end }}\n",
        );
        let (hits, errors) = scan_set(&[&good, &bad, &bomb, &unknown, &helm]);
        let host_pid: Vec<_> = hits
            .iter()
            .filter(|(_, h)| h.check_id == "BW-K8S-003")
            .collect();
        assert_eq!(host_pid.len(), 1);
        assert_eq!(host_pid[0].1.line, Some(8));
        assert_eq!(host_pid[0].1.resource.as_deref(), Some("Pod/x/p"));
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert_eq!(errors[0].path, "bad.yaml");
        assert!(errors[1].message.contains("billion laughs"), "{errors:?}");
        assert_eq!(errors[1].line, Some(5));
        assert!(hits.iter().all(|(p, _)| p == "list.yaml"));
    }

    /// Issue 12.6: judge what the API server runs. A volume whose only source is written
    /// `null` is an emptyDir, not a hostPath of the node's root; container-only fields written
    /// on the pod's securityContext are dropped, not inherited; a container field written
    /// `null` is unset, so the pod's value applies.
    #[test]
    fn issue_12_6_null_sources_and_pod_level_container_fields_are_not_findings() {
        let pod = file(
            "pod.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: x}\nspec:\n  securityContext:\n    privileged: true\n    allowPrivilegeEscalation: true\n    capabilities: {add: [SYS_ADMIN]}\n    procMount: Unmasked\n    runAsNonRoot: true\n    runAsUser: 1000\n  volumes:\n  - name: scratch\n  - name: nulled\n    hostPath:\n  - name: tilde\n    hostPath: ~\n  - name: other\n    nfs: null\n  containers:\n  - name: c\n    image: nginx:1.27@sha256:abc\n    securityContext:\n      privileged: false\n      allowPrivilegeEscalation: false\n      runAsNonRoot:\n      runAsUser: null\n      capabilities: {drop: [ALL]}\n",
        );
        let (hits, errors) = scan_set(&[&pod]);
        assert!(errors.is_empty(), "{errors:?}");
        let ids: Vec<&str> = hits.iter().map(|(_, h)| h.check_id).collect();
        for id in [
            "BW-K8S-001",
            "BW-K8S-005",
            "BW-K8S-007",
            "BW-K8S-008",
            "BW-K8S-009",
            "BW-K8S-010",
            "BW-K8S-016",
            "BW-K8S-018",
            "BW-K8S-032",
        ] {
            assert!(!ids.contains(&id), "{id} reported: {ids:?}");
        }

        // The same fields on the container are still findings.
        let bad = file(
            "bad.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata: {name: b, namespace: x}\nspec:\n  volumes:\n  - name: root\n    hostPath: {path: /}\n  containers:\n  - name: c\n    image: nginx:1.27@sha256:abc\n    securityContext:\n      privileged: true\n      procMount: Unmasked\n",
        );
        let (hits, _) = scan_set(&[&bad]);
        let ids: Vec<&str> = hits.iter().map(|(_, h)| h.check_id).collect();
        for id in ["BW-K8S-001", "BW-K8S-005", "BW-K8S-016", "BW-K8S-032"] {
            assert!(ids.contains(&id), "{id} missing: {ids:?}");
        }
    }
}
