//! User policies in Rego (`--policy DIR`), evaluated with `regorus`, conftest-style: in every
//! package named `main` (or under it, `main.*`, or one of the configured namespaces) the
//! rules `deny`, `violation` and `warn` are read; each value they produce is a finding. A value
//! is a string (the message) or an object with `msg` and optionally `id`, `title`,
//! `severity`, `line`, `remediation`.
//!
//! `input` is the parsed file: for a Dockerfile an array of instructions (see
//! [`dockerfile_input`] and docs/policies.md), for YAML and JSON the document itself (each
//! document of a multi-document YAML file in turn).
//!
//! A policy is code from outside: its evaluation on one file runs under an [`EvalBudget`] of
//! time and memory. regorus 0.14 stops cooperatively at its time limit, but has no hook for
//! memory or recursion depth (a self-recursive function overflows the stack, which aborts the
//! process). So each file's rules run on their own thread, with a stack larger than the memory
//! budget, while the caller's thread watches the process's resident memory (stack pages
//! included) and the clock: runaway recursion or allocation trips the memory guard before the
//! stack can overflow. A budget that is exceeded yields [`BudgetExceeded`], naming the rule;
//! the runaway thread cannot be stopped from outside and is left behind, so the caller should
//! stop soon after (the CLI exits 2).

// Without regorus only the input conversion (`inputs`) and the types remain.
#![cfg_attr(not(feature = "rego"), allow(unused_imports))]

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use bulwark_types::{MisconfigLocation, Misconfiguration, Severity};
use serde_json::{json, Value};

use crate::{FileError, FileKind, SourceFile};

#[cfg(feature = "rego")]
/// Rule names read in each package, with the severity their findings get by default.
const RULES: &[(&str, Severity)] = &[
    ("deny", Severity::High),
    ("violation", Severity::High),
    ("warn", Severity::Low),
];

/// Wall-clock time the rules may take on one file, by default.
pub const DEFAULT_POLICY_TIME: Duration = Duration::from_secs(10);

/// Growth of the process's resident memory the rules may cause on one file, by default.
pub const DEFAULT_POLICY_MEMORY_BYTES: u64 = 512 << 20;

#[cfg(feature = "rego")]
/// How often the watching thread looks at memory and the clock.
const GUARD_POLL: Duration = Duration::from_millis(5);

#[cfg(feature = "rego")]
/// Time past the budget before a rule that does not reach one of regorus's own time checks
/// (one builtin call building a huge value) is given up on.
const GUARD_GRACE: Duration = Duration::from_secs(2);

/// Limits on the evaluation of every rule on one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalBudget {
    pub time: Duration,
    pub memory_bytes: u64,
}

impl Default for EvalBudget {
    fn default() -> EvalBudget {
        EvalBudget {
            time: DEFAULT_POLICY_TIME,
            memory_bytes: DEFAULT_POLICY_MEMORY_BYTES,
        }
    }
}

impl EvalBudget {
    #[cfg(feature = "rego")]
    /// The evaluation thread's stack: twice the memory budget (reserved, not used, until a deep
    /// evaluation touches it), so the memory guard fires well before the stack runs out.
    fn stack_bytes(&self) -> usize {
        usize::try_from(self.memory_bytes.saturating_mul(2))
            .unwrap_or(usize::MAX)
            .max(64 << 20)
    }
}

/// Which limit a policy went over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetKind {
    Time(Duration),
    Memory(u64),
}

/// A policy that went over its [`EvalBudget`]: the scan stops, since the rule's thread may
/// still be running.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy {policy} on {path} {}; fix the policy (a recursive function or an unbounded comprehension?) or leave it out of --policy", describe(.kind))]
pub struct BudgetExceeded {
    /// The rule that was running: `data.main.deny`.
    pub policy: String,
    pub path: String,
    pub kind: BudgetKind,
}

fn describe(kind: &BudgetKind) -> String {
    match kind {
        BudgetKind::Time(t) => format!("ran past its time budget of {} s", t.as_secs_f64()),
        BudgetKind::Memory(b) => format!(
            "grew memory past its budget of {} MiB (or recursed too deep)",
            b >> 20
        ),
    }
}

