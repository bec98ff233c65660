//! Runs fuzz targets on their seeds, fixed regressions and mutated inputs, one input at a time,
//! and judges each: it must return (no panic), within a wall-time bound, without a runaway
//! allocation, and not hang.
//!
//! Each input runs on a fresh thread under `catch_unwind`; the campaign waits for it with a
//! watchdog, so an endless loop is reported (and its input saved) instead of stalling the test
//! run. An abort (stack overflow, allocation failure) cannot be caught in-process: the input
//! that was running is always in `<failures>/in-progress/<target>.bin`, so a run that died still
//! leaves its crash behind.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

use crate::mutate::Mutator;
use crate::{Target, TARGETS};

/// Mutated inputs per seed in the default (CI) campaign: with the seed corpus this makes about
/// 5,000 inputs.
pub const DEFAULT_ITERATIONS: usize = 48;
/// Wall time one input may take on a debug build before it counts as a failure.
pub const DEFAULT_INPUT_TIME_LIMIT: Duration = Duration::from_secs(2);
/// Memory one input may allocate at its peak, above what was allocated before it started.
pub const DEFAULT_MEMORY_LIMIT: usize = 256 << 20;
/// Mutated inputs never grow past this.
pub const DEFAULT_MAX_INPUT_LEN: usize = 256 << 10;
/// A target that failed this often is not run further in the campaign: the rest would mostly
/// be the same bug again.
const MAX_FAILURES_PER_TARGET: usize = 5;

/// How a campaign runs; [`Settings::from_env`] reads the `BULWARK_FUZZ_*` variables.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Seeds the mutator; printed so a run can be repeated exactly.
    pub seed: u64,
    /// Mutated inputs per seed.
    pub iterations: usize,
    pub input_time_limit: Duration,
    /// An input still running after this long is a hang (reported, not waited for).
    pub hang_limit: Duration,
    pub memory_limit: usize,
    pub max_input_len: usize,
    /// Run only these targets (all when `None`).
    pub only: Option<Vec<String>>,
    /// Holds `corpus/` and `regressions/`.
    pub crate_dir: PathBuf,
    /// Failing inputs are written here, one directory per target.
    pub failures_dir: PathBuf,
    /// Stack of the thread an input runs on.
    pub stack_size: usize,
}

fn env_number<T: std::str::FromStr>(name: &str) -> Result<Option<T>, String> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("{name}={v:?} is not a number")),
        _ => Ok(None),
    }
}

