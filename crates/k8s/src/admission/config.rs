//! The `admission:` section of bulwark.yaml: the mode of each namespace, the signature
//! requirement and what to do with an image nothing is known about.
//!
//! ```yaml
//! admission:
//!   default: enforce            # enforce | warn | audit; enforce when unset
//!   namespaces: {dev: warn, legacy: audit}
//!   require-signature: cosign.pub   # relative to bulwark.yaml
//!   unknown-images: allow       # allow (with a warning) | deny
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// What the webhook does with a request that fails the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Denied, with a status message listing the reasons.
    #[default]
    Enforce,
    /// Allowed, with the reasons as `warnings` (kubectl prints them).
    Warn,
    /// Allowed silently; the reasons are only logged.
    Audit,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Warn => "warn",
            Mode::Audit => "audit",
        }
    }
}

/// An image with no stored result and no scan finished within the request's deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownImages {
    /// Admitted with a warning: a webhook that blocks every new image until it is scanned
    /// stops deployments the first time a new tag ships.
    #[default]
    Allow,
    /// Counted as a failure (denied in enforce namespaces).
    Deny,
}

/// The parsed `admission:` section.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AdmissionSection {
    #[serde(default)]
    pub default: Mode,
    #[serde(default)]
    pub namespaces: BTreeMap<String, Mode>,
    #[serde(default)]
    pub require_signature: Option<PathBuf>,
    #[serde(default)]
    pub unknown_images: UnknownImages,
}

impl AdmissionSection {
    /// The mode of `namespace` (cluster-scoped objects take the default).
    pub fn mode(&self, namespace: Option<&str>) -> Mode {
        namespace
            .and_then(|ns| self.namespaces.get(ns).copied())
            .unwrap_or(self.default)
    }

    /// Reads the `admission:` section of bulwark.yaml text (`name` for errors; relative
    /// paths are relative to `dir`). Other keys are the scan settings' and are left alone.
    pub fn from_config_text(
        text: &str,
        name: &str,
        dir: &Path,
    ) -> Result<AdmissionSection, String> {
        #[derive(Deserialize)]
        struct File {
            #[serde(default)]
            admission: Option<AdmissionSection>,
        }
        if text.trim().is_empty() {
            return Ok(AdmissionSection::default());
        }
        let file: File =
            serde_saphyr::from_str(text).map_err(|e| format!("{name}: admission: {e}"))?;
        let mut section = file.admission.unwrap_or_default();
        if let Some(key) = &section.require_signature {
            if key.is_relative() {
                section.require_signature = Some(dir.join(key));
            }
        }
        Ok(section)
    }
}