/// Why a file's policies gave no result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// The file could not be handed to Rego, or a rule failed on it; other files still run.
    #[error("{0}")]
    File(FileError),
    #[error(transparent)]
    Budget(BudgetExceeded),
}

/// Loaded policies, ready to evaluate.
#[derive(Clone)]
pub struct Policies {
    #[cfg(feature = "rego")]
    engine: regorus::Engine,
    /// Packages whose rules apply (`data.main`, `data.main.docker` …).
    packages: Vec<String>,
    budget: EvalBudget,
}

impl std::fmt::Debug for Policies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policies")
            .field("packages", &self.packages)
            .finish()
    }
}

#[cfg(feature = "rego")]
/// The line of a regorus error (`file:LINE:COL: error: …`).
fn error_line(path: &str, message: &str) -> Option<usize> {
    let at = message.find(path)?;
    let rest = &message[at + path.len()..];
    let rest = rest.strip_prefix(':')?;
    let end = rest.find(|c: char| !c.is_ascii_digit())?;
    rest[..end].parse().ok()
}

impl Policies {
    #[cfg(feature = "rego")]
    /// Loads every `.rego` file under `dirs` (files ending `_test.rego` are tests and are
    /// skipped). Rego v1 syntax is tried first and v0 (`deny[msg] { … }`) second, so both
    /// conftest styles load. `namespaces` default to `main`.
    pub fn load(dirs: &[PathBuf], namespaces: &[String]) -> Result<Policies, Vec<FileError>> {
        let mut engine = regorus::Engine::new();
        let mut errors = Vec::new();
        let mut files = Vec::new();
        for dir in dirs {
            if dir.is_file() {
                files.push(dir.clone());
                continue;
            }
            if !dir.is_dir() {
                errors.push(FileError::new(
                    &dir.display().to_string(),
                    None,
                    "no such policy directory",
                ));
                continue;
            }
            for e in walkdir::WalkDir::new(dir)
                .sort_by_file_name()
                .into_iter()
                .flatten()
            {
                let name = e.file_name().to_string_lossy();
                if e.file_type().is_file()
                    && name.ends_with(".rego")
                    && !name.ends_with("_test.rego")
                {
                    files.push(e.path().to_path_buf());
                }
            }
        }
        let mut packages = Vec::new();
        for path in files {
            let shown = path.display().to_string();
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => {
                    errors.push(FileError::new(&shown, None, format!("cannot read: {e}")));
                    continue;
                }
            };
            engine.set_rego_v0(false);
            let v1 = engine.add_policy(shown.clone(), text.clone());
            let added = match v1 {
                Ok(p) => Ok(p),
                Err(e1) => {
                    engine.set_rego_v0(true);
                    match engine.add_policy(shown.clone(), text.clone()) {
                        Ok(p) => Ok(p),
                        // Report the error of the syntax the file seems to use.
                        Err(e0) => Err(
                            if text.contains("import rego.v1") || !text.contains("] {") {
                                e1
                            } else {
                                e0
                            },
                        ),
                    }
                }
            };
            match added {
                Ok(pkg) => packages.push(pkg),
                Err(e) => {
                    let message = e.to_string();
                    let line = error_line(&shown, &message);
                    let first = message.lines().next().unwrap_or("").to_string();
                    errors.push(FileError::new(
                        &shown,
                        line,
                        format!("Rego error: {}", first.trim()),
                    ));
                }
            }
        }
        if !errors.is_empty() {
            errors.sort();
            return Err(errors);
        }
        let wanted: Vec<String> = if namespaces.is_empty() {
            vec!["main".to_string()]
        } else {
            namespaces.to_vec()
        };
        packages.sort();
        packages.dedup();
        packages.retain(|p| {
            let name = p.strip_prefix("data.").unwrap_or(p);
            wanted
                .iter()
                .any(|w| name == w || name.starts_with(&format!("{w}.")))
        });
        Ok(Policies {
            engine,
            packages,
            budget: EvalBudget::default(),
        })
    }

    /// Without the `rego` feature no policy can be loaded: the error says how to get them.
    #[cfg(not(feature = "rego"))]
    pub fn load(dirs: &[PathBuf], _namespaces: &[String]) -> Result<Policies, Vec<FileError>> {
        let path = dirs
            .first()
            .map(|d| d.display().to_string())
            .unwrap_or_default();
        Err(vec![FileError::new(
            &path,
            None,
            "this bulwark was built without Rego support (cargo feature `rego`, on by default); \
             rebuild it with default features to evaluate --policy",
        )])
    }

    /// Without the `rego` feature there are no policies to evaluate (`load` refuses).
    #[cfg(not(feature = "rego"))]
    pub fn eval(&self, _file: &SourceFile) -> Result<Vec<Misconfiguration>, EvalError> {
        Ok(Vec::new())
    }

    /// The same policies under another budget.
    pub fn with_budget(mut self, budget: EvalBudget) -> Policies {
        self.budget = budget;
        self
    }

    /// The packages whose rules are evaluated.
    pub fn packages(&self) -> &[String] {
        &self.packages
    }

    #[cfg(feature = "rego")]
    /// Evaluates every applicable rule on one file, within the budget (see the module doc).
    pub fn eval(&self, file: &SourceFile) -> Result<Vec<Misconfiguration>, EvalError> {
        if self.packages.is_empty() {
            return Ok(Vec::new());
        }
        let inputs = inputs(file).map_err(EvalError::File)?;
        let mut engine = self.engine.clone();
        engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
            limit: self.budget.time,
            check_interval: NonZeroU32::MIN.saturating_add(63),
        });
        let running = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let job = Job {
            engine,
            packages: self.packages.clone(),
            path: file.path.clone(),
            running: Arc::clone(&running),
        };
        let baseline = resident_bytes();
        let started = Instant::now();
        std::thread::Builder::new()
            .name("rego".into())
            .stack_size(self.budget.stack_bytes())
            .spawn(move || {
                // The receiver is gone only when the budget was blown; nothing to tell then.
                let _ = tx.send(job.run(inputs));
            })
            .map_err(|e| {
                EvalError::File(FileError::new(
                    &file.path,
                    None,
                    format!("cannot start a thread to evaluate the policies: {e}"),
                ))
            })?;
        let over = |kind| {
            let policy = running.lock().unwrap_or_else(|p| p.into_inner()).clone();
            EvalError::Budget(BudgetExceeded {
                policy,
                path: file.path.clone(),
                kind,
            })
        };
        loop {
            match rx.recv_timeout(GUARD_POLL) {
                Ok(Ok(found)) => return Ok(found),
                Ok(Err(JobError::File(e))) => return Err(EvalError::File(e)),
                Ok(Err(JobError::Time)) => return Err(over(BudgetKind::Time(self.budget.time))),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(EvalError::File(FileError::new(
                        &file.path,
                        None,
                        format!(
                            "the Rego engine failed while evaluating {}",
                            running.lock().unwrap_or_else(|p| p.into_inner())
                        ),
                    )))
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if started.elapsed() > self.budget.time + GUARD_GRACE {
                        return Err(over(BudgetKind::Time(self.budget.time)));
                    }
                    if let (Some(before), Some(now)) = (baseline, resident_bytes()) {
                        if now.saturating_sub(before) > self.budget.memory_bytes {
                            return Err(over(BudgetKind::Memory(self.budget.memory_bytes)));
                        }
                    }
                }
            }
        }
    }
}

