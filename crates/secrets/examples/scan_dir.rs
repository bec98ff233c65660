//! Walks a directory, scans every regular file with the built-in rules and
//! prints the finding count and throughput.
//!
//! usage: cargo run --release -p bulwark-secrets --example scan_dir -- DIR [--list] [--threads N]
//!   --list       print every finding as `path:line:column: rule_id severity redacted fingerprint`
//!   --threads N  scanning threads (default: all cores)

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use bulwark_secrets::Scanner;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let mut list = false;
    let mut threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    while let Some(a) = args.next() {
        match a.as_str() {
            "--list" => list = true,
            "--threads" => {
                threads = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--threads N")
            }
            _ if dir.is_none() => dir = Some(PathBuf::from(a)),
            _ => {
                eprintln!("usage: scan_dir DIR [--list] [--threads N]");
                std::process::exit(2);
            }
        }
    }
    let dir = dir.unwrap_or_else(|| {
        eprintln!("usage: scan_dir DIR [--list] [--threads N]");
        std::process::exit(2);
    });
    let t0 = Instant::now();
    let scanner = Scanner::builtin();
    let files: Vec<PathBuf> = walkdir::WalkDir::new(&dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    let next = AtomicUsize::new(0);
    let bytes = AtomicUsize::new(0);
    let out: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let count = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                let mut buf = Vec::new();
                let mut lines = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = files.get(i) else { break };
                    let rel = rel_path(&dir, path);
                    if !scanner.wants_path(&rel) {
                        continue;
                    }
                    buf.clear();
                    let Ok(f) = std::fs::File::open(path) else {
                        continue;
                    };
                    if f.take(scanner.max_file_bytes())
                        .read_to_end(&mut buf)
                        .is_err()
                    {
                        continue;
                    }
                    bytes.fetch_add(buf.len(), Ordering::Relaxed);
                    let found = scanner.scan(&rel, &buf);
                    count.fetch_add(found.len(), Ordering::Relaxed);
                    if list {
                        for m in found {
                            lines.push(format!(
                                "{rel}:{}:{}: {} {} {} {}",
                                m.line, m.column, m.rule_id, m.severity, m.redacted, m.fingerprint
                            ));
                        }
                    }
                }
                out.lock().unwrap().extend(lines);
            });
        }
    });
    let secs = t0.elapsed().as_secs_f64();
    let mut lines = out.into_inner().unwrap();
    lines.sort();
    for l in &lines {
        println!("{l}");
    }
    let b = bytes.into_inner();
    println!(
        "files={} bytes={} findings={} threads={} secs={:.3} MB/s={:.1}",
        files.len(),
        b,
        count.into_inner(),
        threads,
        secs,
        b as f64 / 1e6 / secs
    );
}

fn rel_path(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .to_string_lossy()
        .into_owned()
}
