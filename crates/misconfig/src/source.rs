//! The files a configuration scan reads, and the ones it could not.

use crate::detect::FileKind;

/// One file to check, already in memory.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// As shown in findings: the path the user named, or an image path.
    pub path: String,
    pub kind: FileKind,
    pub bytes: Vec<u8>,
}

/// A file that could not be checked, and why (with the line when the parser knows it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileError {
    pub path: String,
    pub line: Option<usize>,
    pub message: String,
}

impl FileError {
    pub fn new(path: &str, line: Option<usize>, message: impl Into<String>) -> FileError {
        FileError {
            path: path.to_string(),
            line,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}
