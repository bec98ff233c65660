use bulwark_types::{
    Ecosystem, Evidence, Misconfiguration, OsRelease, PackageRole, PackageSource, SecretHit,
};
use serde::{Deserialize, Serialize};

/// The kind of a layer entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Regular,
    Dir,
    Symlink,
    Hardlink,
    Other,
}

/// What an analyzer may look at to decide whether it wants a file: no content, so deciding
/// costs a few string comparisons per entry.
#[derive(Debug, Clone, Copy)]
pub struct FileMeta<'a> {
    /// Image-relative, normalized (`etc/os-release`, no leading `/`).
    pub path: &'a str,
    pub kind: FileKind,
    pub size: u64,
    pub mode: u32,
}

impl FileMeta<'_> {
    pub fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(self.path)
    }
}

/// An analyzer's answer to [`FileMeta`]: skip it, read up to `max_bytes` of it, or read it
/// only if it starts with one of `magic` (binaries and archives, which no path identifies).
/// A file larger than the cap is not read, and a diagnostic says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interest {
    Skip,
    Read {
        max_bytes: u64,
    },
    ReadIfMagic {
        max_bytes: u64,
        magic: &'static [&'static [u8]],
    },
}

/// One package as its database describes it, before the image-wide join gives it a purl and
/// an introducing layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRecord {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<PackageSource>,
    /// rpm's epoch, kept apart because rpm purls carry it as a qualifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epoch: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// The purl namespace where the name alone does not carry it (Maven groupId, Go module
    /// path prefix, Composer vendor).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Only needed to develop or build (npm devDependencies, poetry dev groups).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dev: bool,
    /// Found by a heuristic (a file name) rather than package metadata.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inferred: bool,
    /// Names of the packages this one depends on, as its metadata lists them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
    /// Installed (its own metadata is here) or only declared by a manifest or lockfile.
    #[serde(default, skip_serializing_if = "Evidence::is_installed")]
    pub evidence: Evidence,
    /// Purl qualifiers of a language package that its name and version do not identify alone
    /// (a conda build and channel, a Julia package's UUID), as `(key, value)` pairs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub qualifiers: Vec<(String, String)>,
    /// The project itself or a workspace member (see [`PackageRole`]).
    #[serde(default, skip_serializing_if = "PackageRole::is_dependency")]
    pub role: PackageRole,
}

impl PackageRecord {
    /// A record with only the identifying fields set.
    pub fn new(ecosystem: Ecosystem, name: impl Into<String>, version: impl Into<String>) -> Self {
        PackageRecord {
            ecosystem,
            name: name.into(),
            version: version.into(),
            arch: None,
            source: None,
            epoch: None,
            licenses: Vec::new(),
            files: Vec::new(),
            namespace: None,
            dev: false,
            inferred: false,
            dependencies: Vec::new(),
            evidence: Evidence::Installed,
            qualifiers: Vec::new(),
            role: PackageRole::Dependency,
        }
    }

    /// The same record with one more purl qualifier (an empty value is left out).
    pub fn qualifier(mut self, key: &str, value: impl Into<String>) -> Self {
        let value = value.into();
        if !value.is_empty() {
            self.qualifiers.push((key.to_string(), value));
        }
        self
    }

    /// The same record, marked as the project itself or a workspace member.
    pub fn with_role(mut self, role: PackageRole) -> Self {
        self.role = role;
        self
    }

    /// The same record, marked as only declared (by a manifest or lockfile).
    pub fn declared(mut self) -> Self {
        self.evidence = Evidence::Declared;
        self
    }
}

/// A typed fact an analyzer found in one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fact {
    /// The file describes the operating system.
    Os(OsRelease),
    /// The file is (part of) a package database: these packages are installed.
    Packages { records: Vec<PackageRecord> },
    /// The file lists the files a package owns (dpkg `info/*.list`, distroless `*.md5sums`).
    OwnedFiles {
        ecosystem: Ecosystem,
        package: String,
        files: Vec<String>,
    },
    /// A secret in the file's bytes (already redacted).
    Secret(SecretHit),
    /// A secret in a member of the file, an archive: `member` is the path inside it, nested
    /// archives joined by `!/` (`lib/b.jar!/conf/app.properties`).
    SecretInArchive { member: String, hit: SecretHit },
    /// The file declares a package's licences (dpkg `copyright`).
    Licenses {
        ecosystem: Ecosystem,
        package: String,
        licenses: Vec<String>,
    },
    /// The file is a configuration (a Dockerfile, manifest, compose file) that breaks a check;
    /// its location's path is the image path, its layer is set when the image is assembled.
    Misconfiguration(Misconfiguration),
    /// The file is an ELF object: what the dynamic loader needs to load it (reachability).
    ElfLinks(ElfLinks),
    /// The file is an executable script: the interpreter its `#!` line names.
    Shebang {
        interpreter: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        argument: Option<String>,
    },
    /// The file is the dynamic loader's configuration (`/etc/ld.so.conf` or a file it
    /// includes): library directories and `include` patterns, in order.
    LdSoConf {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        dirs: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        includes: Vec<String>,
        /// `/etc/ld.so.preload`: libraries loaded into every dynamically linked program.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        preload: Vec<String>,
    },
}

/// What an ELF object's headers say about loading it: only what `ld.so` reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElfLinks {
    /// `ELFCLASS64` (else 32-bit): `ld.so` skips libraries of the other class.
    pub class64: bool,
    /// `e_machine`: `ld.so` skips libraries built for another machine.
    pub machine: u16,
    /// `PT_INTERP`: the program interpreter (the dynamic loader) an executable names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpreter: Option<String>,
    /// `DT_NEEDED` names, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub needed: Vec<String>,
    /// `DT_RPATH` directories (ignored by `ld.so` when `DT_RUNPATH` is present).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rpath: Vec<String>,
    /// `DT_RUNPATH` directories.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runpath: Vec<String>,
    /// Whether the object imports `dlopen`/`dlmopen` (or its symbols could not be read, so it
    /// may): it can load libraries no `DT_NEEDED` names.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub loads_libraries: bool,
    /// Whether the object imports `execve`, `system`, `posix_spawn` or a relative, or cannot
    /// be shown not to run programs (static and Go binaries make the system call themselves).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub runs_programs: bool,
}

/// The facts one analyzer found in one file of one layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathFacts {
    pub path: String,
    pub analyzer: String,
    pub facts: Vec<Fact>,
}

/// One entry of a layer's file index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub path: String,
    pub kind: FileKind,
    pub size: u64,
    pub mode: u32,
    /// Symlink target as written, or hard link target normalized.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiagnosticLevel {
    /// Something was skipped by design (a limit); the results are complete otherwise.
    Warning,
    /// Something could not be analyzed: results may be missing.
    Error,
}

/// A problem met while scanning that did not stop the scan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Diagnostic {
    pub level: DiagnosticLevel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analyzer: Option<String>,
    pub message: String,
}

/// Everything the single pass learned from one layer. This is what the cache stores.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LayerFacts {
    pub files: Vec<FileRecord>,
    /// Paths a `.wh.NAME` entry deletes from lower layers.
    pub whiteouts: Vec<String>,
    /// Directories whose lower-layer contents a `.wh..wh..opq` entry hides.
    pub opaque_dirs: Vec<String>,
    pub facts: Vec<PathFacts>,
    pub diagnostics: Vec<Diagnostic>,
}
