//! Reachability over a root filesystem built in the test from this machine's real binaries and
//! libraries (bzip2, dash, libbz2, libc, ld.so, libexpat, an NSS module), with a dpkg database
//! naming their packages. The closure of an executable is checked against the real loader:
//! `chroot ROOT /lib64/ld-linux-x86-64.so.2 --list EXE` on the same tree. The product never
//! unpacks anything; the test does, to have a ground truth.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use bulwark_analyze::{assemble, Analyzer, ImageFacts, NoProgress, Walker};
use bulwark_image::{Platform, SourceRef};
use bulwark_reach::{closure, EntrypointConfig, LinkageAnalyzer, LoadIndex, Verdicts};
use bulwark_types::{Package, ReachVerdict, Reachability};

const MULTIARCH: &str = "usr/lib/x86_64-linux-gnu";

/// Host files the test needs, or `None` (with a note) on a machine without them.
fn host_files() -> Option<Vec<&'static str>> {
    let needed = vec![
        "/usr/bin/bzip2",
        "/usr/bin/dash",
        "/lib/x86_64-linux-gnu/libbz2.so.1.0",
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
        "/lib/x86_64-linux-gnu/libexpat.so.1",
        "/lib/x86_64-linux-gnu/libnss_files.so.2",
    ];
    if cfg!(target_arch = "x86_64") && needed.iter().all(|p| Path::new(p).exists()) {
        Some(needed)
    } else {
        eprintln!("skipped: this test needs an x86_64 Debian-like host with {needed:?}");
        None
    }
}

