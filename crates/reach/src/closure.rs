//! The static closure of an image's entrypoint: ENTRYPOINT + CMD resolved through the image's
//! `PATH` and symlinks, shebangs to their interpreters, ELF objects to their program
//! interpreter and `DT_NEEDED` libraries found as `ld.so` finds them, transitively.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use bulwark_analyze::{resolve_symlinks, ElfLinks, Fact, FileKind, ImageFacts, VisibleFile};

use crate::analyzer::ANALYZER_ID;

/// Docker's `PATH` when the image config sets none.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// Files in one closure; a real one holds a few hundred.
const MAX_NODES: usize = 100_000;
/// Programs started through wrappers, `env`, shells and shebangs, nested.
const MAX_START_DEPTH: usize = 16;
const MAX_INCLUDE_DEPTH: usize = 8;
/// Longest `sh -c` string parsed.
const MAX_SHELL_STRING: usize = 64 << 10;
const MAX_LABEL: usize = 200;

/// What the image config says runs (`ENTRYPOINT`, `CMD`, `Env`, `WorkingDir`).
#[derive(Debug, Clone, Default)]
pub struct EntrypointConfig {
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    /// `NAME=value` words.
    pub env: Vec<String>,
    pub working_dir: Option<String>,
    /// The image's HEALTHCHECK command as its build history records it: it runs inside the
    /// container too, and is not followed yet.
    pub healthcheck: Option<String>,
}

impl EntrypointConfig {
    /// ENTRYPOINT followed by CMD, as the runtime starts them.
    pub fn argv(&self) -> Vec<String> {
        self.entrypoint.iter().chain(&self.cmd).cloned().collect()
    }

    fn env(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .rev()
            .find_map(|e| e.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')))
    }
}

/// One `ld.so.conf`-like file: directories, `include` patterns, preloaded libraries.
type LoaderConfigFile<'a> = (&'a [String], &'a [String], &'a [String]);

/// The loading facts of the final filesystem, by image-relative content path.
pub struct LoadIndex<'a> {
    files: &'a BTreeMap<String, VisibleFile>,
    elf: HashMap<&'a str, &'a ElfLinks>,
    scripts: HashMap<&'a str, (&'a str, Option<&'a str>)>,
    ld_so_conf: HashMap<&'a str, LoaderConfigFile<'a>>,
}

impl<'a> LoadIndex<'a> {
    /// The facts of the files the final filesystem shows (a later layer's copy wins; facts of
    /// replaced or deleted files are left out). Needs `ImageFacts::layer_facts`.
    pub fn new(facts: &'a ImageFacts) -> LoadIndex<'a> {
        let mut index = LoadIndex {
            files: &facts.files,
            elf: HashMap::new(),
            scripts: HashMap::new(),
            ld_so_conf: HashMap::new(),
        };
        for (layer, lf) in facts.layer_facts.iter().enumerate() {
            for pf in lf.facts.iter().filter(|pf| pf.analyzer == ANALYZER_ID) {
                let shown = facts.files.get(&pf.path).is_some_and(|f| f.layer == layer)
                    || facts.layer_facts.len() == 1;
                if !shown {
                    continue;
                }
                for fact in &pf.facts {
                    match fact {
                        Fact::ElfLinks(links) => {
                            index.elf.insert(&pf.path, links);
                        }
                        Fact::Shebang {
                            interpreter,
                            argument,
                        } => {
                            index
                                .scripts
                                .insert(&pf.path, (interpreter, argument.as_deref()));
                        }
                        Fact::LdSoConf {
                            dirs,
                            includes,
                            preload,
                        } => {
                            index.ld_so_conf.insert(&pf.path, (dirs, includes, preload));
                        }
                        _ => {}
                    }
                }
            }
        }
        index
    }

    /// The file's content path: symlinks resolved, a hard link to its target; `None` when it
    /// is absent or not a regular file.
    pub fn content_path(&self, path: &str) -> Option<String> {
        let resolved = resolve_symlinks(self.files, path.trim_start_matches('/')).ok()?;
        let file = self.files.get(&resolved)?;
        match file.record.kind {
            FileKind::Regular => Some(resolved),
            FileKind::Hardlink => file.record.link.clone(),
            _ => None,
        }
    }

    /// The content a package's own file entry holds: directories on the way resolved, the
    /// entry itself not followed when it is a symlink (a package owning a link to another
    /// package's library does not own that library's code).
    pub fn owned_content(&self, path: &str) -> Option<String> {
        let path = path.trim_start_matches('/');
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let dir = resolve_symlinks(self.files, dir).ok()?;
        let entry = if dir.is_empty() {
            name.to_string()
        } else {
            format!("{dir}/{name}")
        };
        let file = self.files.get(&entry)?;
        match file.record.kind {
            FileKind::Regular => Some(entry),
            FileKind::Hardlink => file.record.link.clone(),
            _ => None,
        }
    }

    pub fn elf(&self, content_path: &str) -> Option<&'a ElfLinks> {
        self.elf.get(content_path).copied()
    }

