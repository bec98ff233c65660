//! The consumer every object of a cluster goes through, live or from a dump: the compact
//! [`ClusterFacts`], the per-object manifest checks of `bulwark-misconfig` (on the owning
//! controller, once, never on each of its pods), and the index of running images. At the end,
//! [`ClusterScan::finish`] runs the cluster-wide checks and hands back findings, warnings and
//! the images to scan.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bulwark_misconfig::kubernetes::ObjectChecker;
use bulwark_misconfig::{FileKind, SourceFile};
use bulwark_types::Misconfiguration;
use serde_json::Value;

use crate::source::Consumer;
use crate::{check_cluster, ClusterFacts, ClusterOptions};

/// A workload as findings and uploads name it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Workload {
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl Workload {
    /// `Deployment/prod/web`, as manifest findings name their resource.
    pub fn resource(&self) -> String {
        format!("{}/{}/{}", self.kind, self.namespace, self.name)
    }
}

/// One image a cluster runs, named by digest when the kubelet reported one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningImage {
    /// `registry/repo@sha256:...` from a pod's status, else the image of its spec.
    pub reference: String,
    /// The workloads that run it (the top controller of each pod).
    pub workloads: BTreeSet<Workload>,
    /// `(namespace, name)` of the imagePullSecrets of the pods that run it.
    pub pull_secrets: BTreeSet<(String, String)>,
}

/// What a cluster scan found, before images are scanned.
#[derive(Debug, Default)]
pub struct ClusterOutcome {
    /// `cluster://<context>` or the dump's path: the `path` of every finding.
    pub origin: String,
    /// Sorted by resource, check id and message.
    pub findings: Vec<Misconfiguration>,
    pub warnings: Vec<String>,
    /// Sorted by reference; each distinct image once.
    pub images: Vec<RunningImage>,
    /// Who owns each namespace that says so (annotation `bulwark.dev/owner`, else label
    /// `owner`, else label `team`).
    pub namespace_owners: BTreeMap<String, String>,
    /// Objects read.
    pub objects: usize,
    /// Objects not checked themselves because their controller's template was.
    pub owned_skipped: usize,
}

/// A pod's owner as its ownerReference names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Owner {
    kind: String,
    name: String,
    uid: String,
}

/// The manifest check the cluster check `BW-CLU-040` replaces in a cluster scan.
const MANIFEST_NOT_PINNED: &str = "BW-K8S-024";

/// Who runs one image reference: (namespace, pod owner, pod name only for a bare pod), and the
/// (namespace, name) of the pull secrets those pods name.
#[derive(Default)]
struct ImageUse {
    pods: BTreeSet<(String, Option<Owner>, String)>,
    pull_secrets: BTreeSet<(String, String)>,
}

/// Everything kept between objects: compact (per namespace, per controller or per image),
/// never the objects themselves.
pub struct ClusterScan {
    origin: String,
    facts: ClusterFacts,
    checker: ObjectChecker,
    findings: Vec<Misconfiguration>,
    warnings: Vec<String>,
    /// ReplicaSet or Job uid → its own controller (Deployment, CronJob), to name a pod's
    /// workload once everything is read.
    controllers: HashMap<String, Owner>,
    /// Image reference → who runs it and with which pull secrets.
    images: BTreeMap<String, ImageUse>,
    namespace_owners: BTreeMap<String, String>,
    objects: usize,
    owned_skipped: usize,
}

impl ClusterScan {
    /// A scan whose findings are filed under `origin` (`cluster://<context>` or a dump path).
    pub fn new(origin: impl Into<String>) -> ClusterScan {
        ClusterScan {
            origin: origin.into(),
            facts: ClusterFacts::new(),
            checker: ObjectChecker::new(),
            findings: Vec::new(),
            warnings: Vec::new(),
            controllers: HashMap::new(),
            images: BTreeMap::new(),
            namespace_owners: BTreeMap::new(),
            objects: 0,
            owned_skipped: 0,
        }
    }