struct Rootfs {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

fn symlink(root: &Path, link: &str, target: &str) {
    let at = root.join(link);
    std::fs::create_dir_all(at.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(target, at).unwrap();
}

fn copy(root: &Path, from: &str, to: &str) {
    let at = root.join(to);
    std::fs::create_dir_all(at.parent().unwrap()).unwrap();
    std::fs::copy(std::fs::canonicalize(from).unwrap(), at).unwrap();
}

/// A usr-merged Debian-like tree. Every link is relative, so the tree means the same inside
/// and outside a chroot.
fn build_rootfs() -> Rootfs {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("rootfs");
    std::fs::create_dir_all(&root).unwrap();
    for (link, target) in [
        ("bin", "usr/bin"),
        ("lib", "usr/lib"),
        ("lib64", "usr/lib64"),
        ("sbin", "usr/sbin"),
    ] {
        symlink(&root, link, target);
    }
    copy(&root, "/usr/bin/bzip2", "usr/bin/bzip2");
    copy(&root, "/usr/bin/dash", "usr/bin/dash");
    symlink(&root, "usr/bin/sh", "dash");
    for lib in [
        "libbz2.so.1.0",
        "libc.so.6",
        "ld-linux-x86-64.so.2",
        "libexpat.so.1",
        "libnss_files.so.2",
    ] {
        copy(
            &root,
            &format!("/lib/x86_64-linux-gnu/{lib}"),
            &format!("{MULTIARCH}/{lib}"),
        );
    }
    symlink(
        &root,
        "usr/lib64/ld-linux-x86-64.so.2",
        "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
    );
    std::fs::create_dir_all(root.join("etc/ld.so.conf.d")).unwrap();
    std::fs::write(
        root.join("etc/ld.so.conf"),
        "include /etc/ld.so.conf.d/*.conf\n",
    )
    .unwrap();
    std::fs::write(
        root.join("etc/ld.so.conf.d/x86_64-linux-gnu.conf"),
        "/usr/local/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu\n",
    )
    .unwrap();
    std::fs::write(
        root.join("etc/os-release"),
        "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nNAME=\"Debian GNU/Linux\"\n",
    )
    .unwrap();
    // The shell script the "script" entrypoint runs: it hands over to python.
    std::fs::write(
        root.join("entrypoint.sh"),
        "#!/bin/sh\nset -e\nexec python3 /app/main.py \"$@\"\n",
    )
    .unwrap();
    std::fs::set_permissions(
        root.join("entrypoint.sh"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();

    // Paths as dpkg lists them on a usr-merged system: many under /lib, resolved through the
    // `lib -> usr/lib` link.
    let packages: &[(&str, &[&str])] = &[
        ("bzip2", &["/bin/bzip2"]),
        ("dash", &["/bin/dash", "/bin/sh"]),
        ("libbz2-1.0", &["/lib/x86_64-linux-gnu/libbz2.so.1.0"]),
        (
            "libc6",
            &[
                "/lib/x86_64-linux-gnu/libc.so.6",
                "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
                "/lib64/ld-linux-x86-64.so.2",
            ],
        ),
        ("libexpat1", &["/lib/x86_64-linux-gnu/libexpat.so.1"]),
        ("libnss-extra", &["/lib/x86_64-linux-gnu/libnss_files.so.2"]),
    ];
    let mut status = String::new();
    std::fs::create_dir_all(root.join("var/lib/dpkg/info")).unwrap();
    for (name, files) in packages {
        status.push_str(&format!(
            "Package: {name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0-1\nDescription: test\n\n"
        ));
        let mut list = String::from("/.\n");
        for f in *files {
            list.push_str(f);
            list.push('\n');
        }
        std::fs::write(root.join(format!("var/lib/dpkg/info/{name}.list")), list).unwrap();
    }
    std::fs::write(root.join("var/lib/dpkg/status"), status).unwrap();
    Rootfs { _tmp: tmp, root }
}

/// The single pass over the tree with the catalog and the linkage analyzer, as a scan runs it.
fn facts(root: &Path) -> ImageFacts {
    let reference = SourceRef::parse(&format!("dir:{}", root.display())).unwrap();
    let image = bulwark_image::open(&reference, &Platform::host()).unwrap();
    let mut analyzers: Vec<Box<dyn Analyzer>> = bulwark_catalog::analyzers();
    analyzers.push(Box::new(LinkageAnalyzer));
    let walked = Walker::new(&analyzers).walk(&image, &NoProgress).unwrap();
    bulwark_catalog::finalize_packages(assemble(&image, walked))
}

fn config(argv: &[&str]) -> EntrypointConfig {
    EntrypointConfig {
        entrypoint: argv.iter().map(|s| s.to_string()).collect(),
        cmd: Vec::new(),
        env: vec!["PATH=/usr/local/bin:/usr/bin:/bin".into()],
        working_dir: None,
        healthcheck: None,
    }
}

fn package<'a>(facts: &'a ImageFacts, name: &str) -> &'a Package {
    facts
        .packages
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no package {name}: {:?}", facts.packages))
}

fn verdict(facts: &ImageFacts, argv: &[&str], name: &str) -> Reachability {
    let index = LoadIndex::new(facts);
    let closure = closure(&index, &config(argv));
    Verdicts::new(&index, closure.as_ref()).package(package(facts, name))
}

/// What the real loader loads for `exe`, as paths inside `root` with every link resolved.
fn loader_list(root: &Path, exe: &str) -> BTreeSet<String> {
    let out = Command::new("chroot")
        .arg(root)
        .args(["/lib64/ld-linux-x86-64.so.2", "--list", exe])
        .output()
        .expect("chroot runs");
    assert!(
        out.status.success(),
        "ld.so --list failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let canonical_root = std::fs::canonicalize(root).unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            let path = match line.split_once(" => ") {
                Some((_, rest)) => rest.split(" (").next()?,
                None => line.split(" (").next()?,
            };
            path.starts_with('/').then(|| {
                let real = std::fs::canonicalize(root.join(path.trim_start_matches('/'))).unwrap();
                real.strip_prefix(&canonical_root)
                    .unwrap()
                    .display()
                    .to_string()
            })
        })
        .collect()
}