    pub fn is_script(&self, content_path: &str) -> bool {
        self.scripts.contains_key(content_path)
    }

    /// `ld.so.conf` directories in file order, `include`s expanded in place; and the
    /// `ld.so.preload` libraries.
    fn loader_config(&self) -> (Vec<String>, Vec<String>) {
        let mut dirs = Vec::new();
        self.conf_dirs("etc/ld.so.conf", 0, &mut dirs);
        let preload = self
            .content_path("etc/ld.so.preload")
            .and_then(|p| self.ld_so_conf.get(p.as_str()))
            .map(|(_, _, p)| p.to_vec())
            .unwrap_or_default();
        (dirs, preload)
    }

    fn conf_dirs(&self, path: &str, depth: usize, out: &mut Vec<String>) {
        if depth > MAX_INCLUDE_DEPTH || out.len() > 4096 {
            return;
        }
        let Some(content) = self.content_path(path) else {
            return;
        };
        let Some((dirs, includes, _)) = self.ld_so_conf.get(content.as_str()) else {
            return;
        };
        out.extend(dirs.iter().cloned());
        let base = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        for pattern in includes.iter() {
            let pattern = if pattern.starts_with('/') {
                pattern.trim_start_matches('/').to_string()
            } else {
                format!("{base}/{pattern}")
            };
            for file in self.glob(&pattern) {
                self.conf_dirs(&file, depth + 1, out);
            }
        }
    }

    /// `*` and `?` in the last component only, sorted as glob(3) sorts.
    fn glob(&self, pattern: &str) -> Vec<String> {
        let (dir, name) = pattern.rsplit_once('/').unwrap_or(("", pattern));
        if !name.contains(['*', '?']) {
            return vec![pattern.to_string()];
        }
        let dir = resolve_symlinks(self.files, dir).unwrap_or_else(|_| dir.to_string());
        let start = format!("{dir}/");
        let end = format!("{dir}0");
        self.files
            .range(start.clone()..end)
            .map(|(k, _)| &k[start.len()..])
            .filter(|rest| !rest.contains('/') && wildcard(name.as_bytes(), rest.as_bytes()))
            .map(|rest| format!("{start}{rest}"))
            .take(1024)
            .collect()
    }
}

fn wildcard(pattern: &[u8], text: &[u8]) -> bool {
    // Iterative matching with one backtrack point: linear in practice, never recursive.
    let (mut p, mut t, mut star, mut mark) = (0, 0, None, 0);
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some(p);
            mark = t;
            p += 1;
        } else if let Some(s) = star {
            p = s + 1;
            mark += 1;
            t = mark;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|c| *c == b'*')
}

/// One file in the closure and how it got there.
#[derive(Debug, Clone)]
pub struct Node {
    /// Image-relative content path (symlinks resolved).
    pub path: String,
    pub parent: Option<usize>,
}

/// Something in the closure that can run or load code the analysis does not follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenLoader {
    /// Image-absolute path of the file.
    pub path: String,
    /// What it can do, in words.
    pub why: String,
}