    /// Runs the cluster-wide checks over the facts and returns everything found.
    pub fn finish(self, options: &ClusterOptions) -> ClusterOutcome {
        // The cluster check of unpinned images (BW-CLU-040, once per controller, system
        // namespaces exempt) says what the manifest check BW-K8S-024 says of the same
        // workload: one finding, not two.
        let mut findings: Vec<Misconfiguration> = self
            .findings
            .into_iter()
            .filter(|f| f.check_id != MANIFEST_NOT_PINNED)
            .collect();
        for hit in check_cluster(&self.facts, options) {
            findings.push(hit.into_finding(&self.origin));
        }
        findings.sort_by(|a, b| {
            (&a.location.resource, &a.check_id, &a.message).cmp(&(
                &b.location.resource,
                &b.check_id,
                &b.message,
            ))
        });
        findings.dedup();
        let controllers = &self.controllers;
        let images = self
            .images
            .into_iter()
            .map(|(reference, image)| RunningImage {
                reference,
                workloads: image
                    .pods
                    .into_iter()
                    .map(|(namespace, owner, pod)| top_workload(namespace, owner, pod, controllers))
                    .collect(),
                pull_secrets: image.pull_secrets,
            })
            .collect();
        ClusterOutcome {
            origin: self.origin,
            findings,
            warnings: self.warnings,
            images,
            namespace_owners: self.namespace_owners,
            objects: self.objects,
            owned_skipped: self.owned_skipped,
        }
    }

    fn check_object(&mut self, object: &Value, resource: String) {
        let text = match serde_json::to_string_pretty(object) {
            Ok(text) => text,
            Err(e) => {
                self.warnings
                    .push(format!("{resource}: cannot be checked: {e}"));
                return;
            }
        };
        let file = SourceFile {
            path: resource.clone(),
            kind: FileKind::Kubernetes,
            bytes: text.into_bytes(),
        };
        let (hits, error) = self.checker.check(&file);
        if let Some(e) = error {
            self.warnings
                .push(format!("{resource}: cannot be checked: {}", e.message));
        }
        for hit in hits {
            let mut finding = hit.into_finding(&self.origin);
            // Lines of the JSON bulwark wrote for the check mean nothing to the reader: the
            // resource is the location.
            finding.location.line = None;
            finding.location.column = None;
            finding.location.end_line = None;
            self.findings.push(finding);
        }
    }

    fn record_images(
        &mut self,
        pod_value: &Value,
        namespace: &str,
        name: &str,
        owner: Option<Owner>,
    ) {
        let spec = pod_value.get("spec");
        let pull_secrets: BTreeSet<(String, String)> = spec
            .and_then(|s| s.get("imagePullSecrets"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| s.get("name").and_then(Value::as_str))
            .map(|s| (namespace.to_string(), s.to_string()))
            .collect();
        // One entry per controller, not per replica: the pod's name only for a bare pod.
        let pod = if owner.is_some() { "" } else { name };
        for reference in running_images(pod_value) {
            let entry = self.images.entry(reference).or_default();
            entry
                .pods
                .insert((namespace.to_string(), owner.clone(), pod.to_string()));
            entry.pull_secrets.extend(pull_secrets.iter().cloned());
        }
    }
}

impl Consumer for ClusterScan {
    fn object(&mut self, object: Value) {
        self.objects += 1;
        self.facts.observe(&object);
        let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
        let meta = object.get("metadata");
        let name = meta
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("unnamed");
        let namespace = meta
            .and_then(|m| m.get("namespace"))
            .and_then(Value::as_str);
        let resource = match namespace {
            Some(ns) => format!("{kind}/{ns}/{name}"),
            None => format!("{kind}/{name}"),
        };
        let owner = controller_of(&object);
        if kind == "Namespace" {
            if let Some(owner) = namespace_owner(&object) {
                self.namespace_owners.insert(name.to_string(), owner);
            }
        }
        if matches!(kind, "ReplicaSet" | "Job") {
            if let (Some(uid), Some(owner)) = (uid_of(&object), owner.clone()) {
                self.controllers.insert(uid.to_string(), owner);
            }
        }
        if kind == "Pod" {
            self.record_images(&object, namespace.unwrap_or("default"), name, owner.clone());
        }
        // The controller's template is checked; its pods (and a Deployment's ReplicaSets, a
        // CronJob's Jobs) would only repeat each finding once per replica.
        let owned = owner.as_ref().is_some_and(|o| {
            matches!(
                (kind, o.kind.as_str()),
                ("Pod", "ReplicaSet" | "Job" | "StatefulSet" | "DaemonSet")
                    | ("ReplicaSet", "Deployment")
                    | ("Job", "CronJob")
            )
        });
        if owned {
            self.owned_skipped += 1;
            return;
        }
        self.check_object(&object, resource);
    }