fn can_chroot() -> bool {
    Command::new("chroot")
        .args(["/", "true"])
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn the_closure_of_a_real_executable_is_what_the_real_loader_loads() {
    let Some(_) = host_files() else { return };
    let fs = build_rootfs();
    let facts = facts(&fs.root);
    let index = LoadIndex::new(&facts);
    let closure = closure(&index, &config(&["bzip2", "-d"])).unwrap();
    let ours: BTreeSet<String> = closure
        .nodes
        .iter()
        .map(|n| n.path.clone())
        .filter(|p| p != "usr/bin/bzip2")
        .collect();
    assert_eq!(
        ours,
        BTreeSet::from([
            format!("{MULTIARCH}/libbz2.so.1.0"),
            format!("{MULTIARCH}/libc.so.6"),
            format!("{MULTIARCH}/ld-linux-x86-64.so.2"),
        ])
    );
    assert!(closure.open.is_empty(), "{:?}", closure.open);
    assert!(closure.missing.is_empty(), "{:?}", closure.missing);
    if can_chroot() {
        assert_eq!(ours, loader_list(&fs.root, "/usr/bin/bzip2"));
        // dash through the `sh` link, too.
        let sh = bulwark_reach::closure(&index, &config(&["sh", "-c", "true"])).unwrap();
        let ours: BTreeSet<String> = sh
            .nodes
            .iter()
            .map(|n| n.path.clone())
            .filter(|p| p != "usr/bin/dash")
            .collect();
        assert_eq!(ours, loader_list(&fs.root, "/bin/sh"));
    } else {
        eprintln!("chroot is not permitted here: the loader comparison is skipped");
    }
}

#[test]
fn verdicts_follow_the_closure_and_stay_unknown_where_code_could_be_loaded() {
    let Some(_) = host_files() else { return };
    let fs = build_rootfs();
    let facts = facts(&fs.root);

    // A linked library is reachable, with the chain to its package.
    let bz = verdict(&facts, &["bzip2", "-d"], "libbz2-1.0");
    assert_eq!(bz.verdict, ReachVerdict::Reachable, "{bz:?}");
    assert_eq!(bz.chain[0], "entrypoint: bzip2 -d");
    assert_eq!(bz.chain[1], "/usr/bin/bzip2");
    assert_eq!(bz.chain[2], format!("/{MULTIARCH}/libbz2.so.1.0"));
    assert!(
        bz.chain[3].starts_with("pkg:deb/debian/libbz2-1.0@1.0-1"),
        "{bz:?}"
    );
    let libc = verdict(&facts, &["bzip2"], "libc6");
    assert_eq!(libc.verdict, ReachVerdict::Reachable, "{libc:?}");

    // A library nothing links, in a closure that cannot load code by other means.
    let expat = verdict(&facts, &["bzip2"], "libexpat1");
    assert_eq!(expat.verdict, ReachVerdict::Unreachable, "{expat:?}");
    // An NSS module: glibc in the closure may load it at run time.
    let nss = verdict(&facts, &["bzip2"], "libnss-extra");
    assert_eq!(nss.verdict, ReachVerdict::Unknown, "{nss:?}");
    assert!(nss.reason.contains("glibc"), "{nss:?}");

    // Shell form: the commands of the string are followed, and the shell itself runs
    // nothing else.
    let shell = [
        "/bin/sh",
        "-c",
        "set -e; FOO=1 exec bzip2 -d /data/x.bz2 2>/dev/null",
    ];
    let bz = verdict(&facts, &shell, "libbz2-1.0");
    assert_eq!(bz.verdict, ReachVerdict::Reachable, "{bz:?}");
    assert_eq!(
        &bz.chain[1..3],
        ["/usr/bin/dash".to_string(), "/usr/bin/bzip2".to_string()]
    );
    assert_eq!(
        verdict(&facts, &shell, "libexpat1").verdict,
        ReachVerdict::Unreachable
    );
    // ... unless it expands a command word it cannot see through.
    let dynamic = verdict(&facts, &["/bin/sh", "-c", "$CMD --serve"], "libexpat1");
    assert_eq!(dynamic.verdict, ReachVerdict::Unknown, "{dynamic:?}");

    // A shell script that runs python: the script is reachable, unlinked libraries unknown.
    let script = ["/entrypoint.sh", "serve"];
    let expat = verdict(&facts, &script, "libexpat1");
    assert_eq!(expat.verdict, ReachVerdict::Unknown, "{expat:?}");
    assert!(expat.reason.contains("/usr/bin/dash"), "{expat:?}");
    let dash = verdict(&facts, &script, "dash");
    assert_eq!(dash.verdict, ReachVerdict::Reachable, "{dash:?}");
    assert_eq!(dash.chain[1], "/entrypoint.sh");

    // No entrypoint, or one that is not there: nothing is claimed.
    let index = LoadIndex::new(&facts);
    assert!(closure(&index, &EntrypointConfig::default()).is_none());
    let none = Verdicts::new(&index, None).package(package(&facts, "libexpat1"));
    assert_eq!(none.verdict, ReachVerdict::Unknown);
    let mut with_healthcheck = config(&["bzip2"]);
    with_healthcheck.healthcheck =
        Some("HEALTHCHECK &{[\"CMD-SHELL\" \"curl -f localhost\"]}".into());
    let healthcheck = closure(&index, &with_healthcheck).unwrap();
    let expat = Verdicts::new(&index, Some(&healthcheck)).package(package(&facts, "libexpat1"));
    assert_eq!(expat.verdict, ReachVerdict::Unknown, "{expat:?}");
    assert!(expat.reason.contains("HEALTHCHECK"), "{expat:?}");
    let missing = verdict(&facts, &["nginx"], "libexpat1");
    assert_eq!(missing.verdict, ReachVerdict::Unknown, "{missing:?}");
}

#[test]
fn hostile_trees_end_in_bounded_closures() {
    let Some(_) = host_files() else { return };
    let fs = build_rootfs();
    let root = &fs.root;
    // A symlink loop as the entrypoint.
    symlink(root, "usr/bin/spin", "spin2");
    symlink(root, "usr/bin/spin2", "spin");
    // A DT_NEEDED cycle: a copy of bzip2 needing a copy of libbz2 that needs the first copy
    // (the names are patched in place, same length).
    let patch = |from: &str, to: &str, old: &str, new: &str| {
        assert_eq!(old.len(), new.len());
        let mut bytes = std::fs::read(std::fs::canonicalize(from).unwrap()).unwrap();
        let at = bytes
            .windows(old.len() + 1)
            .position(|w| &w[..old.len()] == old.as_bytes() && w[old.len()] == 0)
            .expect("the name is in the string table");
        bytes[at..at + new.len()].copy_from_slice(new.as_bytes());
        std::fs::write(root.join(to), bytes).unwrap();
    };
    patch(
        "/usr/bin/bzip2",
        &format!("{MULTIARCH}/loopx.so9"),
        "libbz2.so.1.0",
        "loopy.so.1.00",
    );
    patch(
        "/lib/x86_64-linux-gnu/libbz2.so.1.0",
        &format!("{MULTIARCH}/loopy.so.1.00"),
        "libc.so.6",
        "loopx.so9",
    );
    // An ELF whose headers point past its end.
    let mut broken = std::fs::read("/usr/bin/bzip2").unwrap();
    broken[0x20..0x28].copy_from_slice(&u64::MAX.to_le_bytes()); // e_phoff
    std::fs::write(root.join("usr/bin/broken"), broken).unwrap();
    std::fs::set_permissions(
        root.join("usr/bin/broken"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();

    let facts = facts(root);
    assert!(
        facts
            .diagnostics
            .iter()
            .any(|d| d.path.as_deref() == Some("/usr/bin/broken")),
        "a broken ELF is a diagnostic: {:?}",
        facts.diagnostics
    );
    let index = LoadIndex::new(&facts);
    let spin = closure(&index, &config(&["spin"])).unwrap();
    assert!(
        spin.nodes.is_empty() && spin.missing == ["spin"],
        "{spin:?}"
    );
    let cycle = closure(&index, &config(&[&format!("/{MULTIARCH}/loopx.so9")])).unwrap();
    let paths: BTreeSet<&str> = cycle.nodes.iter().map(|n| n.path.as_str()).collect();
    assert!(
        paths.contains(format!("{MULTIARCH}/loopy.so.1.00").as_str()),
        "{paths:?}"
    );
    assert!(
        paths.contains(format!("{MULTIARCH}/loopx.so9").as_str()),
        "{paths:?}"
    );
    assert!(cycle.nodes.len() <= 5, "{paths:?}");
    let broken = closure(&index, &config(&["broken"])).unwrap();
    assert_eq!(
        broken.nodes.len(),
        1,
        "a file without linkage facts is a leaf"
    );
    assert_eq!(
        broken.open.len(),
        1,
        "... that leaves the closure open: {broken:?}"
    );
}

#[test]
fn mutated_real_elf_files_never_panic_the_parser() {
    let Ok(bytes) = std::fs::read("/usr/bin/bzip2") else {
        return;
    };
    // A fixed xorshift: the same mutations on every run.
    let mut state: u64 = 0x9e3779b97f4a7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut parsed = 0;
    for _ in 0..3000 {
        let mut m = bytes.clone();
        for _ in 0..(next() % 8 + 1) {
            // Mostly the headers, where offsets and counts live.
            let span = if next() % 4 == 0 {
                m.len()
            } else {
                4096.min(m.len())
            };
            let at = (next() as usize) % span;
            m[at] = next() as u8;
        }
        if next() % 16 == 0 {
            m.truncate((next() as usize) % m.len());
        }
        if let Ok(links) = bulwark_reach::read_elf(&m) {
            parsed += 1;
            assert!(links.needed.len() <= 1024);
        }
    }
    assert!(parsed > 0, "most single-byte mutations still parse");
}
