use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::registry::ImageName;
use crate::ImageError;
use bulwark_engine::Engine;

/// How an image is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// An OCI image layout directory (`oci-layout`, `index.json`, `blobs/`).
    OciLayout,
    /// A tar of an OCI image layout.
    OciArchive,
    /// `docker save` output (with `manifest.json`, or the older per-layer directories).
    DockerArchive,
    /// An unpacked root filesystem.
    Rootfs,
    /// An image in a registry, read through the distribution API.
    Registry,
    /// An image in a local container engine, read through its API socket.
    Engine(Engine),
}

/// A parsed image reference: where the image is and, for layouts, which image inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRef {
    pub kind: SourceKind,
    pub path: PathBuf,
    /// The `org.opencontainers.image.ref.name` to pick in a layout with several images.
    pub name: Option<String>,
    /// The image name, for [`SourceKind::Registry`].
    pub registry: Option<ImageName>,
    /// The name as the user wrote it, for engines: the image of [`SourceKind::Engine`], or,
    /// with [`SourceKind::Registry`], a bare name that is looked for in the engines (in
    /// `--source` order) before its registry.
    pub engine_name: Option<String>,
}

impl SourceRef {
    /// Parses `oci:DIR[:NAME]`, `oci-archive:FILE[:NAME]`, `docker-archive:FILE`, `dir:DIR`,
    /// `registry:NAME` or `docker://NAME`, `docker:NAME` (or `docker-daemon:NAME`) and
    /// `podman:NAME` for a local engine's image, or a bare path whose kind is detected from its
    /// contents. A bare string that is no existing path but is a valid image name
    /// (`nginx:1.25`, `ghcr.io/org/app@sha256:…`) names an image looked for in the local
    /// engines and then its registry (see [`crate::open_with_sources`]).
    pub fn parse(input: &str) -> Result<SourceRef, ImageError> {
        for prefix in ["registry:", "docker://"] {
            if let Some(rest) = input.strip_prefix(prefix) {
                let name = ImageName::parse(rest).map_err(ImageError::BadReference)?;
                return Ok(SourceRef::registry(name));
            }
        }
        for (prefix, engine) in [
            ("docker:", Engine::Docker),
            ("docker-daemon:", Engine::Docker),
            ("podman:", Engine::Podman),
        ] {
            if let Some(rest) = input.strip_prefix(prefix) {
                if rest.is_empty() || rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
                    return Err(ImageError::BadReference(format!(
                        "{input:?} names no image after {prefix:?} (e.g. {prefix}nginx:1.25)"
                    )));
                }
                return Ok(SourceRef {
                    kind: SourceKind::Engine(engine),
                    path: PathBuf::from(rest),
                    name: None,
                    registry: None,
                    engine_name: Some(rest.to_string()),
                });
            }
        }
        let prefixed = [
            ("oci:", SourceKind::OciLayout),
            ("oci-dir:", SourceKind::OciLayout),
            ("oci-archive:", SourceKind::OciArchive),
            ("docker-archive:", SourceKind::DockerArchive),
            ("dir:", SourceKind::Rootfs),
        ];
        for (prefix, kind) in prefixed {
            if let Some(rest) = input.strip_prefix(prefix) {
                if rest.is_empty() {
                    return Err(ImageError::BadReference(format!(
                        "{input:?} names no path after {prefix:?}"
                    )));
                }
                let (path, name) = split_name(rest, kind);
                return Ok(SourceRef {
                    kind,
                    path: PathBuf::from(path),
                    name,
                    registry: None,
                    engine_name: None,
                });
            }
        }
        let path = PathBuf::from(input);
        if !path.exists() && !looks_like_path(input) {
            if let Ok(name) = ImageName::parse(input) {
                let mut reference = SourceRef::registry(name);
                reference.engine_name = Some(input.to_string());
                return Ok(reference);
            }
        }
        let kind = detect(&path)?;
        Ok(SourceRef {
            kind,
            path,
            name: None,
            registry: None,
            engine_name: None,
        })
    }

    /// A registry image.
    pub fn registry(name: ImageName) -> SourceRef {
        SourceRef {
            kind: SourceKind::Registry,
            path: PathBuf::from(name.to_string()),
            name: None,
            registry: Some(name),
            engine_name: None,
        }
    }

    pub fn display_name(&self) -> String {
        let prefix = match self.kind {
            SourceKind::OciLayout => "oci",
            SourceKind::OciArchive => "oci-archive",
            SourceKind::DockerArchive => "docker-archive",
            SourceKind::Rootfs => "dir",
            SourceKind::Engine(engine) => {
                return format!("{engine}:{}", self.path.display());
            }
            SourceKind::Registry => {
                return match &self.registry {
                    Some(n) => n.to_string(),
                    None => self.path.display().to_string(),
                }
            }
        };
        match &self.name {
            Some(n) => format!("{prefix}:{}:{n}", self.path.display()),
            None => format!("{prefix}:{}", self.path.display()),
        }
    }
}