impl Settings {
    /// The defaults, changed by `BULWARK_FUZZ_SEED`, `BULWARK_FUZZ_ITERATIONS`,
    /// `BULWARK_FUZZ_TARGETS` (comma-separated names), `BULWARK_FUZZ_INPUT_TIMEOUT_MS`,
    /// `BULWARK_FUZZ_MAX_MEMORY_MB`, `BULWARK_FUZZ_MAX_LEN` and `BULWARK_FUZZ_FAILURES` (a
    /// directory).
    pub fn from_env() -> Result<Settings, String> {
        let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let seed = match env_number::<u64>("BULWARK_FUZZ_SEED")? {
            Some(seed) => seed,
            None => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0),
        };
        let input_time_limit = env_number::<u64>("BULWARK_FUZZ_INPUT_TIMEOUT_MS")?
            .map(Duration::from_millis)
            .unwrap_or(DEFAULT_INPUT_TIME_LIMIT);
        let only = std::env::var("BULWARK_FUZZ_TARGETS")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
            });
        if let Some(names) = &only {
            for name in names {
                if crate::find(name).is_none() {
                    return Err(format!(
                        "BULWARK_FUZZ_TARGETS names {name:?}, which is no target; known: {}",
                        TARGETS
                            .iter()
                            .map(|t| t.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
        }
        Ok(Settings {
            seed,
            iterations: env_number("BULWARK_FUZZ_ITERATIONS")?.unwrap_or(DEFAULT_ITERATIONS),
            input_time_limit,
            hang_limit: (input_time_limit * 30).max(Duration::from_secs(30)),
            memory_limit: env_number::<usize>("BULWARK_FUZZ_MAX_MEMORY_MB")?
                .map(|mb| mb << 20)
                .unwrap_or(DEFAULT_MEMORY_LIMIT),
            max_input_len: env_number("BULWARK_FUZZ_MAX_LEN")?.unwrap_or(DEFAULT_MAX_INPUT_LEN),
            only,
            failures_dir: std::env::var_os("BULWARK_FUZZ_FAILURES")
                .map(PathBuf::from)
                .unwrap_or_else(|| crate_dir.join("../../target/fuzz-failures")),
            crate_dir,
            // Debug builds need several times the stack of release ones for the same
            // recursion; release runs get the 2 MiB a rayon worker (where analyzers run) has.
            stack_size: if cfg!(debug_assertions) {
                8 << 20
            } else {
                2 << 20
            },
        })
    }

    fn selected(&self) -> Vec<&'static Target> {
        TARGETS
            .iter()
            .filter(|t| {
                self.only
                    .as_ref()
                    .is_none_or(|names| names.iter().any(|n| n == t.name))
            })
            .collect()
    }
}

/// Measures what one input allocates. Implemented by the binary that owns the global
/// allocator (the test binary uses a counting allocator).
pub trait MemoryProbe: Sync {
    /// Starts a measurement.
    fn reset(&self);
    /// Bytes allocated at the peak since [`MemoryProbe::reset`], above the level at reset.
    fn peak_since_reset(&self) -> usize;
}

/// What went wrong with one input.
#[derive(Debug, Clone)]
pub enum Problem {
    Panic(String),
    Slow(Duration),
    Memory(usize),
    Hang(Duration),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Panic(message) => write!(f, "panicked: {message}"),
            Problem::Slow(t) => write!(f, "took {t:?} (twice)"),
            Problem::Memory(bytes) => write!(f, "allocated {} MiB at its peak", bytes >> 20),
            Problem::Hang(t) => write!(f, "still running after {t:?} (hang)"),
        }
    }
}

/// One failing input.
#[derive(Debug, Clone)]
pub struct Failure {
    pub target: &'static str,
    pub problem: Problem,
    /// Which seed or regression file it came from, and which mutation.
    pub origin: String,
    /// Where the input was written.
    pub saved: Option<PathBuf>,
}

/// Per-target figures.
#[derive(Debug, Clone, Default)]
pub struct TargetStats {
    pub name: &'static str,
    pub seeds: usize,
    pub inputs: usize,
    pub slowest: Duration,
    pub most_memory: usize,
    pub elapsed: Duration,
}

/// What a campaign did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub seed: u64,
    pub stats: Vec<TargetStats>,
    pub failures: Vec<Failure>,
    pub elapsed: Duration,
}

impl Outcome {
    pub fn inputs(&self) -> usize {
        self.stats.iter().map(|s| s.inputs).sum()
    }

    /// A table of targets and figures, then the failures.
    pub fn report(&self) -> String {
        let mut out = format!(
            "{:<24} {:>6} {:>7} {:>10} {:>9} {:>9}\n",
            "target", "seeds", "inputs", "slowest", "peak MiB", "total"
        );
        for s in &self.stats {
            out.push_str(&format!(
                "{:<24} {:>6} {:>7} {:>8}ms {:>9.1} {:>8.1}s\n",
                s.name,
                s.seeds,
                s.inputs,
                s.slowest.as_millis(),
                s.most_memory as f64 / (1 << 20) as f64,
                s.elapsed.as_secs_f64()
            ));
        }
        out.push_str(&format!(
            "{} inputs over {} targets in {:.1}s, seed {} (repeat with BULWARK_FUZZ_SEED={}), {} failure(s)\n",
            self.inputs(),
            self.stats.len(),
            self.elapsed.as_secs_f64(),
            self.seed,
            self.seed,
            self.failures.len()
        ));
        for f in &self.failures {
            out.push_str(&format!(
                "FAIL {} ({}): {}\n    input: {}\n",
                f.target,
                f.origin,
                f.problem,
                f.saved
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "(not saved)".into())
            ));
        }
        out
    }
}

