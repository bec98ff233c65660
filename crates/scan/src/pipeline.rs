//! The image, directory and SBOM scans: open, walk, assemble, match, judge, redact.

use std::path::Path;

use bulwark_analyze::{assemble, Analyzer, LayerCache, MemoryBudget, Walker};
use bulwark_image::SourceRef;
use bulwark_report::ScanReport;

use crate::advisories::open_advisories;
use crate::events::{Event, EventSink, Phase, WalkEvents};
use crate::request::{FsScan, ImageScan, ImageSources, SbomScan, ScanSettings, SecretSettings};
use crate::{CancelToken, Error, Result, ScanPlan};

const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A finished scan: the report, redacted and judged, ready to render.
#[derive(Debug)]
pub struct ScanOutcome {
    pub report: ScanReport,
    /// The policy's warnings (expired or unused ignore rules...), redacted.
    pub warnings: Vec<String>,
}

impl ImageScan {
    /// Runs the scan. Events go to `sink`; `cancel` stops it between stages, layers and
    /// files with [`Error::Cancelled`].
    pub fn run(self, sink: &dyn EventSink, cancel: &CancelToken) -> Result<ScanOutcome> {
        scan(
            self.reference,
            &self.sources,
            &self.platform,
            self.require_signature.as_deref(),
            self.settings,
            sink,
            cancel,
        )
    }
}

impl FsScan {
    /// Runs the scan over the directory, as a one-layer image.
    pub fn run(self, sink: &dyn EventSink, cancel: &CancelToken) -> Result<ScanOutcome> {
        let reference = SourceRef::parse(&format!("dir:{}", self.root.display()))?;
        scan(
            reference,
            &ImageSources::offline(),
            &bulwark_image::Platform::host(),
            None,
            self.settings,
            sink,
            cancel,
        )
    }
}

