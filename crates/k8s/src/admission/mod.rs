//! The admission decision as a pure function: [`decide`] takes a parsed AdmissionReview
//! ([`parse_review`]), the [`AdmissionPolicy`] (the CI policy of bulwark.yaml: misconfiguration
//! and vulnerability gates, ignores, Rego policies, plus the `admission:` section's modes and
//! signature requirement) and what is known about each image ([`ImageVerdicts`], looked up by
//! the caller before deciding, within the request's deadline), and returns the response
//! AdmissionReview. Nothing here does I/O, so the HTTP host (`bulwark-server`'s admission
//! module) owns timeouts, caching and logging, and the decision is tested without a network.

mod config;
mod review;

use std::collections::HashMap;
use std::sync::Arc;

use bulwark_misconfig::rego::Policies;
use bulwark_misconfig::{FileKind, SourceFile};
use bulwark_policy::{Date, IgnoreRule, SeverityFilter, Subject, VulnGate};
use bulwark_types::{Misconfiguration, Purl, Severity, VulnerabilityFinding};
use serde_json::{json, Value};

pub use config::{AdmissionSection, Mode, UnknownImages};
pub use review::{
    images, parse_review, pod_spec, AdmissionRequest, AdmissionReview, GroupVersionKind,
    ReviewError, API_VERSION,
};

/// Most `warnings` one response carries: the API server caps their total size, and a
/// person reads the first few.
pub const MAX_WARNINGS: usize = 20;
/// Longest single warning, in characters (longer ones are cut with `…`).
pub const MAX_WARNING_CHARS: usize = 256;
/// Longest status message of a denial, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4096;

/// The misconfiguration gate when bulwark.yaml sets none: a webhook with no gate would admit
/// everything, so high and critical manifest findings (privileged, host namespaces, host
/// paths, ...) fail.
pub const DEFAULT_MISCONFIG_SEVERITY: Severity = Severity::High;
/// The vulnerability gate when bulwark.yaml sets none: critical vulnerabilities fail.
pub const DEFAULT_VULN_SEVERITY: Severity = Severity::Critical;

/// Everything the decision applies, built once when the webhook starts.
#[derive(Debug, Clone)]
pub struct AdmissionPolicy {
    pub section: AdmissionSection,
    /// Misconfigurations at these severities fail (`gates.misconfigurations`).
    pub misconfig_gate: SeverityFilter,
    /// Vulnerabilities this gate counts fail (`gates.vulnerabilities`).
    pub vuln_gate: VulnGate,
    pub ignores: Vec<IgnoreRule>,
    /// The user's Rego policies (`--policy`), evaluated on the object.
    pub rego: Option<Arc<Policies>>,
}

impl Default for AdmissionPolicy {
    fn default() -> Self {
        AdmissionPolicy {
            section: AdmissionSection::default(),
            misconfig_gate: SeverityFilter::AtLeast(DEFAULT_MISCONFIG_SEVERITY),
            vuln_gate: VulnGate {
                severity: SeverityFilter::AtLeast(DEFAULT_VULN_SEVERITY),
                ..VulnGate::default()
            },
            ignores: Vec::new(),
            rego: None,
        }
    }
}

impl AdmissionPolicy {
    /// The policy from bulwark.yaml's gates and ignores (as `bulwark_policy::build::policy`
    /// resolved them for CI) and its `admission:` section; a gate left unset takes the
    /// webhook's default ([`DEFAULT_MISCONFIG_SEVERITY`], [`DEFAULT_VULN_SEVERITY`]).
    pub fn new(
        section: AdmissionSection,
        gates: &bulwark_policy::GateConfig,
        ignores: Vec<IgnoreRule>,
        rego: Option<Arc<Policies>>,
    ) -> AdmissionPolicy {
        let defaults = AdmissionPolicy::default();
        AdmissionPolicy {
            section,
            misconfig_gate: gates
                .misconfigurations
                .as_ref()
                .map(|g| g.severity.clone())
                .unwrap_or(defaults.misconfig_gate),
            vuln_gate: gates.vulnerabilities.clone().unwrap_or(defaults.vuln_gate),
            ignores,
            rego,
        }
    }

    /// Whether images must carry a verified signature.
    pub fn requires_signature(&self) -> bool {
        self.section.require_signature.is_some()
    }
}

/// One vulnerability of an image, as much as the gate and the ignores read.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageVuln {
    pub id: String,
    /// Every id (aliases), the primary first.
    pub ids: Vec<String>,
    pub package: String,
    pub purl: Option<Purl>,
    pub severity: Severity,
    pub fixable: bool,
    pub kev: bool,
    pub epss: Option<f64>,
}

impl From<&VulnerabilityFinding> for ImageVuln {
    fn from(f: &VulnerabilityFinding) -> ImageVuln {
        ImageVuln {
            id: f.id.clone(),
            ids: f.ids.clone(),
            package: f.package.name.clone(),
            purl: Some(f.package.purl.clone()),
            severity: f.severity,
            fixable: !f.fixed_versions.is_empty(),
            kev: f.kev.is_some() || f.priority.kev,
            epss: f.epss.as_ref().map(|e| e.score).or(f.priority.epss),
        }
    }
}

