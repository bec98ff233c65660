//! Where the objects of a cluster come from: a live API server ([`live`]) or a
//! `kubectl get -A -o json` dump ([`dump`]). Both hand every object, one at a time and in the
//! same order of kinds ([`KINDS`]), to a [`Consumer`]; neither keeps a whole kind in memory.

pub mod dump;
pub mod live;

use serde_json::Value;

/// Receives the objects of a cluster one at a time, and the warnings about what could not be
/// read (a kind the identity may not list, a list restarted after its token expired).
pub trait Consumer {
    /// One object as the API server returns it, with `kind` and `apiVersion` set.
    fn object(&mut self, object: Value);
    fn warning(&mut self, message: String);
}

/// Whether a kind is scoped to a namespace or to the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Namespaced,
    Cluster,
}

/// One kind bulwark reads from a cluster.
#[derive(Debug, Clone, Copy)]
pub struct KindSpec {
    /// The API group (`""` for the core group).
    pub group: &'static str,
    pub kind: &'static str,
    /// The plural resource name, as `kubectl get` and RBAC rules name it.
    pub plural: &'static str,
    pub scope: Scope,
    /// Served only when a product is installed (Gateway API, Istio): skipped quietly when the
    /// API server does not serve it.
    pub optional: bool,
}

const fn kind(
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    scope: Scope,
    optional: bool,
) -> KindSpec {
    KindSpec {
        group,
        kind,
        plural,
        scope,
        optional,
    }
}

/// Every kind read, in the order they are handed over. ServiceAccounts come before the
/// workloads (a pod's token mount depends on its account), and workloads last, controllers
/// before what they own.
pub const KINDS: &[KindSpec] = &[
    kind("", "Namespace", "namespaces", Scope::Cluster, false),
    kind(
        "",
        "ServiceAccount",
        "serviceaccounts",
        Scope::Namespaced,
        false,
    ),
    kind("", "Secret", "secrets", Scope::Namespaced, false),
    kind(
        "rbac.authorization.k8s.io",
        "ClusterRole",
        "clusterroles",
        Scope::Cluster,
        false,
    ),
    kind(
        "rbac.authorization.k8s.io",
        "ClusterRoleBinding",
        "clusterrolebindings",
        Scope::Cluster,
        false,
    ),
    kind(
        "rbac.authorization.k8s.io",
        "Role",
        "roles",
        Scope::Namespaced,
        false,
    ),
    kind(
        "rbac.authorization.k8s.io",
        "RoleBinding",
        "rolebindings",
        Scope::Namespaced,
        false,
    ),
    kind("", "Service", "services", Scope::Namespaced, false),
    kind(
        "networking.k8s.io",
        "Ingress",
        "ingresses",
        Scope::Namespaced,
        false,
    ),
    kind(
        "networking.k8s.io",
        "NetworkPolicy",
        "networkpolicies",
        Scope::Namespaced,
        false,
    ),
    kind(
        "gateway.networking.k8s.io",
        "Gateway",
        "gateways",
        Scope::Namespaced,
        true,
    ),
    kind(
        "gateway.networking.k8s.io",
        "HTTPRoute",
        "httproutes",
        Scope::Namespaced,
        true,
    ),
    kind(
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        Scope::Cluster,
        false,
    ),
    kind(
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        Scope::Cluster,
        false,
    ),
    kind(
        "security.istio.io",
        "PeerAuthentication",
        "peerauthentications",
        Scope::Namespaced,
        true,
    ),
    kind(
        "security.istio.io",
        "AuthorizationPolicy",
        "authorizationpolicies",
        Scope::Namespaced,
        true,
    ),
    kind(
        "apps",
        "Deployment",
        "deployments",
        Scope::Namespaced,
        false,
    ),
    kind(
        "apps",
        "StatefulSet",
        "statefulsets",
        Scope::Namespaced,
        false,
    ),
    kind("apps", "DaemonSet", "daemonsets", Scope::Namespaced, false),
    kind("batch", "CronJob", "cronjobs", Scope::Namespaced, false),
    kind(
        "apps",
        "ReplicaSet",
        "replicasets",
        Scope::Namespaced,
        false,
    ),
    kind("batch", "Job", "jobs", Scope::Namespaced, false),
    kind("", "Pod", "pods", Scope::Namespaced, false),
];

/// The position of a kind in [`KINDS`] (`None`: a kind bulwark does not read).
pub fn kind_rank(api_version: &str, kind: &str) -> Option<usize> {
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    KINDS
        .iter()
        .position(|k| k.kind == kind && k.group == group)
}

/// Which objects a read hands over.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Namespaces to read (empty: all). Cluster-scoped kinds are always read; of the
    /// Namespace objects, only these.
    pub namespaces: Vec<String>,
    /// Read Secrets with their values (`--scanners secret`); otherwise only their metadata
    /// crosses the wire.
    pub secret_values: bool,
}

impl Selection {
    /// Whether an object of `kind` in `namespace` is wanted.
    pub fn wants(&self, kind: &str, namespace: Option<&str>, name: &str) -> bool {
        if self.namespaces.is_empty() {
            return true;
        }
        match (kind, namespace) {
            ("Namespace", _) => self.namespaces.iter().any(|n| n == name),
            (_, Some(ns)) => self.namespaces.iter().any(|n| n == ns),
            (_, None) => true,
        }
    }
}

/// Drops the values of a Secret read whole (a dump, or a server that ignored the
/// metadata-only request), so they reach no check and no report.
pub(crate) fn strip_secret_values(object: &mut Value) {
    if let Some(map) = object.as_object_mut() {
        for key in ["data", "stringData"] {
            map.remove(key);
        }
        // `kubectl apply` keeps the whole applied object, values included, in this annotation.
        if let Some(annotations) = map
            .get_mut("metadata")
            .and_then(|m| m.get_mut("annotations"))
            .and_then(Value::as_object_mut)
        {
            annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
        }
    }
}

/// Why a cluster could not be read at all (a kind that cannot be read is a warning instead).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read the dump {path}: {source}")]
    DumpRead {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: not the JSON of `kubectl get -A -o json` ({message}); write the dump with `kubectl get <kinds> -A -o json > FILE`")]
    DumpParse {
        path: String,
        line: usize,
        message: String,
    },
    #[error("cannot read the kubeconfig {path}: {message}")]
    Kubeconfig { path: String, message: String },
    #[error("no kubeconfig and not inside a cluster ({message}); give --kubeconfig FILE, set KUBECONFIG, or run in a pod with a service account")]
    NoConfig { message: String },
    #[error("cannot set up the connection to the API server: {0}")]
    Client(String),
    #[error("cannot discover the API server's resources at {server} (is it reachable, and does the identity authenticate?): {message}")]
    Discovery { server: String, message: String },
    #[error("listing {kind} failed: {message}")]
    List { kind: String, message: String },
}