/// The entrypoint's static closure.
#[derive(Debug, Clone, Default)]
pub struct Closure {
    /// The entrypoint as the chain's first word (`entrypoint: /docker-entrypoint.sh nginx`).
    pub label: String,
    pub nodes: Vec<Node>,
    by_path: HashMap<String, usize>,
    /// Interpreters running code not followed, `dlopen` and `exec*` callers.
    pub open: Vec<OpenLoader>,
    /// Libraries or programs named but not found (`ld.so` would fail; a shell would say
    /// "not found").
    pub missing: Vec<String>,
    /// The closure hit [`MAX_NODES`].
    pub truncated: bool,
    /// Libraries with a known plugin directory (libc: NSS and gconv modules; libpam: PAM
    /// modules) whose loader is in the closure.
    pub plugin_hosts: Vec<PluginHost>,
}

/// A library in the closure that loads modules from a known place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginHost {
    /// glibc: NSS modules (`libnss_*.so*`) and gconv modules (`gconv/*.so`).
    Glibc,
    /// Linux-PAM: modules under `security/`.
    Pam,
}

impl Closure {
    pub fn contains(&self, content_path: &str) -> Option<usize> {
        self.by_path.get(content_path).copied()
    }

    /// Image-absolute paths from the entrypoint's first file to `node`.
    pub fn chain(&self, node: usize) -> Vec<String> {
        let mut chain = Vec::new();
        let mut at = Some(node);
        while let Some(i) = at {
            chain.push(format!("/{}", self.nodes[i].path));
            at = self.nodes[i].parent;
            if chain.len() > self.nodes.len() {
                break;
            }
        }
        chain.push(self.label.clone());
        chain.reverse();
        chain
    }
}

/// The kinds of program the analysis treats specially at a start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Program {
    Shell,
    /// `env`: runs its first non-option, non-assignment word through `PATH`.
    Env,
    /// `tini`, `dumb-init`: run their first non-option word.
    Init,
    /// `gosu USER CMD`, `su-exec USER CMD`.
    SwitchUser,
    /// Python, Node, Java, Perl, Ruby...: runs code the analysis does not follow.
    Interpreter,
    Other,
}

fn classify(names: &[&str]) -> Program {
    for name in names {
        let stem = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.' || c == '-');
        match stem {
            "sh" | "bash" | "dash" | "ash" | "zsh" | "ksh" | "mksh" | "yash" => {
                return Program::Shell
            }
            "busybox" => return Program::Shell,
            "env" => return Program::Env,
            "tini" | "tini-static" | "dumb-init" | "catatonit" => return Program::Init,
            "gosu" | "su-exec" => return Program::SwitchUser,
            "python" | "pypy" | "node" | "nodejs" | "java" | "perl" | "ruby" | "php"
            | "php-fpm" | "lua" | "luajit" | "tclsh" | "wish" | "Rscript" | "R" | "awk"
            | "gawk" | "mawk" | "guile" | "erl" | "beam.smp" | "dotnet" | "pwsh" | "deno"
            | "bun" | "uwsgi" | "gunicorn" | "uvicorn" | "jshell" | "groovy" => {
                return Program::Interpreter
            }
            _ => {}
        }
    }
    Program::Other
}

/// Builds the closure of the image's entrypoint. `None` when the config names nothing to run.
pub fn closure(index: &LoadIndex, config: &EntrypointConfig) -> Option<Closure> {
    let argv = config.argv();
    if argv.is_empty() {
        return None;
    }
    let mut label = format!("entrypoint: {}", argv.join(" "));
    if label.len() > MAX_LABEL {
        let mut cut = MAX_LABEL;
        while !label.is_char_boundary(cut) {
            cut -= 1;
        }
        label.truncate(cut);
        label.push('…');
    }
    let (conf_dirs, preload) = index.loader_config();
    let mut b = Builder {
        index,
        config,
        path: config.env("PATH").unwrap_or(DEFAULT_PATH).to_string(),
        conf_dirs,
        preload,
        closure: Closure {
            label,
            ..Closure::default()
        },
        queue: VecDeque::new(),
        parsed_shells: HashSet::new(),
    };
    if config.healthcheck.is_some() {
        b.closure.open.push(OpenLoader {
            path: "the HEALTHCHECK".into(),
            why: "runs a command in the container that is not analysed yet".into(),
        });
    }
    b.start(&argv, None, 0);
    b.link();
    Some(b.closure)
}

