//! AdmissionReview v1 as the API server sends it (`admission.k8s.io/v1`), read strictly
//! enough that a malformed review is a clear error, never a guess.

use serde_json::Value;

/// The only version the webhook speaks (the ValidatingWebhookConfiguration says
/// `admissionReviewVersions: [v1]`).
pub const API_VERSION: &str = "admission.k8s.io/v1";

/// Why a request body is not an AdmissionReview the webhook can answer (HTTP 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    #[error("the body is not JSON ({0}); the API server sends an AdmissionReview v1 as JSON")]
    NotJson(String),
    #[error("apiVersion is {found:?}, expected \"admission.k8s.io/v1\"; set admissionReviewVersions: [v1] in the ValidatingWebhookConfiguration")]
    ApiVersion { found: String },
    #[error("kind is {found:?}, expected \"AdmissionReview\"")]
    Kind { found: String },
    #[error("the AdmissionReview has no {0}; it is not a request from the API server")]
    Missing(&'static str),
    #[error("{field} is {found}, expected {expected}")]
    Type {
        field: &'static str,
        found: &'static str,
        expected: &'static str,
    },
}

/// `request.kind`: the kind of the object under review.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupVersionKind {
    pub group: String,
    pub version: String,
    pub kind: String,
}

/// `request` of an AdmissionReview: what the decision reads.
#[derive(Debug, Clone)]
pub struct AdmissionRequest {
    /// Echoed in the response; the API server matches the answer by it.
    pub uid: String,
    pub kind: GroupVersionKind,
    /// Set for writes to a subresource (`status`, `scale`, `exec`): not a new pod spec.
    pub sub_resource: Option<String>,
    pub name: Option<String>,
    /// Empty for cluster-scoped objects.
    pub namespace: Option<String>,
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    pub operation: String,
    pub object: Option<Value>,
    /// The request will not be persisted: no side effects (no audit log, no upload).
    pub dry_run: bool,
    /// `request.userInfo.username`, for the log.
    pub user: Option<String>,
}

/// A parsed AdmissionReview request.
#[derive(Debug, Clone)]
pub struct AdmissionReview {
    /// As sent (`admission.k8s.io/v1`), echoed in the response.
    pub api_version: String,
    pub request: AdmissionRequest,
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn opt_str(v: &Value, key: &str, field: &'static str) -> Result<Option<String>, ReviewError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(ReviewError::Type {
            field,
            found: type_name(other),
            expected: "a string",
        }),
    }
}

/// Reads an AdmissionReview v1 request from the request body.
pub fn parse_review(body: &[u8]) -> Result<AdmissionReview, ReviewError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| ReviewError::NotJson(e.to_string()))?;
    if !v.is_object() {
        return Err(ReviewError::Type {
            field: "the body",
            found: type_name(&v),
            expected: "an AdmissionReview object",
        });
    }
    let api_version =
        opt_str(&v, "apiVersion", "apiVersion")?.ok_or(ReviewError::Missing("apiVersion"))?;
    if api_version != API_VERSION {
        return Err(ReviewError::ApiVersion { found: api_version });
    }
    let kind = opt_str(&v, "kind", "kind")?.ok_or(ReviewError::Missing("kind"))?;
    if kind != "AdmissionReview" {
        return Err(ReviewError::Kind { found: kind });
    }
    let r = match v.get("request") {
        Some(r @ Value::Object(_)) => r,
        None | Some(Value::Null) => return Err(ReviewError::Missing("request")),
        Some(other) => {
            return Err(ReviewError::Type {
                field: "request",
                found: type_name(other),
                expected: "an object",
            })
        }
    };
    let uid = opt_str(r, "uid", "request.uid")?
        .filter(|u| !u.is_empty())
        .ok_or(ReviewError::Missing("request.uid"))?;
    let gvk = match r.get("kind") {
        Some(k @ Value::Object(_)) => GroupVersionKind {
            group: opt_str(k, "group", "request.kind.group")?.unwrap_or_default(),
            version: opt_str(k, "version", "request.kind.version")?.unwrap_or_default(),
            kind: opt_str(k, "kind", "request.kind.kind")?
                .ok_or(ReviewError::Missing("request.kind.kind"))?,
        },
        None | Some(Value::Null) => return Err(ReviewError::Missing("request.kind")),
        Some(other) => {
            return Err(ReviewError::Type {
                field: "request.kind",
                found: type_name(other),
                expected: "an object {group, version, kind}",
            })
        }
    };
    let operation = opt_str(r, "operation", "request.operation")?
        .ok_or(ReviewError::Missing("request.operation"))?;
    let dry_run = match r.get("dryRun") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(ReviewError::Type {
                field: "request.dryRun",
                found: type_name(other),
                expected: "a boolean",
            })
        }
    };
    let object = match r.get("object") {
        None | Some(Value::Null) => None,
        Some(o @ Value::Object(_)) => Some(o.clone()),
        Some(other) => {
            return Err(ReviewError::Type {
                field: "request.object",
                found: type_name(other),
                expected: "an object",
            })
        }
    };
    Ok(AdmissionReview {
        api_version,
        request: AdmissionRequest {
            uid,
            kind: gvk,
            sub_resource: opt_str(r, "subResource", "request.subResource")?
                .filter(|s| !s.is_empty()),
            name: opt_str(r, "name", "request.name")?.filter(|s| !s.is_empty()),
            namespace: opt_str(r, "namespace", "request.namespace")?.filter(|s| !s.is_empty()),
            operation,
            object,
            dry_run,
            user: r
                .get("userInfo")
                .and_then(|u| u.get("username"))
                .and_then(Value::as_str)
                .map(str::to_string),
        },
    })
}

/// Where the pod template of each workload kind lives; `None` for kinds without one.
pub fn pod_spec<'a>(kind: &str, object: &'a Value) -> Option<&'a Value> {
    let spec = object.get("spec")?;
    match kind {
        "Pod" => Some(spec),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ReplicationController"
        | "Job" => spec.get("template")?.get("spec"),
        "CronJob" => spec
            .get("jobTemplate")?
            .get("spec")?
            .get("template")?
            .get("spec"),
        _ => None,
    }
}

/// The image references of every container (init, app and ephemeral) of a pod spec, in
/// order, each once.
pub fn images(pod_spec: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for c in pod_spec
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(image) = c.get("image").and_then(Value::as_str) {
                if !image.is_empty() && !out.iter().any(|i| i == image) {
                    out.push(image.to_string());
                }
            }
        }
    }
    out
}

impl AdmissionReview {
    /// The images the object would run (empty for kinds without a pod template, deletes,
    /// and subresource writes).
    pub fn images(&self) -> Vec<String> {
        let r = &self.request;
        if r.sub_resource.is_some() || !matches!(r.operation.as_str(), "CREATE" | "UPDATE") {
            return Vec::new();
        }
        r.object
            .as_ref()
            .and_then(|o| pod_spec(&r.kind.kind, o))
            .map(images)
            .unwrap_or_default()
    }
}
