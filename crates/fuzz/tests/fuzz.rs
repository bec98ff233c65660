//! The fuzz campaign `cargo test` runs, and checks that keep its corpus and fuzz binaries in
//! step with the target table.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use bulwark_fuzz::campaign::{self, MemoryProbe, Settings};
use peak_alloc::PeakAlloc;

#[global_allocator]
static ALLOCATOR: PeakAlloc = PeakAlloc;

/// Peak bytes allocated by the whole process since a reset, above the level at the reset.
struct PeakProbe {
    base: AtomicUsize,
}

impl MemoryProbe for PeakProbe {
    fn reset(&self) {
        ALLOCATOR.reset_peak_usage();
        self.base
            .store(ALLOCATOR.current_usage(), Ordering::Relaxed);
    }

    fn peak_since_reset(&self) -> usize {
        ALLOCATOR
            .peak_usage()
            .saturating_sub(self.base.load(Ordering::Relaxed))
    }
}

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Straight to stderr, past the test harness's capture: the seed must be visible even when an
/// abort kills the process.
fn say(text: &str) {
    let _ = std::io::stderr().write_all(text.as_bytes());
}

#[test]
fn campaign() {
    let settings = Settings::from_env().unwrap_or_else(|e| panic!("{e}"));
    say(&format!(
        "bulwark-fuzz: seed {} (repeat with BULWARK_FUZZ_SEED={}), {} mutated inputs per seed\n",
        settings.seed, settings.seed, settings.iterations
    ));
    let probe = PeakProbe {
        base: AtomicUsize::new(0),
    };
    let outcome = campaign::run(&settings, Some(&probe));
    say(&outcome.report());
    assert!(
        outcome.failures.is_empty(),
        "{} failing input(s), listed above with where they were saved. Fix the parser, then move \
         the input to crates/fuzz/regressions/fixed/<target>/ (it is run on every test from then \
         on); or park it in regressions/pending/<target>/ and report it.",
        outcome.failures.len()
    );
}

#[test]
fn every_target_has_seeds() {
    for target in bulwark_fuzz::TARGETS {
        let seeds = campaign::load_dir(&crate_dir().join("corpus").join(target.name));
        assert!(
            !seeds.is_empty(),
            "crates/fuzz/corpus/{}/ has no seed: add a small valid input",
            target.name
        );
    }
}

#[test]
fn every_corpus_directory_is_a_target() {
    for dir in ["corpus", "regressions/fixed", "regressions/pending"] {
        let Ok(entries) = std::fs::read_dir(crate_dir().join(dir)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_dir() {
                assert!(
                    bulwark_fuzz::find(&name).is_some(),
                    "crates/fuzz/{dir}/{name}/ names no fuzz target"
                );
            }
        }
    }
}

/// Seeds built by code (archives whose digests must match) are kept in the corpus like any
/// other; `BULWARK_FUZZ_BLESS=1` rewrites them after a change.
#[test]
fn generated_seeds_are_current() {
    let bless = std::env::var_os("BULWARK_FUZZ_BLESS").is_some();
    for (target, name, bytes) in bulwark_fuzz::seeds::generated() {
        let path = crate_dir().join("corpus").join(target).join(name);
        if bless {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &bytes).unwrap();
            continue;
        }
        let stored = std::fs::read(&path).unwrap_or_default();
        assert!(
            stored == bytes,
            "{} is not what the seed generator makes; rerun with BULWARK_FUZZ_BLESS=1",
            path.display()
        );
    }
}

fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}

#[test]
fn corpus_stays_small() {
    let total = dir_size(&crate_dir().join("corpus")) + dir_size(&crate_dir().join("regressions"));
    assert!(
        total < 2 << 20,
        "the fuzz corpus and regressions hold {total} bytes; keep them under 2 MiB (small seeds \
         find as much)"
    );
}

/// The `cargo fuzz` package at the repository root has one binary per target.
#[test]
fn cargo_fuzz_binaries_match_the_targets() {
    let fuzz = crate_dir().join("../../fuzz");
    let manifest = std::fs::read_to_string(fuzz.join("Cargo.toml")).unwrap();
    for target in bulwark_fuzz::TARGETS {
        let file = fuzz
            .join("fuzz_targets")
            .join(format!("{}.rs", target.name));
        let source = std::fs::read_to_string(&file)
            .unwrap_or_else(|_| panic!("{} is missing; run fuzz/generate.sh", file.display()));
        assert!(
            source.contains(&format!("bulwark_fuzz::run(\"{}\"", target.name)),
            "{} does not run its target",
            file.display()
        );
        assert!(
            manifest.contains(&format!("name = \"{}\"", target.name)),
            "fuzz/Cargo.toml has no [[bin]] {}; run fuzz/generate.sh",
            target.name
        );
    }
}