struct Builder<'i, 'a> {
    index: &'i LoadIndex<'a>,
    config: &'i EntrypointConfig,
    path: String,
    conf_dirs: Vec<String>,
    preload: Vec<String>,
    closure: Closure,
    /// ELF objects whose needs are still to be resolved: (node, the path it was loaded as).
    queue: VecDeque<(usize, String)>,
    /// Shells that run only a `-c` string the analysis parsed.
    parsed_shells: HashSet<String>,
}

impl Builder<'_, '_> {
    fn open(&mut self, path: &str, why: impl Into<String>) {
        if self.closure.open.len() < 64 {
            self.closure.open.push(OpenLoader {
                path: format!("/{}", path.trim_start_matches('/')),
                why: why.into(),
            });
        }
    }

    /// Adds a file (already resolved to its content path) and returns its node.
    fn add(&mut self, content: String, parent: Option<usize>, loaded_as: &str) -> Option<usize> {
        if let Some(&i) = self.closure.by_path.get(&content) {
            return Some(i);
        }
        if self.closure.nodes.len() >= MAX_NODES {
            self.closure.truncated = true;
            return None;
        }
        let i = self.closure.nodes.len();
        self.closure.nodes.push(Node {
            path: content.clone(),
            parent,
        });
        self.closure.by_path.insert(content.clone(), i);
        if self.index.elf(&content).is_some() {
            self.queue.push_back((i, loaded_as.to_string()));
            let name = content.rsplit('/').next().unwrap_or("");
            if name.starts_with("libc.so") || name.starts_with("libc-") {
                self.closure.plugin_hosts.push(PluginHost::Glibc);
            }
            if name.starts_with("libpam.so") {
                self.closure.plugin_hosts.push(PluginHost::Pam);
            }
        }
        Some(i)
    }

    /// A program name as a shell or `execvp` finds it: through `PATH` unless it has a `/`.
    fn find_program(&self, word: &str) -> Option<(String, String)> {
        if word.contains('/') {
            let path = if word.starts_with('/') {
                word.to_string()
            } else {
                let wd = self.config.working_dir.as_deref().unwrap_or("/");
                format!("{}/{word}", wd.trim_end_matches('/'))
            };
            return self.index.content_path(&path).map(|c| (path, c));
        }
        self.path
            .split(':')
            .filter(|d| !d.is_empty())
            .find_map(|dir| {
                let path = format!("{}/{word}", dir.trim_end_matches('/'));
                self.index.content_path(&path).map(|c| (path, c))
            })
    }

