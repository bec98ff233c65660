//! What the cluster-wide checks keep from each live object: only the fields they read (RBAC
//! rules and subjects, labels and selectors, ports, service accounts, image references, the few
//! container arguments and environment settings that turn authentication off), never the whole
//! object, so a cluster of 20,000 objects costs little more than one of 1,000.
//!
//! Pods owned by a controller collapse into one entry for that controller: a Pod owned by
//! ReplicaSet `web-7c9d5` whose `pod-template-hash` is `7c9d5` becomes `Deployment/ns/web`, a
//! ReplicaSet owned by a Deployment becomes that Deployment, a Job owned by a CronJob becomes the
//! CronJob (and the Job's pods follow it once the Job has been seen). The controller's own
//! object, when observed, replaces what its pods said.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

/// Labels as the API returns them; ordered so that equal label sets compare equal.
pub type Labels = BTreeMap<String, String>;

/// `kind/namespace/name` of a namespaced object, or `kind/name` of a cluster-scoped one, the
/// way findings name resources.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    pub fn new(kind: &str, namespace: Option<&str>, name: &str) -> ObjectRef {
        ObjectRef {
            kind: kind.to_string(),
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
        }
    }
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{}/{}", self.kind, ns, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// A Kubernetes label selector (`matchLabels` and `matchExpressions`); the empty selector
/// selects everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector {
    pub match_labels: Labels,
    pub expressions: Vec<Requirement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub key: String,
    pub operator: Operator,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
    /// An operator the API server would reject; it selects nothing rather than everything.
    Unknown,
}

