//! A verdict per package, and per vulnerability finding through its package.

use std::collections::HashMap;

use bulwark_types::{Ecosystem, Package, ReachVerdict, Reachability, VulnerabilityFinding};

use crate::closure::{Closure, LoadIndex, PluginHost};

/// File name endings of code an interpreter loads (the analysis follows no imports yet).
const SCRIPT_ENDINGS: &[&str] = &[
    ".py", ".pyc", ".pl", ".pm", ".rb", ".js", ".mjs", ".cjs", ".php", ".lua", ".sh", ".jar",
    ".class", ".tcl",
];

/// The verdicts of one image: the closure (if the config names an entrypoint) and the index
/// of its files' loading facts.
pub struct Verdicts<'a> {
    index: &'a LoadIndex<'a>,
    closure: Option<&'a Closure>,
}

impl<'a> Verdicts<'a> {
    pub fn new(index: &'a LoadIndex<'a>, closure: Option<&'a Closure>) -> Verdicts<'a> {
        Verdicts { index, closure }
    }

    /// The verdict for `package`. Only a claim the evidence carries: `unreachable` needs a
    /// package made only of ELF objects, none in the closure, and a closure that holds
    /// nothing able to load them otherwise.
    pub fn package(&self, package: &Package) -> Reachability {
        let Some(closure) = self.closure else {
            return unknown("the image config names no ENTRYPOINT or CMD");
        };
        if closure.nodes.is_empty() {
            // Nothing would start; saying "unreachable" of everything would be true and useless.
            return unknown(format!(
                "the entrypoint's program is not found in the image ({})",
                closure.missing.join(", ")
            ));
        }
        // The package's files as the final filesystem shows them. A language package found
        // inside a binary (Go, Rust) is that binary.
        let binary_owned = matches!(package.ecosystem, Ecosystem::Go | Ecosystem::Cargo);
        let mut paths: Vec<&String> = package.files.iter().collect();
        if binary_owned {
            paths.extend(&package.found_in);
        }
        let mut contents: Vec<String> = Vec::new();
        for path in paths {
            let Some(content) = self.index.owned_content(path) else {
                continue;
            };
            if let Some(node) = closure.contains(&content) {
                let mut chain = closure.chain(node);
                chain.push(package.purl.to_string());
                let how = if binary_owned {
                    "it is built into a binary the entrypoint runs (which of its functions run is not analysed yet)"
                } else {
                    "the entrypoint loads its file"
                };
                return Reachability {
                    verdict: ReachVerdict::Reachable,
                    chain,
                    reason: format!("{how}: /{content}"),
                };
            }
            contents.push(content);
        }
        if !package.ecosystem.is_os() && !binary_owned {
            return unknown("import graphs not analysed yet");
        }
        let elf: Vec<&String> = contents
            .iter()
            .filter(|c| self.index.elf(c).is_some())
            .collect();
        if elf.is_empty() {
            return unknown(
                "it has no ELF object in the image (scripts or data): only ELF linkage is analysed",
            );
        }
        if let Some(script) = contents
            .iter()
            .find(|c| self.index.is_script(c) || SCRIPT_ENDINGS.iter().any(|e| c.ends_with(e)))
        {
            return unknown(format!(
                "it also holds code an interpreter loads (/{script}), which is not analysed yet"
            ));
        }
        if closure.truncated {
            return unknown("the entrypoint's closure was too large to follow to the end");
        }
        if let Some(open) = closure.open.first() {
            return unknown(format!(
                "none of its files is in the entrypoint's closure, but {}, in the closure, {}",
                open.path, open.why
            ));
        }
        for c in &elf {
            let name = c.rsplit('/').next().unwrap_or(c);
            for host in &closure.plugin_hosts {
                let plugin = match host {
                    // NSS and gconv modules; libgcc_s for unwinding (pthread_cancel,
                    // backtrace); libidn2 for IDN host names.
                    PluginHost::Glibc => {
                        name.starts_with("libnss_")
                            || c.contains("/gconv/")
                            || name.starts_with("libgcc_s.so")
                            || name.starts_with("libidn2.so")
                    }
                    PluginHost::Pam => c.contains("/security/"),
                };
                if plugin {
                    return unknown(format!(
                        "/{c} is a module {} loads at run time",
                        match host {
                            PluginHost::Glibc => "glibc (NSS, iconv, unwinding, IDN)",
                            PluginHost::Pam => "Linux-PAM",
                        }
                    ));
                }
            }
        }
        Reachability {
            verdict: ReachVerdict::Unreachable,
            chain: Vec::new(),
            reason: format!(
                "none of its {} ELF object(s) is loaded by the entrypoint's closure ({} files), \
                 which holds no interpreter, dlopen or exec caller (static analysis; not proof \
                 that the code is absent)",
                elf.len(),
                closure.nodes.len()
            ),
        }
    }

    /// The verdict of every package, by purl.
    pub fn packages(&self, packages: &[Package]) -> PackageVerdicts {
        PackageVerdicts(
            packages
                .iter()
                .map(|p| (p.purl.to_string(), self.package(p)))
                .collect(),
        )
    }
}

/// Verdicts by package purl, kept after the image's facts are freed.
#[derive(Debug, Clone, Default)]
pub struct PackageVerdicts(pub HashMap<String, Reachability>);

impl PackageVerdicts {
    /// Sets `reachability` on every finding, from its package.
    pub fn apply(&self, findings: &mut [VulnerabilityFinding]) {
        for finding in findings {
            let verdict = self
                .0
                .get(&finding.package.purl.to_string())
                .cloned()
                .unwrap_or_else(|| unknown("its package is not in the image's inventory"));
            finding.reachability = Some(verdict);
        }
    }

    /// How many packages got each verdict: (reachable, unreachable, unknown).
    pub fn counts(&self) -> (usize, usize, usize) {
        let count = |v| self.0.values().filter(|r| r.verdict == v).count();
        (
            count(ReachVerdict::Reachable),
            count(ReachVerdict::Unreachable),
            count(ReachVerdict::Unknown),
        )
    }
}

fn unknown(reason: impl Into<String>) -> Reachability {
    Reachability {
        verdict: ReachVerdict::Unknown,
        chain: Vec::new(),
        reason: reason.into(),
    }
}