    /// Runs `argv` as an exec would, from `parent`.
    fn start(&mut self, argv: &[String], parent: Option<usize>, depth: usize) {
        let Some(word) = argv.first() else {
            return;
        };
        if depth > MAX_START_DEPTH {
            self.open(word, "starts programs nested too deep to follow");
            return;
        }
        let Some((invoked, content)) = self.find_program(word) else {
            if self.closure.missing.len() < 64 {
                self.closure.missing.push(word.clone());
            }
            return;
        };
        let Some(node) = self.add(content.clone(), parent, &invoked) else {
            return;
        };
        let invoked_name = invoked.rsplit('/').next().unwrap_or("");
        let real_name = content.rsplit('/').next().unwrap_or("");
        let args = &argv[1..];
        if let Some(&(interpreter, argument)) = self.index.scripts.get(content.as_str()) {
            // The kernel runs `interpreter [argument] script args...`.
            let mut run = vec![interpreter.to_string()];
            run.extend(argument.map(str::to_string));
            run.push(format!("/{content}"));
            run.extend(args.iter().cloned());
            // Through `env` when the line is `/usr/bin/env X`, like any start.
            self.start(&run, Some(node), depth + 1);
            return;
        }
        match classify(&[invoked_name, real_name]) {
            Program::Env => {
                let rest: Vec<String> = args
                    .iter()
                    .skip_while(|a| a.starts_with('-') || a.contains('='))
                    .cloned()
                    .collect();
                if rest.is_empty() {
                    return;
                }
                self.start(&rest, Some(node), depth + 1);
            }
            Program::Init => {
                let rest: Vec<String> = args
                    .iter()
                    .skip_while(|a| a.starts_with('-'))
                    .cloned()
                    .collect();
                self.start(&rest, Some(node), depth + 1);
            }
            Program::SwitchUser => {
                if args.len() > 1 {
                    self.start(&args[1..], Some(node), depth + 1);
                }
            }
            Program::Shell => self.shell(node, &content, args, depth),
            Program::Interpreter => self.interpreter(node, &content, args),
            Program::Other if self.index.elf(&content).is_none() => {
                self.open(
                    &content,
                    "is a program whose format or linkage could not be read",
                );
            }
            Program::Other => {}
        }
    }

    fn shell(&mut self, node: usize, content: &str, args: &[String], depth: usize) {
        // Options before `-c` or the script (`sh -e -c '...'`, `bash -lc '...'`).
        let mut i = 0;
        let mut command_string = false;
        while i < args.len() && args[i].starts_with('-') && args[i] != "-" && args[i] != "--" {
            if args[i].contains('c') && !args[i].starts_with("--") {
                command_string = true;
            }
            i += 1;
        }
        if command_string {
            match args.get(i) {
                Some(script) => self.shell_string(node, content, script, depth),
                None => self.open(content, "is a shell reading commands from its input"),
            }
            return;
        }
        match args.get(i) {
            Some(script) if script != "-" => {
                if let Some((_, script_content)) = self.find_script(script) {
                    self.add(script_content, Some(node), script);
                }
                self.open(
                    content,
                    format!("is a shell running the script {script}, which is not analysed yet"),
                );
            }
            _ => self.open(
                content,
                "is an interactive shell: it can run any program in the image",
            ),
        }
    }

    fn find_script(&self, word: &str) -> Option<(String, String)> {
        if word.starts_with('-') {
            return None;
        }
        let wd = self.config.working_dir.as_deref().unwrap_or("/");
        let path = if word.starts_with('/') {
            word.to_string()
        } else {
            format!("{}/{word}", wd.trim_end_matches('/'))
        };
        self.index.content_path(&path).map(|c| (path, c))
    }

    fn interpreter(&mut self, node: usize, content: &str, args: &[String]) {
        let script = args.iter().find(|a| !a.starts_with('-'));
        if let Some((_, script_content)) = script.and_then(|s| self.find_script(s)) {
            self.add(script_content, Some(node), "");
        }
        self.open(
            content,
            "is an interpreter: the code it runs and imports is not analysed yet",
        );
    }

    /// `sh -c STRING`: the first word of each simple command, best effort. Anything the
    /// analysis cannot see through (expansions, `eval`, sourcing, functions) leaves the shell
    /// open.
    fn shell_string(&mut self, node: usize, content: &str, script: &str, depth: usize) {
        if script.len() > MAX_SHELL_STRING {
            self.open(content, "runs a shell command string too long to analyse");
            return;
        }
        match simple_commands(script) {
            Ok(commands) => {
                for command in commands {
                    if command.first().map(String::as_str) == Some("enable") {
                        self.open(content, "may load builtins from files (`enable`)");
                        continue;
                    }
                    self.start(&command, Some(node), depth + 1);
                    // A command word that names nothing may be a function or alias.
                }
                // A shell that runs only a parsed string loads and runs nothing else: its
                // `dlopen` serves `enable -f` (caught above), its `execve` the commands.
                self.parsed_shells.insert(content.to_string());
            }
            Err(why) => self.open(
                content,
                format!("runs a shell command string with {why}, which is not analysed"),
            ),
        }
    }