/// The files of `dir`, sorted by name (dot files and READMEs are notes, not inputs).
pub fn load_dir(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<(String, Vec<u8>)> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || name.starts_with("README") {
                return None;
            }
            std::fs::read(e.path()).ok().map(|bytes| (name, bytes))
        })
        .collect();
    files.sort();
    files
}

/// Records where the panic happened; the payload alone has no location.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Keeps panics of fuzz inputs (on `fuzz-` threads, and on the unnamed pool threads a target
/// may fan out to) off stderr and in [`LAST_PANIC`]; every other thread's panic is printed as
/// before.
fn install_panic_hook() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let thread = std::thread::current();
            let ours = thread.name().is_none_or(|n| n.starts_with("fuzz-"));
            if ours {
                if let Ok(mut last) = LAST_PANIC.lock() {
                    last.get_or_insert_with(|| info.to_string());
                }
            } else {
                previous(info);
            }
        }));
    });
}

fn payload_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(a panic with a non-string payload)".into())
}

/// How one input ended.
enum Ended {
    Returned { elapsed: Duration, memory: usize },
    Panicked(String),
    Hung,
}

fn run_input(
    target: &'static Target,
    input: &Arc<Vec<u8>>,
    settings: &Settings,
    probe: Option<&dyn MemoryProbe>,
) -> Ended {
    if let Ok(mut last) = LAST_PANIC.lock() {
        *last = None;
    }
    let (tx, rx) = mpsc::channel();
    let data = Arc::clone(input);
    if let Some(p) = probe {
        p.reset();
    }
    let start = Instant::now();
    let worker = std::thread::Builder::new()
        .name(format!("fuzz-{}", target.name))
        .stack_size(settings.stack_size)
        .spawn(move || {
            let result = std::panic::catch_unwind(|| (target.run)(&data));
            let _ = tx.send(result.map_err(|p| payload_message(p.as_ref())));
        })
        .expect("the fuzz campaign cannot start a thread");
    match rx.recv_timeout(settings.hang_limit) {
        Ok(Ok(())) => {
            let elapsed = start.elapsed();
            let _ = worker.join();
            let memory = probe.map_or(0, |p| p.peak_since_reset());
            Ended::Returned { elapsed, memory }
        }
        Ok(Err(payload)) => {
            let _ = worker.join();
            let located = LAST_PANIC.lock().ok().and_then(|mut l| l.take());
            Ended::Panicked(located.unwrap_or(payload))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Ended::Panicked("the input's thread ended without a result".into())
        }
        // The thread cannot be stopped; it is left running and the target is not run again.
        Err(mpsc::RecvTimeoutError::Timeout) => Ended::Hung,
    }
}

fn save(dir: &Path, target: &str, kind: &str, input: &[u8]) -> Option<PathBuf> {
    let dir = dir.join(target);
    std::fs::create_dir_all(&dir).ok()?;
    let hash = hex::encode(&Sha256::digest(input)[..8]);
    let path = dir.join(format!("{kind}-{hash}.bin"));
    std::fs::write(&path, input).ok()?;
    Some(path)
}

/// Keeps the running input on disk, so an abort that kills the process leaves it behind.
struct InProgress {
    path: PathBuf,
}

impl InProgress {
    fn new(failures_dir: &Path, target: &str) -> InProgress {
        let dir = failures_dir.join("in-progress");
        let _ = std::fs::create_dir_all(&dir);
        InProgress {
            path: dir.join(format!("{target}.bin")),
        }
    }

    fn set(&self, input: &[u8]) {
        if let Ok(mut f) = std::fs::File::create(&self.path) {
            let _ = f.write_all(input);
        }
    }
}

