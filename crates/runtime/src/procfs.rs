//! What /proc says about a container's processes: their effective capabilities, the files they
//! map (`maps`, `exe`) and hold open (`fd`), and the container's own root filesystem as
//! `/proc/<pid>/root` shows it. Every read is bounded, and paths inside the container are
//! resolved here, one component at a time with `lstat`/`readlink`, so that a symlink in the
//! container never leads the reader to the host's files.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::caps;

/// `/proc/<pid>/status` is a few KiB.
const MAX_STATUS_BYTES: u64 = 64 << 10;
/// `/proc/<pid>/maps` of a large JVM is a few MiB.
pub const MAX_MAPS_BYTES: u64 = 16 << 20;
/// Open files read per process.
pub const MAX_FDS_PER_PROCESS: usize = 4096;
/// Processes read per container.
pub const MAX_PROCESSES: usize = 1024;
/// Symlinks followed while resolving one path (the kernel's own limit is 40).
const MAX_SYMLINK_HOPS: usize = 40;

/// The proc filesystem to read (`/proc`; a directory laid out like it in tests).
#[derive(Debug, Clone)]
pub struct ProcFs {
    root: PathBuf,
}

impl Default for ProcFs {
    fn default() -> Self {
        ProcFs {
            root: PathBuf::from("/proc"),
        }
    }
}

/// The files one process uses, as paths inside the container.
#[derive(Debug, Clone, Default)]
pub struct ProcessFiles {
    pub exe: Option<String>,
    pub mapped: BTreeSet<String>,
    pub open: BTreeSet<String>,
}

impl ProcFs {
    pub fn new(root: impl Into<PathBuf>) -> ProcFs {
        ProcFs { root: root.into() }
    }

    fn pid_dir(&self, pid: u32) -> PathBuf {
        self.root.join(pid.to_string())
    }

    /// Whether `pid` is a process of the container `id` by its cgroup (Docker's
    /// `docker/<id>`, `docker-<id>.scope`; Podman's `libpod-<id>`): a pid from an engine
    /// that is not on this machine, or not in this pid namespace, is someone else's process.
    pub fn belongs_to(&self, pid: u32, id: &str) -> io::Result<bool> {
        let text = read_bounded(&self.pid_dir(pid).join("cgroup"), MAX_STATUS_BYTES)?;
        Ok(!id.is_empty() && String::from_utf8_lossy(&text).contains(id))
    }

    /// The processes whose cgroup names the container `id`, for when the engine's `top`
    /// does not answer (Podman 4.3's compat `top` sends an empty body); at most
    /// [`MAX_PROCESSES`], in pid order.
    pub fn processes_of(&self, id: &str) -> Vec<u32> {
        let Ok(entries) = fs::read_dir(&self.root) else {
            return Vec::new();
        };
        let mut pids: Vec<u32> = entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .collect();
        pids.sort_unstable();
        pids.into_iter()
            .filter(|&pid| self.belongs_to(pid, id).unwrap_or(false))
            .take(MAX_PROCESSES)
            .collect()
    }

    /// The decoded `CapEff` of `pid`.
    pub fn effective_capabilities(&self, pid: u32) -> io::Result<BTreeSet<String>> {
        let status = read_bounded(&self.pid_dir(pid).join("status"), MAX_STATUS_BYTES)?;
        let status = String::from_utf8_lossy(&status);
        status
            .lines()
            .find_map(|l| l.strip_prefix("CapEff:"))
            .and_then(caps::decode)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no CapEff line"))
    }

    /// The executable, mapped files and open files of `pid`. `maps` must be readable (it is
    /// the evidence); `exe` and `fd` are read when they are.
    pub fn files(&self, pid: u32) -> io::Result<ProcessFiles> {
        let dir = self.pid_dir(pid);
        let maps = read_bounded(&dir.join("maps"), MAX_MAPS_BYTES)?;
        let mut files = ProcessFiles::default();
        for line in String::from_utf8_lossy(&maps).lines() {
            // address perms offset dev inode pathname: the path is what follows the fifth field.
            let mut rest = line;
            for _ in 0..5 {
                rest = rest.trim_start();
                rest = rest.find(' ').map(|i| &rest[i..]).unwrap_or("");
            }
            if let Some(path) = file_path(rest.trim()) {
                files.mapped.insert(path);
            }
        }
        files.exe = fs::read_link(dir.join("exe"))
            .ok()
            .and_then(|p| file_path(&p.to_string_lossy()));
        if let Ok(fds) = fs::read_dir(dir.join("fd")) {
            for entry in fds.flatten().take(MAX_FDS_PER_PROCESS) {
                if let Some(path) = fs::read_link(entry.path())
                    .ok()
                    .and_then(|p| file_path(&p.to_string_lossy()))
                {
                    files.open.insert(path);
                }
            }
        }
        Ok(files)
    }