    fn warning(&mut self, message: String) {
        self.warnings.push(message);
    }
}

fn uid_of(object: &Value) -> Option<&str> {
    object.get("metadata")?.get("uid")?.as_str()
}

/// The ownerReference marked `controller: true`.
fn controller_of(object: &Value) -> Option<Owner> {
    let refs = object.get("metadata")?.get("ownerReferences")?.as_array()?;
    let r = refs
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))?;
    Some(Owner {
        kind: r.get("kind")?.as_str()?.to_string(),
        name: r.get("name")?.as_str()?.to_string(),
        uid: r
            .get("uid")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    })
}

fn namespace_owner(ns: &Value) -> Option<String> {
    let meta = ns.get("metadata")?;
    let annotation = meta
        .get("annotations")
        .and_then(|a| a.get("bulwark.dev/owner"))
        .and_then(Value::as_str);
    let label = |key: &str| {
        meta.get("labels")
            .and_then(|l| l.get(key))
            .and_then(Value::as_str)
    };
    annotation
        .or_else(|| label("owner"))
        .or_else(|| label("team"))
        .filter(|o| !o.is_empty())
        .map(str::to_string)
}

/// The workload a pod belongs to: its controller, or that controller's own controller (a
/// ReplicaSet's Deployment, a Job's CronJob), or the pod itself.
fn top_workload(
    namespace: String,
    owner: Option<Owner>,
    pod: String,
    controllers: &HashMap<String, Owner>,
) -> Workload {
    match owner {
        None => Workload {
            kind: "Pod".into(),
            namespace,
            name: pod,
        },
        Some(owner) => {
            let top = controllers.get(&owner.uid).unwrap_or(&owner);
            Workload {
                kind: top.kind.clone(),
                namespace,
                name: top.name.clone(),
            }
        }
    }
}

/// The images a pod runs: the digests its status reports (`imageID`), else its spec's images.
pub fn running_images(pod: &Value) -> BTreeSet<String> {
    let status = pod.get("status");
    let mut found = BTreeSet::new();
    let mut reported = BTreeSet::new();
    for key in [
        "initContainerStatuses",
        "containerStatuses",
        "ephemeralContainerStatuses",
    ] {
        for s in status
            .and_then(|st| st.get(key))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = s.get("name").and_then(Value::as_str).unwrap_or("");
            let id = s.get("imageID").and_then(Value::as_str).map(pinned);
            let image = s.get("image").and_then(Value::as_str);
            match (id.flatten(), image) {
                (Some(digest), _) => {
                    found.insert(digest);
                }
                (None, Some(image)) if !image.is_empty() => {
                    found.insert(image.to_string());
                }
                _ => continue,
            }
            reported.insert(name.to_string());
        }
    }
    let spec = pod.get("spec");
    for key in ["initContainers", "containers", "ephemeralContainers"] {
        for c in spec
            .and_then(|s| s.get(key))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("");
            if reported.contains(name) {
                continue;
            }
            if let Some(image) = c
                .get("image")
                .and_then(Value::as_str)
                .filter(|i| !i.is_empty())
            {
                found.insert(image.to_string());
            }
        }
    }
    found
}