#[cfg(feature = "rego")]
/// The process's resident memory; `None` where the platform does not say.
fn resident_bytes() -> Option<u64> {
    memory_stats::memory_stats().map(|m| m.physical_mem as u64)
}

#[cfg(feature = "rego")]
/// One file's evaluation, moved to its own thread.
struct Job {
    engine: regorus::Engine,
    packages: Vec<String>,
    path: String,
    /// The rule being evaluated, for the message when a budget is blown.
    running: Arc<Mutex<String>>,
}

#[cfg(feature = "rego")]
enum JobError {
    File(FileError),
    /// regorus stopped at its own time limit.
    Time,
}

#[cfg(feature = "rego")]
impl Job {
    fn run(mut self, inputs: Vec<Value>) -> Result<Vec<Misconfiguration>, JobError> {
        let mut out = Vec::new();
        for input in inputs {
            let input_value = regorus::Value::from_json_str(&input.to_string()).map_err(|e| {
                JobError::File(FileError::new(
                    &self.path,
                    None,
                    format!("cannot hand the file to Rego: {e}"),
                ))
            })?;
            self.engine.set_input(input_value);
            for pkg in &self.packages {
                for (rule, severity) in RULES {
                    let query = format!("{pkg}.{rule}");
                    query.clone_into(&mut self.running.lock().unwrap_or_else(|p| p.into_inner()));
                    let value = match self.engine.eval_rule(query.clone()) {
                        Ok(v) => v,
                        Err(e)
                            if matches!(
                                e.downcast_ref::<regorus::LimitError>(),
                                Some(regorus::LimitError::TimeLimitExceeded { .. })
                            ) =>
                        {
                            return Err(JobError::Time)
                        }
                        // The package does not define this rule.
                        Err(e) if is_undefined(&e.to_string()) => continue,
                        Err(e) => {
                            return Err(JobError::File(FileError::new(
                                &self.path,
                                None,
                                format!(
                                    "policy {query}: {}",
                                    e.to_string().lines().next().unwrap_or("")
                                ),
                            )))
                        }
                    };
                    if value == regorus::Value::Undefined {
                        continue;
                    }
                    let json: Value = value
                        .to_json_str()
                        .ok()
                        .and_then(|s| serde_json::from_str(&s).ok())
                        .unwrap_or(Value::Null);
                    let items = match json {
                        Value::Array(a) => a,
                        Value::Null | Value::Bool(false) => Vec::new(),
                        other => vec![other],
                    };
                    for item in items {
                        out.push(to_finding(&self.path, pkg, rule, *severity, item));
                    }
                }
            }
        }
        Ok(out)
    }
}