    /// Resolves every queued ELF object's program interpreter and needed libraries.
    fn link(&mut self) {
        let mut env_preload: Vec<String> = self
            .config
            .env("LD_PRELOAD")
            .map(|v| {
                v.split([' ', ':'])
                    .filter(|w| !w.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        env_preload.extend(self.preload.iter().cloned());
        while let Some((node, loaded_as)) = self.queue.pop_front() {
            let content = self.closure.nodes[node].path.clone();
            let Some(links) = self.index.elf(&content) else {
                continue;
            };
            if !self.parsed_shells.contains(&content) {
                if links.loads_libraries {
                    self.open(
                        &content,
                        "imports dlopen: it can load libraries no DT_NEEDED names",
                    );
                }
                if links.runs_programs {
                    self.open(&content, "can start other programs (imports exec, system or posix_spawn, or makes the system call itself)");
                }
            }
            let mut needed: Vec<String> = Vec::new();
            if let Some(interpreter) = &links.interpreter {
                match self.index.content_path(interpreter) {
                    Some(c) => {
                        self.add(c, Some(node), interpreter);
                    }
                    None => self.missing(interpreter),
                }
                // Preloaded libraries come before the executable's own needs.
                needed.extend(env_preload.iter().cloned());
            }
            needed.extend(links.needed.iter().cloned());
            for name in needed {
                match self.find_library(&name, node, links, &loaded_as) {
                    Some((as_path, c)) => {
                        self.add(c, Some(node), &as_path);
                    }
                    None => self.missing(&name),
                }
                if self.closure.truncated {
                    return;
                }
            }
        }
    }

    fn missing(&mut self, name: &str) {
        if self.closure.missing.len() < 64 && !self.closure.missing.iter().any(|m| m == name) {
            self.closure.missing.push(name.to_string());
        }
    }

    /// `ld.so`'s search for a `DT_NEEDED` name: a name with a slash as a path; else
    /// `DT_RPATH` of the object and its loaders (only while none has `DT_RUNPATH`),
    /// `LD_LIBRARY_PATH`, the object's `DT_RUNPATH`, the `ld.so.conf` directories (what
    /// `ld.so.cache` is built from), then the default directories. A candidate of another
    /// ELF class or machine is passed over, as `ld.so` does.
    fn find_library(
        &self,
        name: &str,
        node: usize,
        links: &ElfLinks,
        loaded_as: &str,
    ) -> Option<(String, String)> {
        let compatible = |content: &str| {
            self.index
                .elf(content)
                .is_some_and(|l| l.class64 == links.class64 && l.machine == links.machine)
        };
        if name.contains('/') {
            return self
                .index
                .content_path(name)
                .filter(|c| compatible(c))
                .map(|c| (name.to_string(), c));
        }
        let mut dirs: Vec<String> = Vec::new();
        if links.runpath.is_empty() {
            let mut at = Some((node, loaded_as.to_string()));
            let mut hops = 0;
            while let Some((i, as_path)) = at {
                let path = &self.closure.nodes[i].path;
                let Some(l) = self.index.elf(path) else {
                    break;
                };
                if !l.runpath.is_empty() {
                    break;
                }
                let origin = origin_of(if as_path.is_empty() { path } else { &as_path });
                dirs.extend(l.rpath.iter().filter_map(|d| expand(d, &origin)));
                hops += 1;
                at = self.closure.nodes[i]
                    .parent
                    .filter(|_| hops < MAX_START_DEPTH)
                    .map(|p| (p, String::new()));
            }
        }
        if let Some(ld_library_path) = self.config.env("LD_LIBRARY_PATH") {
            dirs.extend(
                ld_library_path
                    .split([':', ';'])
                    .filter(|d| !d.is_empty())
                    .map(str::to_string),
            );
        }
        let origin = origin_of(if loaded_as.is_empty() {
            &self.closure.nodes[node].path
        } else {
            loaded_as
        });
        dirs.extend(links.runpath.iter().filter_map(|d| expand(d, &origin)));
        dirs.extend(self.conf_dirs.iter().cloned());
        dirs.extend(default_dirs(links).iter().map(|d| d.to_string()));
        dirs.iter().find_map(|dir| {
            let path = format!("/{}/{name}", dir.trim_matches('/'));
            self.index
                .content_path(&path)
                .filter(|c| compatible(c))
                .map(|c| (path, c))
        })
    }
}

/// The directory `$ORIGIN` stands for: the object's own, image-absolute.
fn origin_of(path: &str) -> String {
    let path = path.trim_start_matches('/');
    format!("/{}", path.rsplit_once('/').map(|(d, _)| d).unwrap_or(""))
}

/// `$ORIGIN` substituted; other dynamic string tokens (`$LIB`, `$PLATFORM`) name
/// machine-dependent directories and are left unresolved.
fn expand(dir: &str, origin: &str) -> Option<String> {
    let dir = dir.replace("${ORIGIN}", origin).replace("$ORIGIN", origin);
    (!dir.contains('$')).then_some(dir)
}

/// Where `ld.so` looks last: the multiarch directories Debian and Ubuntu build in, then the
/// traditional ones.
fn default_dirs(links: &ElfLinks) -> &'static [&'static str] {
    match (links.machine, links.class64) {
        (object::elf::EM_X86_64, true) => &[
            "/lib/x86_64-linux-gnu",
            "/usr/lib/x86_64-linux-gnu",
            "/lib64",
            "/usr/lib64",
            "/lib",
            "/usr/lib",
        ],
        (object::elf::EM_AARCH64, true) => &[
            "/lib/aarch64-linux-gnu",
            "/usr/lib/aarch64-linux-gnu",
            "/lib64",
            "/usr/lib64",
            "/lib",
            "/usr/lib",
        ],
        (object::elf::EM_386, false) => &[
            "/lib/i386-linux-gnu",
            "/usr/lib/i386-linux-gnu",
            "/lib32",
            "/usr/lib32",
            "/lib",
            "/usr/lib",
        ],
        (object::elf::EM_ARM, false) => &[
            "/lib/arm-linux-gnueabihf",
            "/usr/lib/arm-linux-gnueabihf",
            "/lib",
            "/usr/lib",
        ],
        (object::elf::EM_PPC64, true) => &[
            "/lib/powerpc64le-linux-gnu",
            "/usr/lib/powerpc64le-linux-gnu",
            "/lib64",
            "/usr/lib64",
            "/lib",
            "/usr/lib",
        ],
        (object::elf::EM_S390, true) => &[
            "/lib/s390x-linux-gnu",
            "/usr/lib/s390x-linux-gnu",
            "/lib64",
            "/usr/lib64",
            "/lib",
            "/usr/lib",
        ],
        (_, true) => &["/lib64", "/usr/lib64", "/lib", "/usr/lib"],
        (_, false) => &["/lib", "/usr/lib"],
    }
}

/// The simple commands of a shell string, each as its words (assignments and redirections
/// dropped, `exec`/`command`/`nohup` skipped). `Err` names what cannot be seen through.
pub fn simple_commands(script: &str) -> Result<Vec<Vec<String>>, &'static str> {
    if script.contains("$(") || script.contains('`') {
        return Err("command substitution");
    }
    let mut commands = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = script.chars().peekable();
    let flush_word = |word: &mut String, in_word: &mut bool, words: &mut Vec<String>| {
        if *in_word {
            words.push(std::mem::take(word));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => word.extend(chars.next()),
                        _ => word.push(q),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    if n != '\n' {
                        word.push(n);
                    }
                }
            }
            '#' if !in_word => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
                flush_word(&mut word, &mut in_word, &mut words);
                commands.push(std::mem::take(&mut words));
            }
            ' ' | '\t' => flush_word(&mut word, &mut in_word, &mut words),
            // `2>&1`, `<&3`: a redirection, not a background `&`.
            '&' if in_word && word.ends_with(['>', '<']) => word.push(c),
            ';' | '&' | '|' | '\n' | '(' | ')' | '{' | '}'
                if !(c == '{' || c == '}') || !in_word =>
            {
                flush_word(&mut word, &mut in_word, &mut words);
                commands.push(std::mem::take(&mut words));
            }
            _ => {
                in_word = true;
                word.push(c);
            }
        }
    }
    flush_word(&mut word, &mut in_word, &mut words);
    commands.push(words);

    let mut out = Vec::new();
    for mut command in commands {
        // Redirections (`> file`, `2>&1`, `<in`) and their targets are not commands.
        let mut kept = Vec::new();
        let mut skip_next = false;
        for w in command.drain(..) {
            if skip_next {
                skip_next = false;
                continue;
            }
            let stripped = w.trim_start_matches(|c: char| c.is_ascii_digit());
            if stripped.starts_with('>') || stripped.starts_with('<') {
                skip_next = stripped.trim_start_matches(['>', '<', '&']).is_empty();
                continue;
            }
            kept.push(w);
        }
        let mut words = kept.as_slice();
        loop {
            match words.first().map(String::as_str) {
                Some(w) if is_assignment(w) => words = &words[1..],
                Some(
                    "exec" | "command" | "nohup" | "time" | "!" | "then" | "else" | "do" | "if"
                    | "elif" | "while" | "until",
                ) => words = &words[1..],
                _ => break,
            }
        }
        let Some(first) = words.first() else {
            continue;
        };
        match first.as_str() {
            "eval" | "." | "source" | "trap" | "alias" => return Err("eval, sourcing or aliases"),
            "case" | "esac" | "for" | "select" | "function" => return Err("compound commands"),
            "fi" | "done" | "true" | "false" | ":" | "cd" | "echo" | "printf" | "export"
            | "set" | "unset" | "shift" | "exit" | "return" | "test" | "[" | "[[" | "read"
            | "wait" | "umask" | "ulimit" | "local" | "readonly" | "pwd" | "break" | "continue"
            | "shopt" | "declare" | "typeset" | "hash" | "type" | "kill" | "sleep" => {
                // Builtins (sleep and kill are builtins in some shells; where they are
                // programs the shell runs them, and they load only libc).
                if first == "sleep" || first == "kill" {
                    out.push(words.to_vec());
                }
                continue;
            }
            w if w.contains(['$', '*', '?', '[', '~']) => {
                return Err("expansions in a command word")
            }
            w if w.ends_with("()") => return Err("function definitions"),
            _ => out.push(words.to_vec()),
        }
    }
    Ok(out)
}