impl Selector {
    /// Reads a `LabelSelector` object; `None` when the value is not an object.
    pub fn from_value(value: &Value) -> Option<Selector> {
        let obj = value.as_object()?;
        let match_labels = string_map(obj.get("matchLabels"));
        let expressions = obj
            .get("matchExpressions")
            .and_then(Value::as_array)
            .map(|exprs| {
                exprs
                    .iter()
                    .map(|e| Requirement {
                        key: str_at(e, "key").unwrap_or_default().to_string(),
                        operator: match str_at(e, "operator") {
                            Some("In") => Operator::In,
                            Some("NotIn") => Operator::NotIn,
                            Some("Exists") => Operator::Exists,
                            Some("DoesNotExist") => Operator::DoesNotExist,
                            _ => Operator::Unknown,
                        },
                        values: strings(e.get("values")),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(Selector {
            match_labels,
            expressions,
        })
    }

    /// A plain `key: value` map selector (a Service's `spec.selector`, Istio's
    /// `selector.matchLabels`).
    pub fn from_labels(labels: Labels) -> Selector {
        Selector {
            match_labels: labels,
            expressions: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.expressions.is_empty()
    }

    pub fn matches(&self, labels: &Labels) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.expressions.iter().all(|r| {
                let value = labels.get(&r.key);
                match r.operator {
                    Operator::In => value.is_some_and(|v| r.values.contains(v)),
                    Operator::NotIn => value.is_none_or(|v| !r.values.contains(v)),
                    Operator::Exists => value.is_some(),
                    Operator::DoesNotExist => value.is_none(),
                    Operator::Unknown => false,
                }
            })
    }
}

#[derive(Debug, Clone, Default)]
pub struct NamespaceFacts {
    pub labels: Labels,
    /// Only the annotations the checks read (`linkerd.io/inject`).
    pub linkerd_inject: Option<String>,
}

/// One RBAC rule, lists as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleFacts {
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
    pub verbs: Vec<String>,
    pub non_resource_urls: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RoleFacts {
    pub labels: Labels,
    pub rules: Vec<RuleFacts>,
    /// `aggregationRule.clusterRoleSelectors` (ClusterRoles only).
    pub aggregation: Vec<Selector>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    User(String),
    Group(String),
    ServiceAccount { namespace: String, name: String },
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::User(n) => write!(f, "User {n}"),
            Subject::Group(n) => write!(f, "Group {n}"),
            Subject::ServiceAccount { namespace, name } => {
                write!(f, "ServiceAccount {namespace}/{name}")
            }
        }
    }
}

impl Subject {
    /// How findings name the subject as a resource.
    pub fn resource(&self) -> String {
        match self {
            Subject::User(n) => format!("User/{n}"),
            Subject::Group(n) => format!("Group/{n}"),
            Subject::ServiceAccount { namespace, name } => {
                format!("ServiceAccount/{namespace}/{name}")
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct BindingFacts {
    /// `RoleBinding` (namespace set) or `ClusterRoleBinding`.
    pub binding: ObjectRef,
    /// `Role` or `ClusterRole`.
    pub role_kind: String,
    pub role_name: String,
    pub subjects: Vec<Subject>,
    /// Bootstrap policy (`kubernetes.io/bootstrapping: rbac-defaults`) or a `system:` or
    /// `kubeadm:` name: part of the control plane's own wiring.
    pub built_in: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ServiceAccountFacts {
    pub automount: Option<bool>,
}

/// A product the exposure checks recognise by image name, port or arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Product {
    KubernetesDashboard,
    ArgoCd,
    Grafana,
    Prometheus,
    Alertmanager,
    Kibana,
    Jupyter,
    DockerApi,
    Kubelet,
    Etcd,
}

impl Product {
    pub fn name(self) -> &'static str {
        match self {
            Product::KubernetesDashboard => "Kubernetes Dashboard",
            Product::ArgoCd => "Argo CD server",
            Product::Grafana => "Grafana",
            Product::Prometheus => "Prometheus",
            Product::Alertmanager => "Alertmanager",
            Product::Kibana => "Kibana",
            Product::Jupyter => "Jupyter",
            Product::DockerApi => "Docker API",
            Product::Kubelet => "kubelet API",
            Product::Etcd => "etcd",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerFacts {
    pub name: String,
    pub image: String,
    /// `(containerPort, hostPort)`.
    pub ports: Vec<(u16, Option<u16>)>,
    /// What the container runs, when recognised.
    pub product: Option<Product>,
    /// Settings found in its arguments or environment that switch authentication off
    /// (`--enable-skip-login`, `GF_AUTH_ANONYMOUS_ENABLED=true`), as written.
    pub unauthenticated: Vec<String>,
}

/// A workload: a controller (Deployment, StatefulSet, DaemonSet, Job, CronJob, ReplicaSet,
/// ReplicationController) or a Pod without one, with its pod template's facts.
#[derive(Debug, Clone, Default)]
pub struct WorkloadFacts {
    pub labels: Labels,
    pub service_account: String,
    /// `automountServiceAccountToken` of the pod spec.
    pub automount: Option<bool>,
    pub host_network: bool,
    pub containers: Vec<ContainerFacts>,
    /// Pod template annotations the mesh checks read.
    pub istio_inject: Option<String>,
    pub linkerd_inject: Option<String>,
    /// Whether this entry came from the controller's own object (not from one of its pods).
    pub from_controller: bool,
}

#[derive(Debug, Clone)]
pub struct ServicePort {
    pub port: u16,
    pub node_port: Option<u16>,
    /// The `targetPort` when numeric.
    pub target_port: Option<u16>,
}

#[derive(Debug, Clone)]
pub struct ServiceFacts {
    pub service_type: String,
    /// A LoadBalancer the cloud provider keeps on the private network (see
    /// [`internal_load_balancer`]).
    pub internal: bool,
    /// `None`: no selector (endpoints managed by hand); selects no workload.
    pub selector: Option<Selector>,
    pub ports: Vec<ServicePort>,
}

#[derive(Debug, Clone)]
pub struct IngressFacts {
    /// Services the rules and default backend route to (same namespace).
    pub services: BTreeSet<String>,
    pub tls: bool,
}

#[derive(Debug, Clone)]
pub struct ListenerFacts {
    pub name: String,
    pub protocol: String,
    pub port: u16,
    pub tls: bool,
}

#[derive(Debug, Clone)]
pub struct RouteFacts {
    /// `(namespace, service)` backends.
    pub services: BTreeSet<(String, String)>,
}

#[derive(Debug, Clone, Default)]
pub struct PolicyRule {
    /// No `from` / `to` peers: every source or destination.
    pub any_peer: bool,
    /// A peer `ipBlock` of `0.0.0.0/0` or `::/0` without exceptions.
    pub any_address: bool,
    pub ports_restricted: bool,
}

#[derive(Debug, Clone)]
pub struct NetworkPolicyFacts {
    pub pod_selector: Selector,
    /// `Some` when the policy isolates for ingress, with its rules.
    pub ingress: Option<Vec<PolicyRule>>,
    pub egress: Option<Vec<PolicyRule>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MtlsMode {
    Unset,
    Disable,
    Permissive,
    Strict,
}

impl MtlsMode {
    fn parse(mode: Option<&str>) -> MtlsMode {
        match mode {
            Some("STRICT") => MtlsMode::Strict,
            Some("PERMISSIVE") => MtlsMode::Permissive,
            Some("DISABLE") => MtlsMode::Disable,
            _ => MtlsMode::Unset,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MtlsMode::Unset => "UNSET",
            MtlsMode::Disable => "DISABLE",
            MtlsMode::Permissive => "PERMISSIVE",
            MtlsMode::Strict => "STRICT",
        }
    }
}

#[derive(Debug, Clone)]
pub struct PeerAuthenticationFacts {
    /// `None`: namespace-wide (mesh-wide in the Istio root namespace).
    pub selector: Option<Selector>,
    pub mode: MtlsMode,
    /// `portLevelMtls` modes that are not STRICT: `(port, mode)`.
    pub weaker_ports: Vec<(String, MtlsMode)>,
}

#[derive(Debug, Clone)]
pub struct AuthorizationPolicyFacts {
    pub selector: Option<Selector>,
    pub action: String,
    /// A rule `{}` (no from, to or when): with ALLOW, every request.
    pub allows_all: bool,
}

/// Everything the cluster-wide checks read, keyed by the object that said it.
#[derive(Debug, Default)]
pub struct ClusterFacts {
    pub namespaces: BTreeMap<String, NamespaceFacts>,
    /// Roles by `Role/ns/name` or `ClusterRole/name`.
    pub roles: HashMap<ObjectRef, RoleFacts>,
    pub bindings: Vec<BindingFacts>,
    pub service_accounts: HashMap<(String, String), ServiceAccountFacts>,
    /// Workloads by their controller (see the module doc).
    pub workloads: HashMap<ObjectRef, WorkloadFacts>,
    /// `Job → CronJob` ownership learnt from Job objects, to fold the Job's pods into the
    /// CronJob whatever the order of observation.
    pub parents: HashMap<ObjectRef, ObjectRef>,
    pub services: HashMap<ObjectRef, ServiceFacts>,
    pub ingresses: HashMap<ObjectRef, IngressFacts>,
    pub gateways: HashMap<ObjectRef, Vec<ListenerFacts>>,
    pub routes: HashMap<ObjectRef, RouteFacts>,
    pub network_policies: HashMap<ObjectRef, NetworkPolicyFacts>,
    pub peer_authentications: HashMap<ObjectRef, PeerAuthenticationFacts>,
    pub authorization_policies: HashMap<ObjectRef, AuthorizationPolicyFacts>,
    /// Istio's root namespace, where a PeerAuthentication without selector is mesh-wide;
    /// `istio-system` unless told otherwise.
    pub istio_root_namespace: Option<String>,
    /// Seen an Istio control plane (istiod) or an injection label.
    pub runs_istio: bool,
    /// Seen a Linkerd control plane (a `linkerd` namespace or its destination controller).
    pub runs_linkerd: bool,
    /// Objects observed, by kind, for the summary.
    pub observed: BTreeMap<String, usize>,
}

/// Workload kinds whose pod template sits at `spec.template` (CronJob: one level deeper).
const WORKLOAD_KINDS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
];

impl ClusterFacts {
    pub fn new() -> ClusterFacts {
        ClusterFacts::default()
    }

    /// Records what the cluster-wide checks need from one live object (any kind, as the API
    /// server returns it, `kind` and `apiVersion` set); keeps no reference to it. A `List`
    /// (as `kubectl get -A -o json` writes) is walked item by item.
    pub fn observe(&mut self, object: &Value) {
        let Some(kind) = str_at(object, "kind") else {
            return;
        };
        if kind == "List" || kind.ends_with("List") && object.get("items").is_some() {
            for item in object
                .get("items")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                self.observe(item);
            }
            return;
        }
        *self.observed.entry(kind.to_string()).or_default() += 1;
        let meta = object.get("metadata").unwrap_or(&Value::Null);
        let name = str_at(meta, "name").unwrap_or_default();
        let namespace = str_at(meta, "namespace");
        let spec = object.get("spec").unwrap_or(&Value::Null);
        let here = |kind: &str| ObjectRef::new(kind, namespace, name);
        match kind {
            "Namespace" => {
                let labels = string_map(meta.get("labels"));
                if labels.contains_key("istio-injection") || labels.contains_key("istio.io/rev") {
                    self.runs_istio = true;
                }
                if name == "linkerd" {
                    self.runs_linkerd = true;
                }
                self.namespaces.insert(
                    name.to_string(),
                    NamespaceFacts {
                        labels,
                        linkerd_inject: annotation(meta, "linkerd.io/inject"),
                    },
                );
            }
            "Role" | "ClusterRole" => {
                let aggregation = object
                    .pointer("/aggregationRule/clusterRoleSelectors")
                    .and_then(Value::as_array)
                    .map(|s| s.iter().filter_map(Selector::from_value).collect())
                    .unwrap_or_default();
                let rules = object
                    .get("rules")
                    .and_then(Value::as_array)
                    .map(|rules| rules.iter().map(rule).collect())
                    .unwrap_or_default();
                let key = if kind == "Role" {
                    here(kind)
                } else {
                    ObjectRef::new(kind, None, name)
                };
                self.roles.insert(
                    key,
                    RoleFacts {
                        labels: string_map(meta.get("labels")),
                        rules,
                        aggregation,
                    },
                );
            }
            "RoleBinding" | "ClusterRoleBinding" => {
                let subjects = object
                    .get("subjects")
                    .and_then(Value::as_array)
                    .map(|s| s.iter().filter_map(|s| subject(s, namespace)).collect())
                    .unwrap_or_default();
                let labels = string_map(meta.get("labels"));
                let binding = if kind == "RoleBinding" {
                    here(kind)
                } else {
                    ObjectRef::new(kind, None, name)
                };
                self.bindings.push(BindingFacts {
                    binding,
                    role_kind: object
                        .pointer("/roleRef/kind")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    role_name: object
                        .pointer("/roleRef/name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    subjects,
                    built_in: name.starts_with("system:")
                        || name.starts_with("kubeadm:")
                        || labels
                            .get("kubernetes.io/bootstrapping")
                            .map(String::as_str)
                            == Some("rbac-defaults"),
                });
            }
            "ServiceAccount" => {
                self.service_accounts.insert(
                    (namespace.unwrap_or("default").to_string(), name.to_string()),
                    ServiceAccountFacts {
                        automount: object
                            .get("automountServiceAccountToken")
                            .and_then(Value::as_bool),
                    },
                );
            }
            "Pod" => {
                let key = pod_controller(meta, namespace).unwrap_or_else(|| here("Pod"));
                if !self.workloads.contains_key(&key) {
                    let facts = pod_template(meta, spec, false);
                    self.note_control_plane(&facts);
                    self.workloads.insert(key, facts);
                }
            }
            k if WORKLOAD_KINDS.contains(&k) => {
                let owner = controller_owner(meta);
                // A ReplicaSet of a Deployment is that Deployment; a Job of a CronJob is the
                // CronJob (and its pods, already filed under the Job, are folded at check time).
                let key = match (k, owner) {
                    ("ReplicaSet", Some(("Deployment", owner))) => {
                        ObjectRef::new("Deployment", namespace, owner)
                    }
                    ("Job", Some(("CronJob", owner))) => {
                        let parent = ObjectRef::new("CronJob", namespace, owner);
                        self.parents.insert(here("Job"), parent.clone());
                        parent
                    }
                    _ => here(k),
                };
                let template = if k == "CronJob" {
                    spec.pointer("/jobTemplate/spec/template")
                } else {
                    spec.get("template")
                }
                .unwrap_or(&Value::Null);
                let facts = pod_template(
                    template.get("metadata").unwrap_or(&Value::Null),
                    template.get("spec").unwrap_or(&Value::Null),
                    true,
                );
                let keep_existing = self
                    .workloads
                    .get(&key)
                    .is_some_and(|w| w.from_controller && (k == "ReplicaSet" || k == "Job"));
                if !keep_existing {
                    self.note_control_plane(&facts);
                    self.workloads.insert(key, facts);
                }
            }
            "Service" => {
                let selector = spec
                    .get("selector")
                    .filter(|s| s.as_object().is_some_and(|m| !m.is_empty()))
                    .map(|s| Selector::from_labels(string_map(Some(s))));
                let ports = spec
                    .get("ports")
                    .and_then(Value::as_array)
                    .map(|ports| {
                        ports
                            .iter()
                            .map(|p| ServicePort {
                                port: port_at(p, "port").unwrap_or(0),
                                node_port: port_at(p, "nodePort"),
                                target_port: port_at(p, "targetPort"),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                self.services.insert(
                    here(kind),
                    ServiceFacts {
                        service_type: str_at(spec, "type").unwrap_or("ClusterIP").to_string(),
                        internal: internal_load_balancer(meta),
                        selector,
                        ports,
                    },
                );
            }
            "Ingress" => {
                let mut services = BTreeSet::new();
                for backend in [
                    spec.pointer("/defaultBackend/service/name"),
                    spec.pointer("/backend/serviceName"),
                ]
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                {
                    services.insert(backend.to_string());
                }
                for rule in spec
                    .get("rules")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    for path in rule
                        .pointer("/http/paths")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        if let Some(s) = path
                            .pointer("/backend/service/name")
                            .or_else(|| path.pointer("/backend/serviceName"))
                            .and_then(Value::as_str)
                        {
                            services.insert(s.to_string());
                        }
                    }
                }
                let tls = spec
                    .get("tls")
                    .and_then(Value::as_array)
                    .is_some_and(|t| !t.is_empty());
                self.ingresses
                    .insert(here(kind), IngressFacts { services, tls });
            }
            "Gateway" if api_group(object) == "gateway.networking.k8s.io" => {
                let listeners = spec
                    .get("listeners")
                    .and_then(Value::as_array)
                    .map(|ls| {
                        ls.iter()
                            .map(|l| ListenerFacts {
                                name: str_at(l, "name").unwrap_or_default().to_string(),
                                protocol: str_at(l, "protocol").unwrap_or_default().to_string(),
                                port: port_at(l, "port").unwrap_or(0),
                                tls: l.get("tls").is_some_and(|t| !t.is_null()),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                self.gateways.insert(here(kind), listeners);
            }
            "HTTPRoute" | "GRPCRoute" | "TLSRoute" | "TCPRoute" | "UDPRoute" => {
                let mut services = BTreeSet::new();
                for rule in spec
                    .get("rules")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    for backend in rule
                        .get("backendRefs")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let is_service = str_at(backend, "kind").is_none_or(|k| k == "Service")
                            && str_at(backend, "group").is_none_or(str::is_empty);
                        if let (true, Some(svc)) = (is_service, str_at(backend, "name")) {
                            let ns = str_at(backend, "namespace")
                                .or(namespace)
                                .unwrap_or("default");
                            services.insert((ns.to_string(), svc.to_string()));
                        }
                    }
                }
                self.routes.insert(here(kind), RouteFacts { services });
            }
            "NetworkPolicy" if api_group(object) == "networking.k8s.io" => {
                let types = strings(spec.get("policyTypes"));
                let has_egress_rules = spec.get("egress").is_some();
                // Without policyTypes, a policy always isolates ingress, and egress only when it
                // has egress rules.
                let isolates = |t: &str| {
                    if types.is_empty() {
                        t == "Ingress" || has_egress_rules
                    } else {
                        types.iter().any(|x| x == t)
                    }
                };
                let rules = |key: &str, peers: &str| {
                    spec.get(key)
                        .and_then(Value::as_array)
                        .map(|rs| rs.iter().map(|r| policy_rule(r, peers)).collect())
                        .unwrap_or_default()
                };
                self.network_policies.insert(
                    here(kind),
                    NetworkPolicyFacts {
                        pod_selector: spec
                            .get("podSelector")
                            .and_then(Selector::from_value)
                            .unwrap_or_default(),
                        ingress: isolates("Ingress").then(|| rules("ingress", "from")),
                        egress: isolates("Egress").then(|| rules("egress", "to")),
                    },
                );
            }
            "PeerAuthentication" if api_group(object) == "security.istio.io" => {
                let weaker_ports = spec
                    .get("portLevelMtls")
                    .and_then(Value::as_object)
                    .map(|m| {
                        m.iter()
                            .map(|(port, v)| (port.clone(), MtlsMode::parse(str_at(v, "mode"))))
                            .filter(|(_, mode)| *mode != MtlsMode::Strict)
                            .collect()
                    })
                    .unwrap_or_default();
                self.runs_istio = true;
                self.peer_authentications.insert(
                    here(kind),
                    PeerAuthenticationFacts {
                        selector: istio_selector(spec),
                        mode: MtlsMode::parse(spec.pointer("/mtls/mode").and_then(Value::as_str)),
                        weaker_ports,
                    },
                );
            }
            "AuthorizationPolicy" if api_group(object) == "security.istio.io" => {
                let allows_all = spec
                    .get("rules")
                    .and_then(Value::as_array)
                    .is_some_and(|rs| {
                        rs.iter().any(|r| {
                            ["from", "to", "when"].iter().all(|k| {
                                r.get(*k)
                                    .and_then(Value::as_array)
                                    .is_none_or(|a| a.is_empty())
                            })
                        })
                    });
                self.authorization_policies.insert(
                    here(kind),
                    AuthorizationPolicyFacts {
                        selector: istio_selector(spec),
                        action: str_at(spec, "action").unwrap_or("ALLOW").to_string(),
                        allows_all,
                    },
                );
            }
            _ => {}
        }
    }

    /// The mesh control planes, recognised from what runs.
    fn note_control_plane(&mut self, facts: &WorkloadFacts) {
        for c in &facts.containers {
            let repo = image_repository(&c.image);
            if repo.ends_with("/pilot") || repo.ends_with("istio/pilot") {
                self.runs_istio = true;
            }
            if repo.contains("linkerd") && repo.ends_with("/controller") {
                self.runs_linkerd = true;
            }
        }
    }

    /// Folds Jobs owned by a CronJob into it (their pods may have been filed under the Job
    /// before the Job was seen), and returns the workloads to report, sorted.
    pub fn workloads(&self) -> Vec<(&ObjectRef, &WorkloadFacts)> {
        let mut out: Vec<_> = self
            .workloads
            .iter()
            .filter(|(key, _)| {
                !self
                    .parents
                    .get(*key)
                    .is_some_and(|p| self.workloads.contains_key(p))
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(b.0));
        out
    }
}

/// Whether a Service's annotations ask the cloud provider for an internal load balancer: AWS
/// (`aws-load-balancer-internal: "true"`, `aws-load-balancer-scheme: internal`), Azure and OCI
/// (`*-load-balancer-internal: "true"`), GKE (`*load-balancer-type: Internal`).
fn internal_load_balancer(meta: &Value) -> bool {
    let Some(annotations) = meta.get("annotations").and_then(Value::as_object) else {
        return false;
    };
    annotations.iter().any(|(key, value)| {
        let value = value.as_str().unwrap_or_default();
        (key.ends_with("load-balancer-internal")
            && (value.eq_ignore_ascii_case("true") || value == "0.0.0.0/0"))
            || (key.ends_with("load-balancer-type") && value.eq_ignore_ascii_case("internal"))
            || (key.ends_with("aws-load-balancer-scheme") && value.eq_ignore_ascii_case("internal"))
    })
}

/// The controller owner `(kind, name)` of an object.
fn controller_owner(meta: &Value) -> Option<(&str, &str)> {
    meta.get("ownerReferences")?
        .as_array()?
        .iter()
        .find(|o| o.get("controller").and_then(Value::as_bool) == Some(true))
        .and_then(|o| Some((str_at(o, "kind")?, str_at(o, "name")?)))
}

/// The workload a Pod belongs to: its controller, or the Deployment behind its ReplicaSet
/// (recognised by the `pod-template-hash` suffix the Deployment controller gives it).
fn pod_controller(meta: &Value, namespace: Option<&str>) -> Option<ObjectRef> {
    let (kind, name) = controller_owner(meta)?;
    // Static (mirror) pods are "owned" by their Node: each is a workload of its own.
    if kind == "Node" {
        return None;
    }
    if kind == "ReplicaSet" {
        let labels = meta.get("labels");
        if let Some(hash) = labels
            .and_then(|l| l.get("pod-template-hash"))
            .and_then(Value::as_str)
        {
            if let Some(deployment) = name.strip_suffix(hash).and_then(|n| n.strip_suffix('-')) {
                return Some(ObjectRef::new("Deployment", namespace, deployment));
            }
        }
    }
    Some(ObjectRef::new(kind, namespace, name))
}

fn pod_template(meta: &Value, spec: &Value, from_controller: bool) -> WorkloadFacts {
    let mut labels = string_map(meta.get("labels"));
    // Per-pod labels the controllers add; keeping them would split one workload's label set.
    labels.remove("pod-template-hash");
    labels.remove("controller-revision-hash");
    labels.remove("statefulset.kubernetes.io/pod-name");
    labels.remove("apps.kubernetes.io/pod-index");
    let containers = ["initContainers", "containers"]
        .iter()
        .flat_map(|k| spec.get(*k).and_then(Value::as_array).into_iter().flatten())
        .map(container)
        .collect();
    WorkloadFacts {
        labels,
        service_account: str_at(spec, "serviceAccountName")
            .or_else(|| str_at(spec, "serviceAccount"))
            .unwrap_or("default")
            .to_string(),
        automount: spec
            .get("automountServiceAccountToken")
            .and_then(Value::as_bool),
        host_network: spec.get("hostNetwork").and_then(Value::as_bool) == Some(true),
        containers,
        istio_inject: annotation(meta, "sidecar.istio.io/inject").or_else(|| {
            meta.pointer("/labels/sidecar.istio.io~1inject")
                .and_then(Value::as_str)
                .map(str::to_string)
        }),
        linkerd_inject: annotation(meta, "linkerd.io/inject"),
        from_controller,
    }
}

/// Arguments that turn authentication off, by product: `(product, flag prefix, what it means)`.
/// A flag matches as `--flag`, `--flag=true` or `--flag true`; `=false` does not match.
const UNAUTHENTICATED_FLAGS: &[(Product, &str)] = &[
    (Product::KubernetesDashboard, "--enable-skip-login"),
    (
        Product::KubernetesDashboard,
        "--disable-settings-authorizer",
    ),
    (Product::KubernetesDashboard, "--enable-insecure-login"),
    (Product::ArgoCd, "--insecure"),
    (Product::ArgoCd, "--disable-auth"),
    (Product::Kibana, "--xpack.security.enabled=false"),
    (Product::Kubelet, "--anonymous-auth"),
    (Product::Kubelet, "--read-only-port"),
    (Product::Etcd, "--client-cert-auth=false"),
    (Product::Kubelet, "--authorization-mode=AlwaysAllow"),
    (Product::Prometheus, "--web.enable-admin-api"),
];

fn container(c: &Value) -> ContainerFacts {
    let image = str_at(c, "image").unwrap_or_default().to_string();
    let ports: Vec<(u16, Option<u16>)> = c
        .get("ports")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter_map(|p| Some((port_at(p, "containerPort")?, port_at(p, "hostPort"))))
                .collect()
        })
        .unwrap_or_default();
    let args: Vec<&str> = ["command", "args"]
        .iter()
        .flat_map(|k| c.get(*k).and_then(Value::as_array).into_iter().flatten())
        .filter_map(Value::as_str)
        .flat_map(|a| a.split_whitespace())
        .collect();
    let product = recognise(&image, &args, &ports);
    let mut unauthenticated = Vec::new();
    if let Some(product) = product {
        for (i, arg) in args.iter().enumerate() {
            for (p, flag) in UNAUTHENTICATED_FLAGS {
                if *p != product {
                    continue;
                }
                let on = match arg.strip_prefix(flag) {
                    // `--flag=false` given as part of the listed flag (kibana, etcd) is exact.
                    Some("") if flag.contains('=') => true,
                    Some("") => args
                        .get(i + 1)
                        .is_none_or(|next| next.starts_with("--") || *next == "true"),
                    Some(v) if !flag.contains('=') && v.starts_with('=') => {
                        let v = &v[1..];
                        // `--read-only-port=0` is the off switch; any other port serves.
                        if *flag == "--read-only-port" {
                            v != "0"
                        } else {
                            v != "false"
                        }
                    }
                    _ => false,
                };
                if on {
                    unauthenticated.push(arg.to_string());
                }
            }
            if product == Product::Jupyter {
                for flag in [
                    "--NotebookApp.token=",
                    "--ServerApp.token=",
                    "--IdentityProvider.token=",
                ] {
                    if let Some(v) = arg.strip_prefix(flag) {
                        if v.is_empty() || v == "''" || v == "\"\"" {
                            unauthenticated.push(arg.to_string());
                        }
                    }
                }
            }
        }
        for env in c.get("env").and_then(Value::as_array).into_iter().flatten() {
            let (Some(name), value) = (str_at(env, "name"), str_at(env, "value")) else {
                continue;
            };
            let value = value.unwrap_or_default();
            let off = match (product, name) {
                (Product::Grafana, "GF_AUTH_ANONYMOUS_ENABLED") => {
                    value.eq_ignore_ascii_case("true")
                }
                (Product::Grafana, "GF_AUTH_DISABLE_LOGIN_FORM") => {
                    value.eq_ignore_ascii_case("true")
                }
                (Product::Jupyter, "JUPYTER_TOKEN") => value.is_empty(),
                (Product::Kibana, "XPACK_SECURITY_ENABLED") => value.eq_ignore_ascii_case("false"),
                (Product::DockerApi, "DOCKER_TLS_CERTDIR") => value.is_empty(),
                _ => false,
            };
            if off {
                unauthenticated.push(format!("{name}={value}"));
            }
        }
        // The Docker API on 2375 is plain HTTP with no authentication at all.
        if product == Product::DockerApi && ports.iter().any(|(p, _)| *p == 2375) {
            unauthenticated.push("port 2375 (plain-text Docker API)".to_string());
        }
        if product == Product::DockerApi
            && args
                .iter()
                .any(|a| a.contains("tcp://") && a.contains(":2375"))
            && !args.iter().any(|a| a.starts_with("--tlsverify"))
        {
            unauthenticated.push("-H tcp://…:2375 without --tlsverify".to_string());
        }
        if product == Product::Kubelet && ports.iter().any(|(p, _)| *p == 10255) {
            unauthenticated.push("port 10255 (kubelet read-only API)".to_string());
        }
        let has = |flag: &str| {
            args.iter()
                .any(|a| *a == flag || a.strip_prefix(flag).is_some_and(|v| v.starts_with('=')))
        };
        // etcd accepts clients without certificates unless told otherwise.
        if product == Product::Etcd
            && args.iter().any(|a| a.ends_with("etcd"))
            && !args
                .iter()
                .any(|a| *a == "--client-cert-auth" || *a == "--client-cert-auth=true")
        {
            unauthenticated.push("no --client-cert-auth (clients need no certificate)".to_string());
        }
        // Dashboard v2 serves plain HTTP, login tokens included, without a certificate.
        if product == Product::KubernetesDashboard
            && image_repository(&image).ends_with("/dashboard")
            && !has("--auto-generate-certificates")
            && !has("--tls-cert-file")
        {
            unauthenticated.push(
                "no --auto-generate-certificates or --tls-cert-file (plain HTTP)".to_string(),
            );
        }
        // The admin API (delete series, snapshots) is only protected by a web config with basic
        // auth or TLS client certificates. (`--web.enable-lifecycle` is left alone: the operator
        // and the Helm charts turn it on for their config reloaders.)
        if product == Product::Prometheus && has("--web.config.file") {
            unauthenticated.retain(|a| !a.starts_with("--web.enable-"));
        }
    }
    unauthenticated.sort();
    unauthenticated.dedup();
    ContainerFacts {
        name: str_at(c, "name").unwrap_or_default().to_string(),
        image,
        ports,
        product,
        unauthenticated,
    }
}

/// What a container runs, from its image repository, then its well-known ports.
fn recognise(image: &str, args: &[&str], ports: &[(u16, Option<u16>)]) -> Option<Product> {
    let repo = image_repository(image);
    let last = repo.rsplit('/').next().unwrap_or(&repo);
    let by_image = match last {
        "dashboard" | "dashboard-api" | "dashboard-web" if repo.contains("/kubernetesui/") => {
            Some(Product::KubernetesDashboard)
        }
        l if l.starts_with("kubernetes-dashboard") => Some(Product::KubernetesDashboard),
        "kubelet" | "hyperkube" => Some(Product::Kubelet),
        "argocd" if args.iter().any(|a| a.ends_with("argocd-server")) => Some(Product::ArgoCd),
        "grafana" | "grafana-oss" | "grafana-enterprise" => Some(Product::Grafana),
        "prometheus" => Some(Product::Prometheus),
        "alertmanager" => Some(Product::Alertmanager),
        "kibana" | "kibana-oss" => Some(Product::Kibana),
        "etcd" => Some(Product::Etcd),
        "docker" if repo.contains("docker") && image.contains("dind") => Some(Product::DockerApi),
        l if l.ends_with("-notebook") || l == "jupyterhub" || l == "minimal-notebook" => {
            Some(Product::Jupyter)
        }
        _ => None,
    };
    let docker_daemon = || {
        args.iter()
            .any(|a| a.starts_with("tcp://") && a.ends_with(":2375"))
            .then_some(Product::DockerApi)
    };
    by_image.or_else(docker_daemon).or_else(|| {
        ports.iter().find_map(|(p, _)| match p {
            2375 | 2376 => Some(Product::DockerApi),
            // 10250 is also the default port of metrics-server; only the read-only port is the
            // kubelet's alone.
            10255 => Some(Product::Kubelet),
            2379 => Some(Product::Etcd),
            8888 if args.iter().any(|a| a.contains("jupyter")) => Some(Product::Jupyter),
            _ => None,
        })
    })
}

/// The repository of an image reference, normalised the way Docker does it: the registry
/// (`docker.io` when the first component is not a host), then the path (`library/` added to
/// single-component Docker Hub names); no tag, no digest.
pub fn image_repository(image: &str) -> String {
    let name = image.split('@').next().unwrap_or(image);
    // A ':' after the last '/' is a tag; one before it belongs to a registry port.
    let name = match name.rfind(':') {
        Some(i) if !name[i..].contains('/') => &name[..i],
        _ => name,
    };
    let (first, rest) = match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (first, rest.to_string())
        }
        _ => ("docker.io", name.to_string()),
    };
    let first = if first == "index.docker.io" {
        "docker.io"
    } else {
        first
    };
    let rest = if first == "docker.io" && !rest.contains('/') {
        format!("library/{rest}")
    } else {
        rest
    };
    format!("{first}/{rest}").to_ascii_lowercase()
}

fn rule(r: &Value) -> RuleFacts {
    RuleFacts {
        api_groups: strings(r.get("apiGroups")),
        resources: strings(r.get("resources")),
        resource_names: strings(r.get("resourceNames")),
        verbs: strings(r.get("verbs")),
        non_resource_urls: strings(r.get("nonResourceURLs")),
    }
}

fn subject(s: &Value, binding_namespace: Option<&str>) -> Option<Subject> {
    let name = str_at(s, "name")?.to_string();
    Some(match str_at(s, "kind")? {
        "User" => Subject::User(name),
        "Group" => Subject::Group(name),
        "ServiceAccount" => Subject::ServiceAccount {
            namespace: str_at(s, "namespace")
                .or(binding_namespace)
                .unwrap_or("default")
                .to_string(),
            name,
        },
        _ => return None,
    })
}

fn policy_rule(r: &Value, peers_key: &str) -> PolicyRule {
    let peers = r.get(peers_key).and_then(Value::as_array);
    let any_peer = peers.is_none_or(|p| p.is_empty());
    let any_address = peers.into_iter().flatten().any(|p| {
        matches!(
            p.pointer("/ipBlock/cidr").and_then(Value::as_str),
            Some("0.0.0.0/0" | "::/0")
        ) && p
            .pointer("/ipBlock/except")
            .and_then(Value::as_array)
            .is_none_or(|e| e.is_empty())
    });
    PolicyRule {
        any_peer,
        any_address,
        ports_restricted: r
            .get("ports")
            .and_then(Value::as_array)
            .is_some_and(|p| !p.is_empty()),
    }
}

fn istio_selector(spec: &Value) -> Option<Selector> {
    spec.pointer("/selector/matchLabels")
        .map(|m| Selector::from_labels(string_map(Some(m))))
        .filter(|s| !s.is_empty())
}

fn api_group(object: &Value) -> &str {
    str_at(object, "apiVersion")
        .and_then(|v| v.rsplit_once('/'))
        .map(|(g, _)| g)
        .unwrap_or("")
}

fn annotation(meta: &Value, key: &str) -> Option<String> {
    meta.get("annotations")?
        .get(key)?
        .as_str()
        .map(str::to_string)
}

fn port_at(v: &Value, key: &str) -> Option<u16> {
    v.get(key)?.as_u64().and_then(|p| u16::try_from(p).ok())
}

pub(crate) fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key)?.as_str()
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn string_map(v: Option<&Value>) -> Labels {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_repositories_are_normalised() {
        assert_eq!(image_repository("nginx"), "docker.io/library/nginx");
        assert_eq!(image_repository("nginx:1.25"), "docker.io/library/nginx");
        assert_eq!(
            image_repository("grafana/grafana:10"),
            "docker.io/grafana/grafana"
        );
        assert_eq!(
            image_repository("registry.local:5000/team/app@sha256:ab"),
            "registry.local:5000/team/app"
        );
        assert_eq!(
            image_repository("quay.io/argoproj/argocd:v2.9"),
            "quay.io/argoproj/argocd"
        );
    }

    #[test]
    fn selectors_follow_the_api_semantics() {
        let s = Selector::from_value(&serde_json::json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["front", "edge"]},
                {"key": "legacy", "operator": "DoesNotExist"}
            ]
        }))
        .unwrap();
        let labels = |pairs: &[(&str, &str)]| -> Labels {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert!(s.matches(&labels(&[("app", "web"), ("tier", "edge")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("tier", "back")])));
        assert!(!s.matches(&labels(&[
            ("app", "web"),
            ("tier", "edge"),
            ("legacy", "y")
        ])));
        assert!(Selector::default().matches(&labels(&[])));
    }

    fn pod(
        name: &str,
        owner: Option<(&str, &str)>,
        labels: serde_json::Value,
    ) -> serde_json::Value {
        let mut meta = serde_json::json!({"name": name, "namespace": "ns", "labels": labels});
        if let Some((kind, owner)) = owner {
            meta["ownerReferences"] =
                serde_json::json!([{"kind": kind, "name": owner, "controller": true}]);
        }
        serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta,
                           "spec": {"containers": [{"name": "c", "image": "x:1"}]}})
    }

    #[test]
    fn pods_collapse_into_their_controllers() {
        let mut facts = ClusterFacts::new();
        for i in 0..3 {
            facts.observe(&pod(
                &format!("web-6b7f-{i}"),
                Some(("ReplicaSet", "web-6b7f")),
                serde_json::json!({"app": "web", "pod-template-hash": "6b7f"}),
            ));
            facts.observe(&pod(
                &format!("db-{i}"),
                Some(("StatefulSet", "db")),
                serde_json::json!({"app": "db", "statefulset.kubernetes.io/pod-name": format!("db-{i}")}),
            ));
            // Static pods name their Node as owner: each stays its own workload.
            facts.observe(&pod(
                &format!("etcd-node{i}"),
                Some(("Node", "node")),
                serde_json::json!({"component": "etcd"}),
            ));
        }
        let keys: Vec<String> = facts
            .workloads()
            .iter()
            .map(|(k, _)| k.to_string())
            .collect();
        assert_eq!(
            keys,
            [
                "Deployment/ns/web",
                "Pod/ns/etcd-node0",
                "Pod/ns/etcd-node1",
                "Pod/ns/etcd-node2",
                "StatefulSet/ns/db"
            ]
        );
        // Per-pod labels are dropped so the controller has one label set.
        let db = &facts.workloads[&ObjectRef::new("StatefulSet", Some("ns"), "db")];
        assert_eq!(db.labels.len(), 1);
    }

    #[test]
    fn a_cronjob_absorbs_its_jobs_pods_in_any_order() {
        let cron = serde_json::json!({"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "nightly", "namespace": "ns"},
            "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x:1"}]}}}}}});
        let job = serde_json::json!({"apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "nightly-1", "namespace": "ns",
                         "ownerReferences": [{"kind": "CronJob", "name": "nightly", "controller": true}]},
            "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "x:1"}]}}}});
        let pod = pod(
            "nightly-1-abc",
            Some(("Job", "nightly-1")),
            serde_json::json!({}),
        );
        for order in [
            [&pod, &job, &cron],
            [&cron, &job, &pod],
            [&job, &pod, &cron],
        ] {
            let mut facts = ClusterFacts::new();
            for o in order {
                facts.observe(o);
            }
            let keys: Vec<String> = facts
                .workloads()
                .iter()
                .map(|(k, _)| k.to_string())
                .collect();
            assert_eq!(keys, ["CronJob/ns/nightly"]);
        }
    }
}