#[cfg(feature = "rego")]
fn is_undefined(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("not a valid rule path")
        || m.contains("undefined")
        || m.contains("no rule")
        || m.contains("not found")
}

#[cfg(feature = "rego")]
fn to_finding(
    path: &str,
    pkg: &str,
    rule: &str,
    severity: Severity,
    item: Value,
) -> Misconfiguration {
    let package = pkg.strip_prefix("data.").unwrap_or(pkg).to_string();
    let (msg, obj) = match &item {
        Value::String(s) => (s.clone(), None),
        Value::Object(o) => (
            o.get("msg")
                .and_then(|m| m.as_str())
                .map(String::from)
                .unwrap_or_else(|| item.to_string()),
            Some(o),
        ),
        other => (other.to_string(), None),
    };
    let field = |k: &str| {
        obj.and_then(|o| o.get(k))
            .and_then(|v| v.as_str())
            .map(String::from)
    };
    let line = obj
        .and_then(|o| o.get("line"))
        .and_then(|v| v.as_u64())
        .map(|l| l as usize);
    let severity = field("severity")
        .and_then(|s| s.to_ascii_lowercase().parse::<Severity>().ok())
        .unwrap_or(severity);
    Misconfiguration {
        check_id: field("id").unwrap_or_else(|| package.clone()),
        title: field("title").unwrap_or_else(|| format!("Policy {package} ({rule})")),
        severity,
        message: msg,
        remediation: field("remediation").unwrap_or_default(),
        references: Vec::new(),
        compliance: Vec::new(),
        location: MisconfigLocation {
            path: path.to_string(),
            line,
            column: None,
            end_line: None,
            resource: Some(format!("policy {package}.{rule}")),
            layer: None,
        },
    }
}