    /// The container's root filesystem through `pid`.
    pub fn container_root(&self, pid: u32) -> ContainerRoot {
        ContainerRoot {
            base: self.pid_dir(pid).join("root"),
            dirs: HashMap::new(),
        }
    }
}

/// A path as /proc shows it, if it names a file in the container's filesystem (not an
/// anonymous mapping, a socket, a pipe or a pseudo file).
fn file_path(raw: &str) -> Option<String> {
    let path = raw.strip_suffix(" (deleted)").unwrap_or(raw);
    if !path.starts_with('/') {
        return None;
    }
    let pseudo = ["/proc/", "/sys/", "/dev/", "/memfd:"];
    if pseudo.iter().any(|p| path.starts_with(p)) {
        return None;
    }
    Some(path.to_string())
}

/// Opens a regular file for reading and nothing else: without blocking (a FIFO a container
/// planted where a file list should be would otherwise stall the audit), and refused when
/// what was opened is not a regular file.
pub fn open_regular(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not a regular file", path.display()),
        ));
    }
    Ok(file)
}

/// Reads at most `limit` bytes of a regular file (an error past it).
pub fn read_bounded(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    open_regular(path)?.take(limit + 1).read_to_end(&mut out)?;
    if out.len() as u64 > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} is larger than {limit} bytes", path.display()),
        ));
    }
    Ok(out)
}

/// A container's root filesystem seen through `/proc/<pid>/root`, with paths resolved inside
/// it. Resolved directories are remembered, so resolving every file of every package stats
/// each directory once.
#[derive(Debug)]
pub struct ContainerRoot {
    base: PathBuf,
    dirs: HashMap<String, Option<String>>,
}

impl ContainerRoot {
    /// A root at `base` (a directory standing for `/proc/<pid>/root`).
    pub fn at(base: impl Into<PathBuf>) -> ContainerRoot {
        ContainerRoot {
            base: base.into(),
            dirs: HashMap::new(),
        }
    }

    /// Where `path` (absolute, inside the container, without symlinks) is on this machine.
    pub fn host_path(&self, path: &str) -> PathBuf {
        self.base.join(path.trim_start_matches('/'))
    }

    pub fn readable(&self) -> bool {
        fs::read_dir(&self.base).is_ok()
    }

    /// `path` with every symlink resolved inside the root; a final component that does not
    /// exist stays as it is. `None` for a loop or a path that does not resolve.
    pub fn resolve(&mut self, path: &str) -> Option<String> {
        let mut pending: Vec<String> = path
            .split('/')
            .rev()
            .filter(|c| !c.is_empty() && *c != ".")
            .map(str::to_string)
            .collect();
        let mut out: Vec<String> = Vec::new();
        let mut hops = 0;
        while let Some(part) = pending.pop() {
            if part == ".." {
                out.pop();
                continue;
            }
            if part == "." {
                continue;
            }
            let candidate = format!(
                "/{}",
                out.iter()
                    .chain([&part])
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("/")
            );
            // Every component before `part` is resolved, so lstat follows no link of the
            // container's: only the last component is looked at, and not followed.
            match fs::symlink_metadata(self.host_path(&candidate)) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    hops += 1;
                    if hops > MAX_SYMLINK_HOPS {
                        return None;
                    }
                    let target = fs::read_link(self.host_path(&candidate)).ok()?;
                    let target = target.to_string_lossy();
                    if target.starts_with('/') {
                        out.clear();
                    }
                    pending.extend(
                        target
                            .split('/')
                            .rev()
                            .filter(|c| !c.is_empty())
                            .map(str::to_string),
                    );
                }
                _ => out.push(part),
            }
        }
        Some(format!("/{}", out.join("/")))
    }

    /// `path` with its directory resolved (cached per directory) and its file name kept: a
    /// package file list names both a library's symlink and its target, and /proc shows
    /// the target.
    pub fn resolve_dir_of(&mut self, path: &str) -> Option<String> {
        let (dir, name) = path.rsplit_once('/')?;
        let dir = if dir.is_empty() { "/" } else { dir };
        let resolved = match self.dirs.get(dir) {
            Some(r) => r.clone(),
            None => {
                let r = self.resolve(dir);
                self.dirs.insert(dir.to_string(), r.clone());
                r
            }
        }?;
        Some(if resolved == "/" {
            format!("/{name}")
        } else {
            format!("{resolved}/{name}")
        })
    }

    /// lstat of a resolved path, and its first bytes when it is a regular file.
    pub fn inspect_file(&mut self, path: &str) -> Option<(fs::Metadata, Vec<u8>)> {
        let resolved = self.resolve(path)?;
        let host = self.host_path(&resolved);
        let meta = fs::symlink_metadata(&host).ok()?;
        let mut head = Vec::new();
        if meta.is_file() {
            if let Ok(f) = open_regular(&host) {
                let _ = f.take(4).read_to_end(&mut head);
            }
        }
        Some((meta, head))
    }
}