fn scan(
    reference: SourceRef,
    sources: &ImageSources,
    platform: &bulwark_image::Platform,
    require_signature: Option<&Path>,
    settings: ScanSettings,
    sink: &dyn EventSink,
    cancel: &CancelToken,
) -> Result<ScanOutcome> {
    // Everything the request says is checked before the image is touched.
    let ScanSettings {
        scanners,
        keep_packages,
        limits,
        memory_budget,
        cache_dir,
        secrets,
        advisories,
        policy,
        reachability,
    } = settings;
    let (legacy_gate, today) = (policy.legacy_gate, policy.today);
    let mut policy = policy.policy;
    let plan = ScanPlan::new(scanners.as_deref(), &mut policy, legacy_gate);
    let cache = cache_dir.map(LayerCache::open).transpose()?;
    let mut analyzers: Vec<Box<dyn Analyzer>> = if plan.catalog {
        bulwark_catalog::analyzers()
    } else {
        Vec::new()
    };
    let (secret_scanner, rules_key) = if plan.secrets {
        let (scanner, key) = secret_scanner(&secrets)?;
        (Some(scanner), key)
    } else {
        (None, String::new())
    };
    if let Some(scanner) = &secret_scanner {
        analyzers.push(Box::new(bulwark_secrets::SecretAnalyzer::new(
            scanner.clone(),
        )));
    }
    if plan.misconfig {
        analyzers.push(Box::new(bulwark_misconfig::in_image::ConfigFileAnalyzer));
    }
    // Verdicts are about vulnerability findings: without matching there is nothing to judge.
    let reachability = reachability && plan.vuln;
    if reachability {
        analyzers.push(Box::new(bulwark_reach::LinkageAnalyzer));
    }
    let vuln_store = match (plan.vuln, &advisories) {
        (true, Some(a)) => open_advisories(a, plan.vuln_required, sink)?,
        (true, None) if plan.vuln_required => {
            return Err(Error::Contradiction(
                "vulnerability matching was asked for, but no advisory database was given",
            ))
        }
        _ => None,
    };
    // Options that change what analyzers report are part of every layer's cache key.
    let options_key = format!(
        "secret-max={};secret-config={rules_key};secret-min-confidence={}",
        secrets.max_file_bytes, secrets.min_confidence
    );
    let reference = match require_signature {
        Some(key) => {
            sink.event(Event::Phase(Phase::Verifying));
            crate::signature::require_signature(&reference, key, &sources.registry)?
        }
        None => reference,
    };

    cancel.check()?;
    sink.event(Event::Phase(Phase::Opening));
    let image = bulwark_image::open_with_sources(
        &reference,
        platform,
        &sources.registry,
        &sources.engine,
        &sources.order,
    )?;
    cancel.check()?;
    sink.event(Event::Phase(Phase::Walking));
    let walker = Walker::new(&analyzers)
        .with_cache(cache.as_ref())
        .with_limits(limits)
        .with_options_key(options_key)
        .with_budget(MemoryBudget::new(memory_budget));
    let walked = walker.walk(&image, &WalkEvents::new(sink, cancel, image.layers().len()))?;
    cancel.check()?;
    sink.event(Event::Phase(Phase::Assembling));
    let mut facts = bulwark_catalog::finalize_packages(assemble(&image, walked));
    let mut misconfigurations = Vec::new();
    if plan.misconfig {
        misconfigurations.extend(bulwark_misconfig::image_config::scan(&image, &facts));
        misconfigurations.extend(bulwark_misconfig::in_image::findings(&facts));
    }
    let verdicts =
        reachability.then(|| bulwark_reach::package_verdicts(&facts, &entrypoint_config(&image)));
    // The per-layer records served assembly and the checks above; nothing after this reads
    // them, and on a large tree they outweigh the findings (issue 13). The report takes the
    // facts it keeps (packages, secrets, layers) by value and frees the file index.
    facts.layer_facts = Vec::new();
    let mut report = ScanReport::new(&image, facts, TOOL_VERSION);
    report.add_misconfigurations(misconfigurations);

    // Redaction holds whether or not secrets were asked for: the values found in the config
    // and history, credential assignments, and whatever the rules match.
    let redaction_scanner = secret_scanner
        .clone()
        .unwrap_or_else(bulwark_secrets::Scanner::builtin);
    let config_secrets = bulwark_secrets::scan_image_config(&redaction_scanner, &image);
    let redactor = bulwark_secrets::Redactor::new(redaction_scanner, config_secrets.values);
    if secret_scanner.is_some() {
        report.add_secrets(config_secrets.findings);
    }
    drop(image);
    cancel.check()?;
    if let (Some(store), Some(a)) = (&vuln_store, &advisories) {
        sink.event(Event::Phase(Phase::Matching));
        match_vulnerabilities(&mut report, store, a.ignore_unfixed);
    }
    if let Some(verdicts) = &verdicts {
        verdicts.apply(&mut report.vulnerabilities);
    }
    sink.event(Event::Phase(Phase::Policy));
    let warnings = policy.apply(&mut report, today);
    // Packages were catalogued for what needed them; the list is kept when asked for.
    if !plan.report_packages && !keep_packages {
        report.packages.clear();
    }
    Ok(finish(report, &redactor, warnings, sink))
}

/// What the image config says runs, for the reachability closure.
fn entrypoint_config(image: &bulwark_image::Image) -> bulwark_reach::EntrypointConfig {
    let config = image.config.as_ref().and_then(|c| c.config().as_ref());
    bulwark_reach::EntrypointConfig {
        entrypoint: config
            .and_then(|c| c.entrypoint().clone())
            .unwrap_or_default(),
        cmd: config.and_then(|c| c.cmd().clone()).unwrap_or_default(),
        env: config.and_then(|c| c.env().clone()).unwrap_or_default(),
        working_dir: config.and_then(|c| c.working_dir().clone()),
        // oci-spec does not model Docker's Healthcheck; every builder records it in the
        // history (as the misconfiguration check BW-IMG-002 reads it).
        healthcheck: image
            .history
            .iter()
            .filter_map(|h| h.created_by.as_deref())
            .rfind(|c| c.contains("HEALTHCHECK"))
            .filter(|c| !c.contains("HEALTHCHECK NONE"))
            .map(str::to_string),
    }
}

