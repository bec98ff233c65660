//! Why a notifier could not be set up.

use std::path::PathBuf;

/// A [`Notifier`](crate::Notifier) that could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("CA certificate file {}: {message}", path.display())]
    CaFile { path: PathBuf, message: String },
}