/// For each file in use, the pids that use it.
pub type FilesInUse = BTreeMap<String, BTreeSet<u32>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_resolve_inside_the_root_never_outside() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("usr/lib")).unwrap();
        fs::write(root.join("usr/lib/libc.so.6"), b"\x7fELF").unwrap();
        std::os::unix::fs::symlink("usr/lib", root.join("lib")).unwrap();
        // An absolute link: inside the container it means the container's /usr, never the host's.
        std::os::unix::fs::symlink("/usr", root.join("abs")).unwrap();
        std::os::unix::fs::symlink("/etc/../../../../etc", root.join("escape")).unwrap();
        std::os::unix::fs::symlink("loop", root.join("loop")).unwrap();
        let mut r = ContainerRoot::at(root);
        assert_eq!(r.resolve("/lib/libc.so.6").unwrap(), "/usr/lib/libc.so.6");
        assert_eq!(
            r.resolve("/abs/lib/libc.so.6").unwrap(),
            "/usr/lib/libc.so.6"
        );
        assert_eq!(r.resolve("/escape/passwd").unwrap(), "/etc/passwd");
        assert_eq!(
            r.resolve_dir_of("/lib/libc.so.6").unwrap(),
            "/usr/lib/libc.so.6"
        );
        assert!(r.resolve("/loop/x").is_none());
        assert_eq!(r.resolve("/../../x").unwrap(), "/x");
    }

    #[test]
    fn a_fifo_where_a_file_should_be_is_refused_not_waited_on() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("RECORD");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("skipping: mkfifo is not available");
            return;
        }
        let started = std::time::Instant::now();
        assert!(read_bounded(&fifo, 1024).is_err());
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn maps_lines_give_their_file_paths() {
        let dir = tempfile::tempdir().unwrap();
        let pid = dir.path().join("42");
        fs::create_dir_all(pid.join("fd")).unwrap();
        fs::write(
            pid.join("maps"),
            "7f00-7f01 r-xp 00000000 08:01 1234   /usr/lib/x86_64-linux-gnu/libc.so.6\n\
             7f02-7f03 rw-p 00000000 00:00 0 \n\
             7f04-7f05 r--p 00000000 08:01 99   /opt/app/lib with space.so (deleted)\n\
             7ffd-7ffe rw-p 00000000 00:00 0   [stack]\n",
        )
        .unwrap();
        std::os::unix::fs::symlink("/app/lib/x.jar", pid.join("fd/3")).unwrap();
        std::os::unix::fs::symlink("socket:[1234]", pid.join("fd/4")).unwrap();
        std::os::unix::fs::symlink("/usr/bin/java", pid.join("exe")).unwrap();
        let files = ProcFs::new(dir.path()).files(42).unwrap();
        assert_eq!(
            files.mapped.iter().map(String::as_str).collect::<Vec<_>>(),
            vec![
                "/opt/app/lib with space.so",
                "/usr/lib/x86_64-linux-gnu/libc.so.6"
            ]
        );
        assert_eq!(files.exe.as_deref(), Some("/usr/bin/java"));
        assert_eq!(
            files.open.iter().collect::<Vec<_>>(),
            vec!["/app/lib/x.jar"]
        );
    }
}