/// The `input` documents for a file.
pub fn inputs(file: &SourceFile) -> Result<Vec<Value>, FileError> {
    match file.kind {
        FileKind::Dockerfile => {
            let df = crate::dockerfile::parse(&file.bytes)
                .map_err(|e| FileError::new(&file.path, Some(e.line), e.message))?;
            Ok(vec![dockerfile_input(&df)])
        }
        FileKind::DaemonJson => {
            let v: Value = serde_json::from_slice(&file.bytes).map_err(|e| {
                FileError::new(&file.path, Some(e.line()), format!("invalid JSON: {e}"))
            })?;
            Ok(vec![v])
        }
        FileKind::Kubernetes | FileKind::Compose => {
            let text = std::str::from_utf8(&file.bytes)
                .map_err(|_| FileError::new(&file.path, None, "not UTF-8 text"))?;
            let docs: Vec<Value> = serde_saphyr::from_multiple_with_options(text, yaml_options())
                .map_err(|e| {
                FileError::new(
                    &file.path,
                    e.location()
                        .and_then(|l| usize::try_from(l.line()).ok())
                        .filter(|&l| l > 0),
                    format!("invalid YAML: {e}"),
                )
            })?;
            Ok(docs.into_iter().filter(|v| !v.is_null()).collect())
        }
        FileKind::Rego => Ok(Vec::new()),
    }
}

/// serde-saphyr's limits for the manifests handed to Rego: its defaults bound aliases
/// (billion laughs), anchors, nodes and scalar bytes; nesting matches the positioned loader's
/// [`crate::yaml::MAX_DEPTH`], and a rendered chart may hold more than the default 1,024
/// documents (the read cap bounds them).
fn yaml_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = crate::yaml::MAX_DEPTH;
    budget.max_documents = 100_000;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.with_snippet = false;
    options
}

/// A Dockerfile as Rego sees it: one object per instruction. Keys in lower case are
/// bulwark's; `Cmd`, `Value`, `Flags`, `JSON`, `Original`, `Stage` repeat them under
/// conftest's names so its Dockerfile policies run unchanged.
pub fn dockerfile_input(df: &crate::dockerfile::Dockerfile) -> Value {
    let items: Vec<Value> = df
        .instructions
        .iter()
        .map(|i| {
            let cmd = i.cmd.to_ascii_lowercase();
            let args = i.words();
            let flags: Vec<String> = i
                .flags
                .iter()
                .map(|f| match &f.value {
                    Some(v) => format!("--{}={v}", f.name),
                    None => format!("--{}", f.name),
                })
                .collect();
            let stage = i.stage;
            let stage_name = stage.and_then(|s| df.stages[s].name.clone());
            let original = format!(
                "{}{}{}",
                i.cmd,
                if flags.is_empty() { String::new() } else { format!(" {}", flags.join(" ")) },
                format_args!(" {}", i.value)
            );
            json!({
                "cmd": cmd,
                "args": args,
                "value": i.value,
                "flags": flags,
                "json": i.exec.is_some(),
                "stage": stage,
                "stage_name": stage_name,
                "line": i.line,
                "end_line": i.end_line,
                "heredocs": i.heredocs.iter().map(|h| json!({"name": h.name, "body": h.body, "line": h.line})).collect::<Vec<_>>(),
                "Cmd": cmd,
                "Value": args,
                "Flags": flags,
                "JSON": i.exec.is_some(),
                "Original": original,
                "Stage": stage.unwrap_or(0),
            })
        })
        .collect();
    Value::Array(items)
}

/// Loads policies for one test or command from a single directory.
pub fn load_dir(dir: &Path) -> Result<Policies, Vec<FileError>> {
    Policies::load(&[dir.to_path_buf()], &[])
}

#[cfg(all(test, not(feature = "rego")))]
mod without_rego {
    /// A build without the `rego` feature refuses policies with what to do.
    #[test]
    fn loading_a_policy_says_rego_is_not_built_in() {
        let errors = super::load_dir(std::path::Path::new("policies")).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path, "policies");
        assert!(
            errors[0].message.contains("without Rego support"),
            "{errors:?}"
        );
        assert!(errors[0].message.contains("default features"), "{errors:?}");
    }
}