/// `repo@sha256:...` from a status `imageID` (`docker-pullable://repo@sha256:...`,
/// `docker.io/library/nginx@sha256:...`); `None` for a bare local image id.
fn pinned(image_id: &str) -> Option<String> {
    let id = image_id
        .strip_prefix("docker-pullable://")
        .or_else(|| image_id.strip_prefix("docker://"))
        .unwrap_or(image_id);
    let (repo, digest) = id.split_once('@')?;
    (!repo.is_empty() && digest.starts_with("sha256:")).then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn running_images_prefer_the_reported_digest() {
        let pod = json!({
            "spec": {"containers": [
                {"name": "a", "image": "nginx:1.27"},
                {"name": "b", "image": "busybox:1.36"}
            ]},
            "status": {"containerStatuses": [
                {"name": "a", "image": "nginx:1.27", "imageID": "docker-pullable://nginx@sha256:aaaa"},
                {"name": "b", "image": "busybox:1.36", "imageID": "sha256:1234"}
            ]}
        });
        let images: Vec<_> = running_images(&pod).into_iter().collect();
        assert_eq!(images, ["busybox:1.36", "nginx@sha256:aaaa"]);
    }

    #[test]
    fn pods_of_a_controller_are_not_checked_and_name_the_deployment() {
        let mut scan = ClusterScan::new("cluster://test");
        let template = json!({"spec": {"containers": [{"name": "c", "image": "nginx", "securityContext": {"privileged": true}}]}});
        scan.object(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "prod", "uid": "d1"}, "spec": {"template": template}}));
        scan.object(json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web-5d", "namespace": "prod", "uid": "r1", "ownerReferences": [{"kind": "Deployment", "name": "web", "uid": "d1", "controller": true}]}, "spec": {"template": template}}));
        for i in 0..3 {
            scan.object(json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": format!("web-5d-{i}"), "namespace": "prod", "uid": format!("p{i}"), "ownerReferences": [{"kind": "ReplicaSet", "name": "web-5d", "uid": "r1", "controller": true}]}, "spec": template["spec"]}));
        }
        let out = scan.finish(&ClusterOptions::default());
        let privileged: Vec<_> = out
            .findings
            .iter()
            .filter(|f| f.message.contains("privileged"))
            .collect();
        assert_eq!(privileged.len(), 1, "{privileged:#?}");
        assert_eq!(
            privileged[0].location.resource.as_deref(),
            Some("Deployment/prod/web")
        );
        assert_eq!(privileged[0].location.path, "cluster://test");
        assert_eq!(out.owned_skipped, 4);
        assert_eq!(out.images.len(), 1);
        let workloads: Vec<_> = out.images[0]
            .workloads
            .iter()
            .map(Workload::resource)
            .collect();
        assert_eq!(workloads, ["Deployment/prod/web"]);
    }

    #[test]
    fn an_unpinned_image_is_one_finding_per_workload_not_a_manifest_and_a_cluster_one() {
        let mut scan = ClusterScan::new("cluster://test");
        let template = json!({"spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}});
        scan.object(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "prod", "uid": "d1"}, "spec": {"template": template}}));
        let out = scan.finish(&ClusterOptions::default());
        let unpinned: Vec<_> = out
            .findings
            .iter()
            .filter(|f| f.check_id == MANIFEST_NOT_PINNED || f.check_id == "BW-CLU-040")
            .map(|f| (f.check_id.as_str(), f.location.resource.as_deref()))
            .collect();
        assert_eq!(unpinned, [("BW-CLU-040", Some("Deployment/prod/web"))]);
    }
}