impl Drop for InProgress {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A per-target, per-seed mutator seed, so adding a target or a seed does not change what the
/// others are fed.
fn mutator_seed(run_seed: u64, target: &str, seed_name: &str) -> u64 {
    let digest = Sha256::new()
        .chain_update(run_seed.to_le_bytes())
        .chain_update(target.as_bytes())
        .chain_update([0])
        .chain_update(seed_name.as_bytes())
        .finalize();
    u64::from_le_bytes(digest[..8].try_into().expect("8 bytes of a SHA-256"))
}

/// Runs the campaign `settings` describes.
pub fn run(settings: &Settings, probe: Option<&dyn MemoryProbe>) -> Outcome {
    install_panic_hook();
    let started = Instant::now();
    let mut outcome = Outcome {
        seed: settings.seed,
        ..Outcome::default()
    };
    // After a hang a thread keeps running in the background: memory figures are no longer
    // one input's alone.
    let mut memory_trusted = true;
    for target in settings.selected() {
        let target_started = Instant::now();
        let seeds = load_dir(&settings.crate_dir.join("corpus").join(target.name));
        let fixed = load_dir(
            &settings
                .crate_dir
                .join("regressions/fixed")
                .join(target.name),
        );
        let mut stats = TargetStats {
            name: target.name,
            seeds: seeds.len(),
            ..TargetStats::default()
        };
        let in_progress = InProgress::new(&settings.failures_dir, target.name);
        let mut failures = 0;
        let mut judge = |origin: String, input: Vec<u8>, stats: &mut TargetStats| -> bool {
            let input = Arc::new(input);
            in_progress.set(&input);
            stats.inputs += 1;
            let mut ended = run_input(target, &input, settings, probe);
            // A busy machine can stall any input once; a slow parser is slow every time.
            if matches!(ended, Ended::Returned { elapsed, .. } if elapsed > settings.input_time_limit)
            {
                ended = run_input(target, &input, settings, probe);
            }
            let problem = match ended {
                Ended::Returned { elapsed, memory } => {
                    stats.slowest = stats.slowest.max(elapsed);
                    if memory_trusted {
                        stats.most_memory = stats.most_memory.max(memory);
                    }
                    if elapsed > settings.input_time_limit {
                        Some(Problem::Slow(elapsed))
                    } else if memory_trusted && memory > settings.memory_limit {
                        Some(Problem::Memory(memory))
                    } else {
                        None
                    }
                }
                Ended::Panicked(message) => Some(Problem::Panic(message)),
                Ended::Hung => {
                    memory_trusted = false;
                    Some(Problem::Hang(settings.hang_limit))
                }
            };
            let Some(problem) = problem else {
                return true;
            };
            let kind = match problem {
                Problem::Panic(_) => "panic",
                Problem::Slow(_) => "slow",
                Problem::Memory(_) => "memory",
                Problem::Hang(_) => "hang",
            };
            let hung = matches!(problem, Problem::Hang(_));
            outcome.failures.push(Failure {
                target: target.name,
                problem,
                origin,
                saved: save(&settings.failures_dir, target.name, kind, &input),
            });
            failures += 1;
            !hung && failures < MAX_FAILURES_PER_TARGET
        };
        let mut go_on = true;
        for (name, bytes) in &fixed {
            if go_on {
                go_on = judge(
                    format!("regressions/fixed/{name}"),
                    bytes.clone(),
                    &mut stats,
                );
            }
        }
        for (name, bytes) in &seeds {
            if go_on {
                go_on = judge(format!("corpus/{name}"), bytes.clone(), &mut stats);
            }
        }
        for (i, (name, bytes)) in seeds.iter().enumerate() {
            let other = &seeds[(i + 1) % seeds.len()].1;
            let mut mutator = Mutator::new(
                mutator_seed(settings.seed, target.name, name),
                settings.max_input_len,
            );
            for n in 0..settings.iterations {
                if !go_on {
                    break;
                }
                let input = mutator.mutate(bytes, other);
                go_on = judge(format!("corpus/{name}, mutation {n}"), input, &mut stats);
            }
        }
        stats.elapsed = target_started.elapsed();
        outcome.stats.push(stats);
    }
    outcome.elapsed = started.elapsed();
    outcome
}