/// Whether the image's signature verified against the required key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureState {
    Verified,
    /// Checked: no signature verifies (the reason says why).
    Unsigned(String),
    /// Not checked: no key is required, or the check could not finish (the reason says why).
    Unknown(String),
}

/// What is known about the image's vulnerabilities.
#[derive(Debug, Clone, PartialEq)]
pub enum VulnState {
    /// Stored (or freshly scanned) results for the image's digest.
    Known(Vec<ImageVuln>),
    /// Nothing known (not scanned yet, the lookup failed or ran out of time): why.
    Unknown(String),
}

/// What the webhook knows about one image reference.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageVerdict {
    /// The manifest digest it resolved to, when known.
    pub digest: Option<String>,
    pub signature: SignatureState,
    pub vulnerabilities: VulnState,
}

impl ImageVerdict {
    /// Nothing known, for `why`.
    pub fn unknown(why: &str) -> ImageVerdict {
        ImageVerdict {
            digest: None,
            signature: SignatureState::Unknown(why.to_string()),
            vulnerabilities: VulnState::Unknown(why.to_string()),
        }
    }
}

/// What is known about images, by reference as written in the pod spec. Lookups happen
/// before [`decide`] (they do I/O); this is the answer sheet.
pub trait ImageVerdicts {
    fn verdict(&self, image: &str) -> Option<ImageVerdict>;
}

impl ImageVerdicts for HashMap<String, ImageVerdict> {
    fn verdict(&self, image: &str) -> Option<ImageVerdict> {
        self.get(image).cloned()
    }
}

/// No image is known (the baseline of the benchmark, and requests without images).
pub struct NoVerdicts;

impl ImageVerdicts for NoVerdicts {
    fn verdict(&self, _image: &str) -> Option<ImageVerdict> {
        None
    }
}