fn is_assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(script: &str) -> Vec<Vec<&'static str>> {
        simple_commands(script)
            .unwrap()
            .into_iter()
            .map(|c| c.into_iter().map(|w| &*w.leak()).collect())
            .collect()
    }

    #[test]
    fn shell_strings_give_the_first_word_of_each_simple_command() {
        assert_eq!(
            words("set -e; A=1 B='x y' exec nginx -g 'daemon off;' 2>&1 | tee /log && echo ok"),
            vec![vec!["nginx", "-g", "daemon off;"], vec!["tee", "/log"]]
        );
        assert_eq!(
            words("if test -f /x; then /usr/bin/run --a; fi\n# comment; rm -rf /\nsleep 1"),
            vec![vec!["/usr/bin/run", "--a"], vec!["sleep", "1"]]
        );
        assert!(simple_commands("exec \"$@\"").is_err());
        assert!(simple_commands("eval \"$CMD\"").is_err());
        assert!(simple_commands("x=$(cat /f); run").is_err());
        assert!(simple_commands("for f in *; do cat $f; done").is_err());
        assert!(simple_commands(". /etc/profile; run").is_err());
    }

    #[test]
    fn wildcards_match_like_glob() {
        assert!(wildcard(b"*.conf", b"x86_64-linux-gnu.conf"));
        assert!(!wildcard(b"*.conf", b"x.conf.bak"));
        assert!(wildcard(b"lib?.so*", b"libz.so.1"));
        assert!(!wildcard(b"a*a*a*a*b", &[b'a'; 10_000]));
    }
}