/// `oci:DIR:NAME` — the name is what follows the last `:` unless that turns the rest into a
/// path that does not exist while the whole does (a directory with `:` in its name).
fn split_name(rest: &str, kind: SourceKind) -> (&str, Option<String>) {
    if !matches!(kind, SourceKind::OciLayout | SourceKind::OciArchive) {
        return (rest, None);
    }
    match rest.rsplit_once(':') {
        Some((path, name))
            if !name.is_empty() && !name.contains('/') && !Path::new(rest).exists() =>
        {
            (path, Some(name.to_string()))
        }
        _ => (rest, None),
    }
}

/// Strings that are surely meant as paths, so a missing one gets the local error rather than a
/// registry lookup: absolute or relative-dot paths, home paths, archive file names.
fn looks_like_path(input: &str) -> bool {
    input.starts_with(['/', '.', '~', '\\'])
        || [".tar", ".tgz", ".tar.gz", ".tar.zst"]
            .iter()
            .any(|ext| input.ends_with(ext))
}

fn detect(path: &Path) -> Result<SourceKind, ImageError> {
    let meta = std::fs::metadata(path).map_err(|e| {
        ImageError::BadReference(format!(
            "{}: {e}. Name an image as oci:DIR, oci-archive:FILE, docker-archive:FILE, dir:DIR or registry:NAME (e.g. registry:docker.io/library/nginx:1.25)",
            path.display()
        ))
    })?;
    if meta.is_dir() {
        return Ok(if path.join("oci-layout").is_file() {
            SourceKind::OciLayout
        } else {
            SourceKind::Rootfs
        });
    }
    // A tar's first member name tells layout from docker save in nearly every archive; when it
    // does not, scanning the member list settles it.
    let mut header = [0u8; 512];
    let mut file = File::open(path).map_err(|e| ImageError::io(path, e))?;
    file.read_exact(&mut header).map_err(|_| {
        ImageError::BadReference(format!(
            "{} is neither a directory nor a tar archive",
            path.display()
        ))
    })?;
    if &header[257..262] != b"ustar" {
        return Err(ImageError::BadReference(format!(
            "{} is not a tar archive (if it is compressed, decompress it first)",
            path.display()
        )));
    }
    let index = crate::archive::ArchiveIndex::read(path)?;
    if index.get("oci-layout").is_some() && index.get("manifest.json").is_none() {
        Ok(SourceKind::OciArchive)
    } else {
        Ok(SourceKind::DockerArchive)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_prefixes() {
        let r = SourceRef::parse("oci:/nonexistent/layout:v1").unwrap();
        assert_eq!(r.kind, SourceKind::OciLayout);
        assert_eq!(r.path, PathBuf::from("/nonexistent/layout"));
        assert_eq!(r.name.as_deref(), Some("v1"));
        let r = SourceRef::parse("docker-archive:img.tar").unwrap();
        assert_eq!(r.kind, SourceKind::DockerArchive);
        assert!(SourceRef::parse("oci:").is_err());
        let r = SourceRef::parse("podman:localhost/app:1").unwrap();
        assert_eq!(r.kind, SourceKind::Engine(Engine::Podman));
        assert_eq!(r.engine_name.as_deref(), Some("localhost/app:1"));
        assert_eq!(r.display_name(), "podman:localhost/app:1");
        let r = SourceRef::parse("docker-daemon:app@sha256:abc").unwrap();
        assert_eq!(r.kind, SourceKind::Engine(Engine::Docker));
        assert!(SourceRef::parse("docker:").is_err());
    }

    #[test]
    fn registry_names_and_local_paths() {
        let r = SourceRef::parse("nginx:1.25").unwrap();
        assert_eq!(r.kind, SourceKind::Registry);
        assert_eq!(r.display_name(), "docker.io/library/nginx:1.25");
        assert_eq!(r.engine_name.as_deref(), Some("nginx:1.25"));
        let r = SourceRef::parse("docker://localhost:5000/app:tag").unwrap();
        assert_eq!(r.engine_name, None);
        assert_eq!(r.registry.unwrap().registry, "localhost:5000");
        let r = SourceRef::parse("registry:ghcr.io/org/app").unwrap();
        assert_eq!(r.registry.unwrap().repository, "org/app");
        assert!(SourceRef::parse("registry:Bad Name").is_err());
        // Paths stay paths, existing or not.
        assert!(SourceRef::parse("/nonexistent/image").is_err());
        assert!(SourceRef::parse("./missing").is_err());
        assert!(SourceRef::parse("missing-image.tar").is_err());
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().join("app");
        std::fs::create_dir(&local).unwrap();
        let r = SourceRef::parse(local.to_str().unwrap()).unwrap();
        assert_eq!(r.kind, SourceKind::Rootfs);
    }
}