/// The outcome of [`decide`]: the response to send and what it was based on (for the log).
#[derive(Debug, Clone)]
pub struct Decision {
    /// The response AdmissionReview (same apiVersion and kind, the request's uid).
    pub response: Value,
    pub allowed: bool,
    pub mode: Mode,
    /// Why the object fails the policy (empty: it passes).
    pub reasons: Vec<String>,
    /// Notes that are not failures (an image not yet known, an unchecked signature).
    pub notes: Vec<String>,
    pub dry_run: bool,
    /// `Pod/dev/web`.
    pub resource: String,
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn ignored(ignores: &[IgnoreRule], today: Date, subject: &Subject<'_>) -> bool {
    ignores
        .iter()
        .any(|r| !r.is_expired(today) && r.matches(subject))
}

/// Decides one review. `today` dates the ignore rules' `expires`.
pub fn decide(
    review: &AdmissionReview,
    policy: &AdmissionPolicy,
    verdicts: &dyn ImageVerdicts,
    today: Date,
) -> Decision {
    let r = &review.request;
    let mode = policy.section.mode(r.namespace.as_deref());
    let resource = match (&r.namespace, &r.name) {
        (Some(ns), Some(n)) => format!("{}/{ns}/{n}", r.kind.kind),
        (None, Some(n)) => format!("{}/{n}", r.kind.kind),
        (Some(ns), None) => format!("{}/{ns}", r.kind.kind),
        (None, None) => r.kind.kind.clone(),
    };
    let mut reasons = Vec::new();
    let mut notes = Vec::new();
    let judged = r.sub_resource.is_none() && matches!(r.operation.as_str(), "CREATE" | "UPDATE");
    if let (true, Some(object)) = (judged, &r.object) {
        check_object(review, object, policy, today, &mut reasons);
        for image in review.images() {
            check_image(&image, policy, verdicts, today, &mut reasons, &mut notes);
        }
    }
    let allowed = reasons.is_empty() || mode != Mode::Enforce;
    let mut response = json!({"uid": r.uid, "allowed": allowed});
    if !allowed {
        let message = cut(
            &format!(
                "bulwark denied {resource} ({} reason{}): {}",
                reasons.len(),
                if reasons.len() == 1 { "" } else { "s" },
                reasons.join("; ")
            ),
            MAX_MESSAGE_CHARS,
        );
        response["status"] = json!({"code": 403, "reason": "Forbidden", "message": message});
    }
    let mut warnings: Vec<String> = Vec::new();
    if mode == Mode::Warn {
        warnings.extend(reasons.iter().map(|w| format!("bulwark (warn): {w}")));
    }
    if mode != Mode::Audit {
        warnings.extend(notes.iter().map(|n| format!("bulwark: {n}")));
    }
    if !warnings.is_empty() {
        let more = warnings.len().saturating_sub(MAX_WARNINGS);
        let mut shown: Vec<String> = warnings
            .iter()
            .take(MAX_WARNINGS)
            .map(|w| cut(w, MAX_WARNING_CHARS))
            .collect();
        if more > 0 {
            shown.push(format!("bulwark: and {more} more"));
        }
        response["warnings"] = json!(shown);
    }
    Decision {
        response: json!({
            "apiVersion": review.api_version,
            "kind": "AdmissionReview",
            "response": response,
        }),
        allowed,
        mode,
        reasons,
        notes,
        dry_run: r.dry_run,
        resource,
    }
}

/// The manifest checks and the Rego policies on the object, through the misconfiguration
/// gate and the ignores.
fn check_object(
    review: &AdmissionReview,
    object: &Value,
    policy: &AdmissionPolicy,
    today: Date,
    reasons: &mut Vec<String>,
) {
    let r = &review.request;
    // The API server sends the object without `kind`/`apiVersion` for some requests, and the
    // namespace only on the request: the checks name the object from these.
    let mut object = object.clone();
    if let Some(map) = object.as_object_mut() {
        map.entry("kind").or_insert_with(|| json!(r.kind.kind));
        if let Some(ns) = &r.namespace {
            let meta = map.entry("metadata").or_insert_with(|| json!({}));
            if let Some(meta) = meta.as_object_mut() {
                meta.entry("namespace").or_insert_with(|| json!(ns));
                if let Some(name) = &r.name {
                    meta.entry("name").or_insert_with(|| json!(name));
                }
            }
        }
    }
    let file = SourceFile {
        path: "admission".to_string(),
        kind: FileKind::Kubernetes,
        bytes: object.to_string().into_bytes(),
    };
    let (hits, errors) = bulwark_misconfig::kubernetes::scan_object(&file);
    for e in errors {
        reasons.push(format!("the object cannot be checked: {}", e.message));
    }
    let mut findings: Vec<Misconfiguration> = hits
        .into_iter()
        .map(|h| h.into_finding(&file.path))
        .collect();
    if let Some(rego) = &policy.rego {
        match rego.eval(&file) {
            Ok(found) => findings.extend(found),
            Err(e) => reasons.push(format!("the Rego policies could not be evaluated: {e}")),
        }
    }
    for m in findings {
        if !policy.misconfig_gate.admits(m.severity) {
            continue;
        }
        let subject = Subject {
            ids: vec![&m.check_id],
            paths: m.location.resource.as_deref().into_iter().collect(),
            check: Some(&m.check_id),
            ..Subject::default()
        };
        if ignored(&policy.ignores, today, &subject) {
            continue;
        }
        reasons.push(format!("{} ({}) {}", m.check_id, m.severity, m.message));
    }
}

fn vuln_counts(gate: &VulnGate, v: &ImageVuln) -> bool {
    gate.severity.admits(v.severity)
        && (!gate.fixable || v.fixable)
        && (!gate.kev || v.kev)
        && gate.epss.is_none_or(|min| v.epss.is_some_and(|p| p >= min))
}

/// The signature requirement and the vulnerability gate on one image.
fn check_image(
    image: &str,
    policy: &AdmissionPolicy,
    verdicts: &dyn ImageVerdicts,
    today: Date,
    reasons: &mut Vec<String>,
    notes: &mut Vec<String>,
) {
    let verdict = verdicts
        .verdict(image)
        .unwrap_or_else(|| ImageVerdict::unknown("no stored result"));
    let unknown_fails = policy.section.unknown_images == UnknownImages::Deny;
    if policy.requires_signature() {
        match &verdict.signature {
            SignatureState::Verified => {}
            SignatureState::Unsigned(why) => reasons.push(format!(
                "image {image} is not signed with the required key: {why}"
            )),
            // A required signature that could not be checked is not a pass.
            SignatureState::Unknown(why) => reasons.push(format!(
                "image {image}: the required signature could not be checked ({why})"
            )),
        }
    }
    match &verdict.vulnerabilities {
        VulnState::Known(vulns) => {
            let failing: Vec<&ImageVuln> = vulns
                .iter()
                .filter(|v| vuln_counts(&policy.vuln_gate, v))
                .filter(|v| {
                    let subject = Subject {
                        ids: v
                            .ids
                            .iter()
                            .map(String::as_str)
                            .chain([v.id.as_str()])
                            .collect(),
                        package: v.purl.as_ref().map(|p| (v.package.as_str(), p)),
                        ..Subject::default()
                    };
                    !ignored(&policy.ignores, today, &subject)
                })
                .collect();
            if !failing.is_empty() {
                const SHOWN: usize = 5;
                let mut ids: Vec<String> = failing
                    .iter()
                    .take(SHOWN)
                    .map(|v| format!("{} ({}, {})", v.id, v.severity, v.package))
                    .collect();
                if failing.len() > SHOWN {
                    ids.push(format!("and {} more", failing.len() - SHOWN));
                }
                reasons.push(format!(
                    "image {image} has {} vulnerabilit{} the gate counts: {}",
                    failing.len(),
                    if failing.len() == 1 { "y" } else { "ies" },
                    ids.join(", ")
                ));
            }
        }
        VulnState::Unknown(why) if unknown_fails => reasons.push(format!(
            "image {image} has no scan result ({why}) and admission.unknown-images is deny"
        )),
        VulnState::Unknown(why) => {
            notes.push(format!("image {image} has no scan result yet ({why})"))
        }
    }
}
