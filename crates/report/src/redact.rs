//! Every string of the report through one redaction function, before any renderer sees it.
//!
//! Each struct is taken apart with an exhaustive pattern (no `..`): a field added to any part
//! of the report does not compile here until someone decides whether it can carry a secret,
//! so no renderer can ever print a string that skipped redaction.

use bulwark_analyze::{Diagnostic, LayerSummary};
use bulwark_types::{
    ComplianceRef, CvssInfo, EpssScore, FindingPackage, KevEntry, LayerRef, MisconfigLocation,
    Misconfiguration, OsRelease, Package, PackageSource, Priority, Purl, SecretFinding, SecretHit,
    SecretLocation, VulnerabilityFinding,
};

use crate::model::{ImageIdentity, ScanReport, ToolInfo, Unmatched};
use crate::policy_model::{GateResult, IgnoreRuleReport, LicenseFinding, Suppression};

/// Rewrites one string in place when it holds a secret.
pub type RedactFn<'a> = &'a dyn Fn(&mut String);

trait Redact {
    fn redact(&mut self, r: RedactFn<'_>);
}

impl Redact for String {
    fn redact(&mut self, r: RedactFn<'_>) {
        r(self)
    }
}

impl<T: Redact> Redact for Option<T> {
    fn redact(&mut self, r: RedactFn<'_>) {
        if let Some(v) = self {
            v.redact(r);
        }
    }
}

impl<T: Redact> Redact for Vec<T> {
    fn redact(&mut self, r: RedactFn<'_>) {
        for v in self {
            v.redact(r);
        }
    }
}

impl Redact for serde_json::Value {
    fn redact(&mut self, r: RedactFn<'_>) {
        match self {
            serde_json::Value::String(s) => r(s),
            serde_json::Value::Array(items) => items.redact(r),
            serde_json::Value::Object(map) => {
                let entries = std::mem::take(map);
                for (mut k, mut v) in entries {
                    r(&mut k);
                    v.redact(r);
                    map.insert(k, v);
                }
            }
            serde_json::Value::Null | serde_json::Value::Bool(_) | serde_json::Value::Number(_) => {
            }
        }
    }
}

impl Redact for ScanReport {
    fn redact(&mut self, r: RedactFn<'_>) {
        let ScanReport {
            schema: _,
            tool: ToolInfo {
                name: _,
                version: _,
            },
            created: _,
            image,
            os,
            layers,
            packages,
            secrets,
            vulnerabilities,
            misconfigurations,
            license_findings,
            suppressed,
            gates,
            ignore_rules,
            unmatched,
            diagnostics,
            containers,
        } = self;
        containers.redact(r);
        image.redact(r);
        os.redact(r);
        layers.redact(r);
        packages.redact(r);
        secrets.redact(r);
        vulnerabilities.redact(r);
        misconfigurations.redact(r);
        license_findings.redact(r);
        suppressed.redact(r);
        gates.redact(r);
        ignore_rules.redact(r);
        unmatched.redact(r);
        diagnostics.redact(r);
    }
}

impl Redact for bulwark_types::InUse {
    fn redact(&mut self, r: RedactFn<'_>) {
        let bulwark_types::InUse {
            state: _,
            container,
            evidence,
            reason,
        } = self;
        container.redact(r);
        evidence.redact(r);
        reason.redact(r);
    }
}

/// The chain and reason name image paths and the entrypoint's words, which could hold a
/// credential (`sh -c "curl -u user:pass ..."`).
impl Redact for bulwark_types::Reachability {
    fn redact(&mut self, r: RedactFn<'_>) {
        let bulwark_types::Reachability {
            verdict: _,
            chain,
            reason,
        } = self;
        chain.redact(r);
        reason.redact(r);
    }
}

impl Redact for bulwark_types::InUseEvidence {
    fn redact(&mut self, r: RedactFn<'_>) {
        self.path.redact(r);
    }
}

impl Redact for bulwark_types::DriftEntry {
    fn redact(&mut self, r: RedactFn<'_>) {
        self.path.redact(r);
    }
}

/// Names, paths and advice come from the engine and the container's files: any could hold a
/// credential (a bind-mounted path, an image named after a token).
impl Redact for bulwark_types::ContainerAudit {
    fn redact(&mut self, r: RedactFn<'_>) {
        let bulwark_types::ContainerAudit {
            name,
            id: _,
            image,
            image_id: _,
            engine: _,
            pid: _,
            declared_capabilities: _,
            effective_capabilities: _,
            in_use_files,
            drift,
            advice,
            warnings,
        } = self;
        name.redact(r);
        image.redact(r);
        in_use_files.redact(r);
        drift.redact(r);
        advice.read_only_mounts.redact(r);
        advice.docker_run.redact(r);
        advice.compose.redact(r);
        advice.kubernetes.redact(r);
        warnings.redact(r);
    }
}

impl Redact for ImageIdentity {
    fn redact(&mut self, r: RedactFn<'_>) {
        let ImageIdentity {
            reference,
            repo_tags,
            manifest_digest: _,
            config_digest: _,
            platform,
        } = self;
        reference.redact(r);
        repo_tags.redact(r);
        platform.redact(r);
    }
}

impl Redact for OsRelease {
    fn redact(&mut self, r: RedactFn<'_>) {
        let OsRelease {
            family: _,
            id,
            version_id,
            version_codename,
            pretty_name,
            source_path,
        } = self;
        id.redact(r);
        version_id.redact(r);
        version_codename.redact(r);
        pretty_name.redact(r);
        source_path.redact(r);
    }
}

impl Redact for LayerSummary {
    fn redact(&mut self, r: RedactFn<'_>) {
        let LayerSummary {
            index: _,
            digest: _,
            diff_id: _,
            media_type,
            size: _,
            created_by,
            entries: _,
            from_cache: _,
        } = self;
        media_type.redact(r);
        created_by.redact(r);
    }
}

impl Redact for LayerRef {
    fn redact(&mut self, r: RedactFn<'_>) {
        let LayerRef {
            index: _,
            diff_id: _,
            created_by,
        } = self;
        created_by.redact(r);
    }
}

impl Redact for Purl {
    fn redact(&mut self, r: RedactFn<'_>) {
        let Purl {
            ty,
            namespace,
            name,
            version,
            qualifiers,
        } = self;
        ty.redact(r);
        namespace.redact(r);
        name.redact(r);
        version.redact(r);
        for value in qualifiers.values_mut() {
            value.redact(r);
        }
    }
}

impl Redact for PackageSource {
    fn redact(&mut self, r: RedactFn<'_>) {
        let PackageSource { name, version } = self;
        name.redact(r);
        version.redact(r);
    }
}

impl Redact for Package {
    fn redact(&mut self, r: RedactFn<'_>) {
        let Package {
            ecosystem: _,
            name,
            version,
            arch,
            source,
            licenses,
            purl,
            layer,
            found_in,
            files,
            dev: _,
            inferred: _,
            evidence: _,
            role: _,
            dependencies,
        } = self;
        name.redact(r);
        version.redact(r);
        arch.redact(r);
        source.redact(r);
        licenses.redact(r);
        purl.redact(r);
        layer.redact(r);
        found_in.redact(r);
        files.redact(r);
        dependencies.redact(r);
    }
}

impl Redact for SecretFinding {
    fn redact(&mut self, r: RedactFn<'_>) {
        let SecretFinding {
            location,
            layer,
            removed_in_layer: _,
            hit:
                SecretHit {
                    rule_id,
                    title,
                    severity: _,
                    confidence: _,
                    line: _,
                    column: _,
                    redacted,
                    fingerprint: _,
                },
        } = self;
        match location {
            SecretLocation::File { path } => path.redact(r),
            SecretLocation::Env { name } => name.redact(r),
            SecretLocation::Label { key } => key.redact(r),
            SecretLocation::History { step: _ } => {}
        }
        layer.redact(r);
        rule_id.redact(r);
        title.redact(r);
        redacted.redact(r);
    }
}

impl Redact for VulnerabilityFinding {
    fn redact(&mut self, r: RedactFn<'_>) {
        let VulnerabilityFinding {
            id,
            ids,
            package,
            installed_version,
            fixed_versions,
            status: _,
            status_note,
            severity: _,
            // A closed set of words, none of them from the input.
            severity_source: _,
            cvss,
            epss,
            kev,
            title,
            references,
            priority,
            in_use,
            reachability,
        } = self;
        in_use.redact(r);
        reachability.redact(r);
        id.redact(r);
        ids.redact(r);
        let FindingPackage {
            name,
            version,
            purl,
            ecosystem: _,
            layer_index: _,
            layer_created_by,
            advisory_ecosystem,
            advisory_name,
        } = package;
        name.redact(r);
        version.redact(r);
        purl.redact(r);
        layer_created_by.redact(r);
        advisory_ecosystem.redact(r);
        advisory_name.redact(r);
        installed_version.redact(r);
        fixed_versions.redact(r);
        status_note.redact(r);
        if let Some(CvssInfo {
            version,
            vector,
            base_score: _,
        }) = cvss
        {
            version.redact(r);
            vector.redact(r);
        }
        if let Some(EpssScore {
            cve,
            score: _,
            percentile: _,
            date,
        }) = epss
        {
            cve.redact(r);
            date.redact(r);
        }
        if let Some(KevEntry {
            cve,
            date_added,
            due_date,
            vendor,
            product,
            name,
            ransomware,
        }) = kev
        {
            cve.redact(r);
            date_added.redact(r);
            due_date.redact(r);
            vendor.redact(r);
            product.redact(r);
            name.redact(r);
            ransomware.redact(r);
        }
        title.redact(r);
        references.redact(r);
        let Priority {
            kev: _,
            epss: _,
            score: _,
            reason,
        } = priority;
        reason.redact(r);
    }
}

impl Redact for Misconfiguration {
    fn redact(&mut self, r: RedactFn<'_>) {
        let Misconfiguration {
            check_id,
            title,
            severity: _,
            message,
            remediation,
            references,
            compliance,
            location:
                MisconfigLocation {
                    path,
                    line: _,
                    column: _,
                    end_line: _,
                    resource,
                    layer,
                },
        } = self;
        check_id.redact(r);
        title.redact(r);
        message.redact(r);
        remediation.redact(r);
        references.redact(r);
        for ComplianceRef {
            framework: _,
            control,
        } in compliance
        {
            control.redact(r);
        }
        path.redact(r);
        resource.redact(r);
        layer.redact(r);
    }
}

impl Redact for LicenseFinding {
    fn redact(&mut self, r: RedactFn<'_>) {
        let LicenseFinding {
            package,
            version,
            purl,
            license,
            category: _,
            severity: _,
            reason,
            layer,
        } = self;
        package.redact(r);
        version.redact(r);
        purl.redact(r);
        license.redact(r);
        reason.redact(r);
        layer.redact(r);
    }
}

impl Redact for Suppression {
    fn redact(&mut self, r: RedactFn<'_>) {
        let Suppression {
            kind: _,
            id,
            target,
            source: _,
            origin,
            reason,
            statement,
        } = self;
        id.redact(r);
        target.redact(r);
        origin.redact(r);
        reason.redact(r);
        statement.redact(r);
    }
}

impl Redact for GateResult {
    fn redact(&mut self, r: RedactFn<'_>) {
        let GateResult {
            gate: _,
            passed: _,
            count: _,
            reason,
        } = self;
        reason.redact(r);
    }
}

impl Redact for IgnoreRuleReport {
    fn redact(&mut self, r: RedactFn<'_>) {
        let IgnoreRuleReport {
            origin,
            selectors,
            reason,
            expires,
            state: _,
            matched: _,
        } = self;
        origin.redact(r);
        selectors.redact(r);
        reason.redact(r);
        expires.redact(r);
    }
}

impl Redact for Unmatched {
    fn redact(&mut self, r: RedactFn<'_>) {
        let Unmatched { purl, reason } = self;
        purl.redact(r);
        reason.redact(r);
    }
}

impl Redact for Diagnostic {
    fn redact(&mut self, r: RedactFn<'_>) {
        let Diagnostic {
            level: _,
            layer: _,
            path,
            analyzer,
            message,
        } = self;
        path.redact(r);
        analyzer.redact(r);
        message.redact(r);
    }
}

impl ScanReport {
    /// Passes every string the report holds (build steps, paths, names, messages, policy
    /// reasons, diagnostics) through `redact`, which rewrites a string in place when it holds
    /// a secret. Call it once, after policy and before rendering: every format is made from
    /// the redacted model, so none can carry what `redact` removes.
    pub fn redact_strings(&mut self, redact: RedactFn<'_>) {
        Redact::redact(self, redact);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_string_field_reaches_the_function() {
        let mut report = ScanReport::for_files("SECRET-ref".into(), "0");
        report.diagnostics.push(Diagnostic {
            level: bulwark_analyze::DiagnosticLevel::Warning,
            layer: None,
            path: Some("SECRET-path".into()),
            analyzer: None,
            message: "SECRET-message".into(),
        });
        report.gates.push(GateResult {
            gate: crate::GateKind::Secrets,
            passed: false,
            count: 1,
            reason: "SECRET-reason".into(),
        });
        report.suppressed.push(Suppression {
            kind: crate::FindingKind::Secret,
            id: "x".into(),
            target: "SECRET-target".into(),
            source: crate::SuppressionSource::Ignore,
            origin: None,
            reason: "r".into(),
            statement: Some(serde_json::json!({"SECRET-key": ["SECRET-value"]})),
        });
        report.redact_strings(&|s: &mut String| {
            if s.contains("SECRET") {
                *s = s.replace("SECRET", "****");
            }
        });
        let json = serde_json::to_string(&report).unwrap();
        assert!(!json.contains("SECRET"), "{json}");
        assert!(json.contains("****-value"), "{json}");
    }
}