fn match_vulnerabilities(
    report: &mut ScanReport,
    store: &bulwark_vulndb::Store,
    ignore_unfixed: bool,
) {
    let outcome = bulwark_vulndb::match_packages(
        store,
        report.os.as_ref(),
        &report.packages,
        &bulwark_vulndb::MatchOptions::default(),
    );
    report.set_vulnerabilities(outcome, ignore_unfixed);
}

/// The one redaction step: every string of the report (so every format made from it, and
/// the diagnostics and gate reasons shown from it) and the policy warnings, after policy ran
/// on the unredacted findings and before anything is rendered.
pub(crate) fn finish(
    mut report: ScanReport,
    redactor: &bulwark_secrets::Redactor,
    warnings: Vec<impl std::fmt::Display>,
    sink: &dyn EventSink,
) -> ScanOutcome {
    report.redact_strings(&|s: &mut String| redactor.redact_in_place(s));
    let warnings = warnings
        .iter()
        .map(|w| redactor.redact(&w.to_string()).into_owned())
        .collect();
    for d in &report.diagnostics {
        sink.event(Event::Diagnostic(d));
    }
    ScanOutcome { report, warnings }
}

/// The built-in scanner, or the one the rules file describes, and a key for the rules'
/// content (it separates cache entries); errors name the file.
fn secret_scanner(settings: &SecretSettings) -> Result<(bulwark_secrets::Scanner, String)> {
    let (scanner, key) = match &settings.rules {
        None => (bulwark_secrets::Scanner::builtin(), String::new()),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| Error::SecretConfigRead {
                path: path.clone(),
                source,
            })?;
            let config_error = |message: String| Error::SecretConfig {
                path: path.clone(),
                message,
            };
            let config = bulwark_secrets::SecretConfig::parse(&text).map_err(config_error)?;
            let scanner = config.scanner().map_err(|e| config_error(e.to_string()))?;
            (scanner, content_key(text.as_bytes()))
        }
    };
    Ok((
        scanner
            .with_max_file_bytes(settings.max_file_bytes)
            .with_min_confidence(settings.min_confidence),
        key,
    ))
}

/// A short stable key for file content (FNV-1a; this only separates cache entries).
fn content_key(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

impl SbomScan {
    /// Reads the SBOM and matches its packages like an image's.
    pub fn run(self, sink: &dyn EventSink, cancel: &CancelToken) -> Result<ScanOutcome> {
        let mut policy = self.policy.policy;
        // A vulnerability gate needs matching: with it, a missing database is an error, and
        // no matching contradicts it; `--exit-code N` alone judges what is matched.
        let vuln_gate = policy.gates.vulnerabilities.is_some() && !self.policy.legacy_gate;
        if self.advisories.is_none() {
            if vuln_gate {
                return Err(Error::Contradiction(
                    "--no-vuln turns vulnerability matching off, but a vulnerability gate (--fail-on-vuln, --fail-on-fixable, --fail-on-kev, --fail-on-epss or gates.vulnerabilities in bulwark.yaml) needs it: drop one of them",
                ));
            }
            policy.gates.vulnerabilities = None;
        }
        sink.event(Event::Phase(Phase::Opening));
        let sbom = bulwark_report::import::load(&self.file, self.max_bytes)?;
        let mut report =
            ScanReport::from_sbom(format!("sbom:{}", self.file.display()), sbom, TOOL_VERSION);
        cancel.check()?;
        if let Some(a) = &self.advisories {
            let required = vuln_gate || self.advisories_required;
            if let Some(store) = open_advisories(a, required, sink)? {
                sink.event(Event::Phase(Phase::Matching));
                match_vulnerabilities(&mut report, &store, a.ignore_unfixed);
            }
        }
        sink.event(Event::Phase(Phase::Policy));
        let warnings = policy.apply(&mut report, self.policy.today);
        let redactor = bulwark_secrets::Redactor::new(bulwark_secrets::Scanner::builtin(), []);
        Ok(finish(report, &redactor, warnings, sink))
    }
}
