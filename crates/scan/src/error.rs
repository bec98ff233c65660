use std::path::PathBuf;

/// Why a scan stopped. Problems with single files are not errors: they are diagnostics in
/// the report, and the scan goes on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the scan was cancelled")]
    Cancelled,
    #[error(transparent)]
    Image(#[from] bulwark_image::ImageError),
    #[error(transparent)]
    Walk(bulwark_analyze::ScanError),
    #[error(transparent)]
    Cache(#[from] bulwark_analyze::CacheError),
    #[error(transparent)]
    AdvisoryDb(#[from] bulwark_vulndb::Error),
    #[error("no vulnerability database in {}; run `bulwark db update` (online) or `bulwark db import PATH...` (offline) first", .0.display())]
    NoAdvisoryDb(PathBuf),
    #[error("cannot read the secret config {}: {source}", path.display())]
    SecretConfigRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("secret config {}: {message}", path.display())]
    SecretConfig { path: PathBuf, message: String },
    #[error(transparent)]
    Sbom(#[from] bulwark_report::import::SbomFileError),
    /// Rego policies that do not load; each names its file.
    #[error("{} policy file{} could not be loaded; fix them and run again", .0.len(), if .0.len() == 1 { "" } else { "s" })]
    Policies(Vec<String>),
    #[error(transparent)]
    PolicyBudget(#[from] bulwark_misconfig::rego::BudgetExceeded),
    #[error("a scan needs something to read: name files or directories, or a host root")]
    NothingToScan,
    /// Signing or verifying a signature, or the `require_signature` gate.
    #[error("{0}")]
    Signature(String),
    #[error(transparent)]
    RegistryClient(#[from] bulwark_image::registry::RegistryError),
    /// The request asks for two things that exclude each other.
    #[error("{0}")]
    Contradiction(&'static str),
    #[error("the scan stopped on an internal error (a panic); please report it with the image that caused it")]
    Panicked,
    /// A setting that cannot be used as given (a platform that does not parse, a missing CA
    /// file, no cache directory to default to).
    #[error("{0}")]
    Settings(String),
    /// Listing a registry's repositories and tags.
    #[error("{0}")]
    Registry(String),
}

impl From<bulwark_analyze::ScanError> for Error {
    fn from(e: bulwark_analyze::ScanError) -> Error {
        match e {
            bulwark_analyze::ScanError::Cancelled => Error::Cancelled,
            e => Error::Walk(e),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error and its causes as one line, each said once: library errors already include their
/// cause in their message (`layer 0 (…): blob digest mismatch …`) while added context does
/// not. An error can quote input (a config value, a history line), so the text goes through
/// the built-in secret rules too.
pub fn error_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut message = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        cause = c.source();
    }
    let redactor = bulwark_secrets::Redactor::new(bulwark_secrets::Scanner::builtin(), []);
    redactor.redact(&message).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Context(&'static str, Option<Box<Context>>);

    impl std::fmt::Display for Context {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Context {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|c| c as _)
        }
    }

    /// A cause the message already quotes is not said twice; one it does not is appended.
    #[test]
    fn error_text_says_each_cause_once() {
        let inner = Context("digest mismatch", None);
        let middle = Context("layer 0: digest mismatch", Some(Box::new(inner)));
        let outer = Context("cannot scan x", Some(Box::new(middle)));
        assert_eq!(
            error_text(&outer),
            "cannot scan x: layer 0: digest mismatch"
        );
    }
}
