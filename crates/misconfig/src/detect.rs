//! Which kind of configuration a file holds, from its name first and its content second.

use std::path::Path;

/// The kinds of file `bulwark config` understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileKind {
    Dockerfile,
    /// YAML or JSON with `apiVersion` and `kind` (one or many documents).
    Kubernetes,
    Compose,
    /// Docker's `daemon.json`.
    DaemonJson,
    /// A Rego policy (loaded, not scanned).
    Rego,
}

impl FileKind {
    /// The checks that apply to this kind of file.
    pub fn check_kind(self) -> Option<crate::CheckKind> {
        match self {
            FileKind::Dockerfile => Some(crate::CheckKind::Dockerfile),
            FileKind::Kubernetes => Some(crate::CheckKind::Kubernetes),
            FileKind::Compose => Some(crate::CheckKind::Compose),
            FileKind::DaemonJson => Some(crate::CheckKind::Daemon),
            FileKind::Rego => None,
        }
    }
}

/// What a file's name alone says about its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByName {
    Kind(FileKind),
    /// YAML or JSON whose kind only its content tells.
    NeedsContent {
        yaml: bool,
    },
    /// Not a configuration bulwark checks.
    Other,
}

/// The kind a file name (the last path component) promises; cheap enough for every file of
/// a tree or an image layer.
pub fn by_name(file_name: &str) -> ByName {
    let name = file_name.to_ascii_lowercase();
    if name == "dockerfile"
        || name == "containerfile"
        || name.starts_with("dockerfile.")
        || name.ends_with(".dockerfile")
        || name.ends_with(".containerfile")
    {
        return ByName::Kind(FileKind::Dockerfile);
    }
    if name == "daemon.json" {
        return ByName::Kind(FileKind::DaemonJson);
    }
    if name.ends_with(".rego") {
        return ByName::Kind(FileKind::Rego);
    }
    let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
    if yaml
        && (name.starts_with("docker-compose")
            || name.starts_with("compose.")
            || name.starts_with("compose-"))
    {
        return ByName::Kind(FileKind::Compose);
    }
    if yaml || name.ends_with(".json") {
        ByName::NeedsContent { yaml }
    } else {
        ByName::Other
    }
}

/// The kind of `path`, judged by name, then (for YAML/JSON) by a look at `bytes`.
/// `None`: not a configuration bulwark checks.
pub fn detect(path: &Path, bytes: &[u8]) -> Option<FileKind> {
    let yaml = match by_name(&path.file_name()?.to_string_lossy()) {
        ByName::Kind(kind) => return Some(kind),
        ByName::NeedsContent { yaml } => yaml,
        ByName::Other => return None,
    };
    let text = std::str::from_utf8(bytes).ok()?;
    if has_top_level_key(text, "apiVersion") && has_top_level_key(text, "kind") {
        return Some(FileKind::Kubernetes);
    }
    if yaml && has_top_level_key(text, "services") {
        return Some(FileKind::Compose);
    }
    None
}

/// Whether a line starts with `key:` (YAML; indented too, for flow-style documents written
/// `{\n  apiVersion: "v1",`) or the text has `"key":` (JSON): a cheap look that avoids
/// parsing every YAML file in a source tree.
fn has_top_level_key(text: &str, key: &str) -> bool {
    text.lines().any(|l| {
        l.trim_start()
            .strip_prefix(key)
            .is_some_and(|rest| rest.starts_with(':'))
            || l.trim_start()
                .strip_prefix('"')
                .and_then(|r| r.strip_prefix(key))
                .is_some_and(|r| r.starts_with("\":"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_name_and_content() {
        let d = |p: &str, b: &str| detect(Path::new(p), b.as_bytes());
        assert_eq!(d("app/Dockerfile", ""), Some(FileKind::Dockerfile));
        assert_eq!(d("Dockerfile.prod", ""), Some(FileKind::Dockerfile));
        assert_eq!(d("web.dockerfile", ""), Some(FileKind::Dockerfile));
        assert_eq!(d("Containerfile", ""), Some(FileKind::Dockerfile));
        assert_eq!(
            d("etc/docker/daemon.json", "{}"),
            Some(FileKind::DaemonJson)
        );
        assert_eq!(d("docker-compose.yml", ""), Some(FileKind::Compose));
        assert_eq!(
            d("stack.yaml", "services:\n  web: {}\n"),
            Some(FileKind::Compose)
        );
        assert_eq!(
            d("deploy.yaml", "apiVersion: v1\nkind: Pod\n"),
            Some(FileKind::Kubernetes)
        );
        assert_eq!(
            d(
                "pod.json",
                "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"Pod\"\n}"
            ),
            Some(FileKind::Kubernetes)
        );
        assert_eq!(
            d(
                "pod.yaml",
                "---\n{\n  apiVersion: \"v1\",\n  kind: \"Pod\",\n}\n"
            ),
            Some(FileKind::Kubernetes)
        );
        assert_eq!(d("values.yaml", "replicas: 2\n"), None);
        assert_eq!(d("main.rs", "fn main() {}"), None);
    }
}
