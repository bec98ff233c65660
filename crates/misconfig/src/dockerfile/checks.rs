//! The built-in Dockerfile checks. Each finding points at the instruction's first line.

use super::parse::{key_values, split_words, Dockerfile, Instruction};
use super::shell::{commands, Command};
use crate::Hit;

/// A `RUN` instruction with its shell commands.
struct Run<'a> {
    ins: &'a Instruction,
    cmds: Vec<Command>,
    final_stage: bool,
    /// `PIP_NO_CACHE_DIR` is set in the stage.
    pip_cache_off: bool,
}

impl Run<'_> {
    /// Commands whose program is one of `names`, with their arguments.
    fn calls<'s>(&'s self, names: &'s [&str]) -> impl Iterator<Item = &'s [String]> + 's {
        self.cmds.iter().filter_map(move |c| {
            let (p, args) = c.program()?;
            names.contains(&p).then_some(args)
        })
    }

    /// A cache mount (`--mount=type=cache,target=…`) over a path starting with `prefix`.
    fn cache_mount(&self, prefix: &str) -> bool {
        self.ins.flags.iter().any(|f| {
            f.name == "mount"
                && f.value.as_deref().is_some_and(|v| {
                    v.contains("type=cache")
                        && v.split(',').any(|kv| {
                            kv.split_once('=').is_some_and(|(k, p)| {
                                matches!(k, "target" | "dst" | "destination")
                                    && p.starts_with(prefix)
                            })
                        })
                })
        })
    }

    fn removes(&self, prefix: &str) -> bool {
        self.calls(&["rm"])
            .any(|args| args.iter().any(|a| a.starts_with(prefix)))
    }
}

fn stage_name(df: &Dockerfile, ins: &Instruction) -> String {
    match ins.stage {
        Some(s) => match &df.stages[s].name {
            Some(n) => format!("stage {n}"),
            None => format!("stage {s}"),
        },
        None => "global".to_string(),
    }
}

fn hit(df: &Dockerfile, ins: &Instruction, id: &'static str, msg: impl Into<String>) -> Hit {
    Hit::new(id, msg)
        .at(ins.line, ins.column)
        .on(stage_name(df, ins))
}

fn script_commands(ins: &Instruction) -> Vec<Command> {
    if let Some(exec) = &ins.exec {
        let prog = exec.first().map(|p| p.rsplit('/').next().unwrap_or(p));
        if matches!(prog, Some("sh" | "bash" | "ash" | "dash"))
            && exec.get(1).is_some_and(|a| a == "-c")
        {
            return exec.get(2).map(|s| commands(s)).unwrap_or_default();
        }
        return vec![Command {
            words: exec.clone(),
            piped: false,
        }];
    }
    let mut script = ins.value.clone();
    for h in &ins.heredocs {
        script.push('\n');
        script.push_str(&h.body);
    }
    commands(&script)
}

/// Runs every check.
pub fn run(df: &Dockerfile) -> Vec<Hit> {
    let mut hits = Vec::new();
    let last = df.stages.len() - 1;
    let pip_off: std::collections::HashSet<usize> = df
        .instructions
        .iter()
        .filter(|i| {
            matches!(i.cmd.as_str(), "ENV" | "ARG")
                && key_values(&i.value, i.cmd == "ENV").iter().any(|(k, v)| {
                    k == "PIP_NO_CACHE_DIR" && v.as_deref().is_some_and(|v| !v.is_empty())
                })
        })
        .filter_map(|i| i.stage)
        .collect();
    let runs: Vec<Run> = df
        .instructions
        .iter()
        .filter(|i| i.cmd == "RUN")
        .map(|ins| Run {
            ins,
            cmds: script_commands(ins),
            final_stage: ins.stage == Some(last),
            pip_cache_off: ins.stage.is_some_and(|s| pip_off.contains(&s)),
        })
        .collect();
    user_and_healthcheck(df, &mut hits);
    base_images(df, &mut hits);
    for r in &runs {
        apt(df, r, &mut hits);
        apk(df, r, &mut hits);
        rpm_family(df, r, &mut hits);
        pip(df, r, &mut hits);
        npm(df, r, &mut hits);
        misc_run(df, r, &mut hits);
    }
    instructions(df, &mut hits);
    env_and_arg(df, &mut hits);
    hits
}

/// BW-DF-001 (no USER / USER root in the final stage), BW-DF-002 (no HEALTHCHECK).
fn user_and_healthcheck(df: &Dockerfile, hits: &mut Vec<Hit>) {
    let stage = df.final_stage().expect("parse refuses files without FROM");
    let from = &df.instructions[stage.from];
    let users: Vec<&Instruction> = df
        .stage_instructions(stage.index)
        .filter(|i| i.cmd == "USER")
        .collect();
    // An entrypoint that steps down with gosu, su-exec or setpriv runs the service as a user.
    let steps_down = df
        .stage_instructions(stage.index)
        .filter(|i| matches!(i.cmd.as_str(), "ENTRYPOINT" | "CMD"))
        .any(|i| {
            // `gosu USER COMMAND…`: a user and a command must follow.
            let words = i.words();
            words.iter().enumerate().any(|(n, w)| {
                matches!(
                    w.rsplit('/').next().unwrap_or(w),
                    "gosu" | "su-exec" | "setpriv" | "chpst"
                ) && words.len() > n + 2
            })
        });
    match users.last() {
        None if steps_down => {}
        None => hits.push(hit(
            df,
            from,
            "BW-DF-001",
            "the final stage sets no USER: the container runs as root unless the base image sets a user",
        )),
        Some(u) => {
            let user = u.value.split(':').next().unwrap_or("").trim();
            if user == "root" || user == "0" {
                hits.push(hit(
                    df,
                    u,
                    "BW-DF-001",
                    format!("the last USER of the final stage is {user}: the container runs as root"),
                ));
            }
        }
    }
    let health = df
        .stage_instructions(stage.index)
        .filter(|i| i.cmd == "HEALTHCHECK")
        .last();
    match health {
        None => hits.push(hit(
            df,
            from,
            "BW-DF-002",
            "the final stage has no HEALTHCHECK",
        )),
        Some(h) if h.value.trim().eq_ignore_ascii_case("none") => hits.push(hit(
            df,
            h,
            "BW-DF-002",
            "HEALTHCHECK NONE disables the health check",
        )),
        Some(_) => {}
    }
}

/// BW-DF-003 (latest or no tag), BW-DF-004 (no digest), BW-DF-032 (duplicate stage names).
fn base_images(df: &Dockerfile, hits: &mut Vec<Hit>) {
    let mut names: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for stage in &df.stages {
        let from = &df.instructions[stage.from];
        let base = stage.base.trim();
        let earlier_stage = names.contains(base.to_ascii_lowercase().as_str());
        if let Some(n) = stage.name.as_deref() {
            if names.contains(n) {
                hits.push(hit(
                    df,
                    from,
                    "BW-DF-032",
                    format!("stage name {n} is used by an earlier stage"),
                ));
            }
            names.insert(n);
        }
        if base.is_empty() || base.contains('$') || earlier_stage || base == "scratch" {
            continue;
        }
        let (name, digest) = match base.split_once('@') {
            Some((n, d)) => (n, Some(d)),
            None => (base, None),
        };
        let last = name.rsplit('/').next().unwrap_or(name);
        let tag = last.split_once(':').map(|(_, t)| t);
        if digest.is_none() {
            match tag {
                None => hits.push(hit(
                    df,
                    from,
                    "BW-DF-003",
                    format!(
                        "base image {base} has no tag: it means latest, which changes under you"
                    ),
                )),
                Some("latest") => hits.push(hit(
                    df,
                    from,
                    "BW-DF-003",
                    format!("base image {base} uses the latest tag"),
                )),
                Some(_) => {}
            }
            hits.push(hit(
                df,
                from,
                "BW-DF-004",
                format!("base image {base} is not pinned by digest (@sha256:…)"),
            ));
        }
    }
}

fn has_flag(args: &[String], long: &[&str], short: char) -> bool {
    args.iter().any(|a| {
        long.iter()
            .any(|l| a == l || a.starts_with(&format!("{l}=")))
            || (short != '\0'
                && a.starts_with('-')
                && !a.starts_with("--")
                && a[1..].chars().all(|c| c.is_ascii_alphabetic())
                && a.contains(short))
    })
}

/// The arguments that name packages: not options, and not the values of options in `takes`.
fn operands<'a>(args: &'a [String], takes: &[&str]) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut skip = false;
    for a in args {
        if skip {
            skip = false;
            continue;
        }
        if a.starts_with('-') {
            skip = takes.contains(&a.as_str());
            continue;
        }
        out.push(a.as_str());
    }
    out
}

fn is_path_or_var(p: &str) -> bool {
    p.starts_with('.') || p.starts_with('/') || p.starts_with('$') || p.starts_with('~')
}

/// BW-DF-005…009, BW-DF-013, BW-DF-031: apt-get hygiene.
fn apt(df: &Dockerfile, r: &Run, hits: &mut Vec<Hit>) {
    let installs: Vec<&[String]> = r
        .calls(&["apt-get", "apt"])
        .filter(|a| {
            operands(a, &["-o", "-t", "--target-release", "-c"]).first() == Some(&"install")
        })
        .collect();
    for args in &installs {
        let assume_yes = has_flag(args, &["--yes", "--assume-yes"], 'y')
            || args
                .iter()
                .any(|a| a == "-qq" || a == "-q=2" || a == "--quiet=2");
        if !assume_yes {
            hits.push(hit(
                df,
                r.ins,
                "BW-DF-005",
                "apt-get install without -y: the build waits for an answer",
            ));
        }
        let no_rec = args.iter().any(|a| {
            a == "--no-install-recommends"
                || a.starts_with("APT::Install-Recommends=")
                    && (a.ends_with("false") || a.ends_with('0'))
        });
        if !no_rec {
            hits.push(hit(
                df,
                r.ins,
                "BW-DF-006",
                "apt-get install without --no-install-recommends installs packages nobody asked for",
            ));
        }
        let unpinned: Vec<&str> = operands(args, &["-o", "-t", "--target-release", "-c"])
            .into_iter()
            .skip(1)
            .filter(|p| !p.contains('=') && !p.ends_with(".deb") && !is_path_or_var(p))
            .collect();
        if !unpinned.is_empty() {
            hits.push(hit(
                df,
                r.ins,
                "BW-DF-013",
                format!(
                    "apt-get install of {} without a version (pkg=version)",
                    unpinned.join(", ")
                ),
            ));
        }
    }
    // `apt-get dist-clean` (apt 2.7+, used by the official images) removes the lists too.
    let dist_clean = r
        .calls(&["apt-get", "apt"])
        .any(|a| operands(a, &["-o", "-c"]).first() == Some(&"dist-clean"));
    if !installs.is_empty()
        && r.final_stage
        && !r.removes("/var/lib/apt/lists")
        && !dist_clean
        && !r.cache_mount("/var/lib/apt")
    {
        hits.push(hit(
            df,
            r.ins,
            "BW-DF-007",
            "apt-get install without rm -rf /var/lib/apt/lists/* in the same RUN leaves the package lists in the image",
        ));
    }
    for c in &r.cmds {
        let Some((prog, args)) = c.program() else {
            continue;
        };
        let sub = operands(args, &["-o", "-t", "-c"]).first().copied();
        if matches!(prog, "apt-get" | "apt" | "aptitude")
            && matches!(sub, Some("upgrade" | "dist-upgrade" | "full-upgrade"))
        {
            hits.push(hit(
                df,
                r.ins,
                "BW-DF-008",
                format!(
                    "{prog} {} in a build: update the base image instead",
                    sub.unwrap_or("")
                ),
            ));
        }
        if prog == "apt" && sub.is_some() {
            hits.push(hit(
                df,
                r.ins,
                "BW-DF-031",
                "apt is meant for terminals and has no stable command-line interface; use apt-get",
            ));
        }
    }
    // CIS 4.7: an update on its own leaves a stale cached layer.
    let updates = r.cmds.iter().any(|c| match c.program() {
        Some((p, args)) => {
            let sub = operands(args, &["-o"]).first().copied();
            (matches!(p, "apt-get" | "apt" | "apk" | "yum" | "dnf" | "microdnf")
                && sub == Some("update"))
                || (matches!(p, "yum" | "dnf" | "microdnf") && sub == Some("makecache"))
                || (p == "zypper" && matches!(sub, Some("refresh" | "ref")))
        }
        None => false,
    });
    let installs_any = r.cmds.iter().any(|c| match c.program() {
        Some((p, args)) => {
            let sub = operands(args, &["-o", "-X", "--repository", "-t"])
                .first()
                .copied();
            matches!(
                p,
                "apt-get" | "apt" | "apk" | "yum" | "dnf" | "microdnf" | "zypper"
            ) && matches!(
                sub,
                Some(
                    "install"
                        | "add"
                        | "upgrade"
                        | "dist-upgrade"
                        | "full-upgrade"
                        | "in"
                        | "groupinstall"
                        | "localinstall"
                        | "reinstall"
                )
            )
        }
        None => false,
    });
    if updates && !installs_any {
        hits.push(hit(
            df,
            r.ins,
            "BW-DF-009",
            "package index update alone in its RUN: a cached layer keeps stale indexes for later installs",
        ));
    }
}

/// BW-DF-010 (apk add without --no-cache), BW-DF-014 (unpinned apk packages).
fn apk(df: &Dockerfile, r: &Run, hits: &mut Vec<Hit>) {
    const TAKES: &[&str] = &[
        "-t",
        "--virtual",
        "-X",
        "--repository",
        "-p",
        "--root",
        "--arch",
        "--keys-dir",
        "--cache-dir",
    ];
    for args in r.calls(&["apk"]) {
        let ops = operands(args, TAKES);
        if ops.first() != Some(&"add") {
            continue;
        }
        // --no-network installs from what is already there and fetches no index to leave
        // behind (the official images' "apk add --no-network --virtual .rundeps" idiom).
        if !args
            .iter()
            .any(|a| a == "--no-cache" || a == "--no-network")
            && !r.removes("/var/cache/apk")
            && !r.cache_mount("/var/cache/apk")
        {
            hits.push(hit(
                df,
                r.ins,
                "BW-DF-010",
                "apk add without --no-cache leaves the package index in the image",
            ));
        }
        let unpinned: Vec<&str> = ops[1..]
            .iter()
            .copied()
            .filter(|p| {
                !p.contains(['=', '<', '>', '~']) && !p.ends_with(".apk") && !is_path_or_var(p)
            })
            .collect();
        if !unpinned.is_empty() {
            hits.push(hit(
                df,
                r.ins,
                "BW-DF-014",
                format!(
                    "apk add of {} without a version (pkg=version)",
                    unpinned.join(", ")
                ),
            ));
        }
    }
}

/// BW-DF-011: yum, dnf, microdnf and zypper installs without cleaning their caches.
fn rpm_family(df: &Dockerfile, r: &Run, hits: &mut Vec<Hit>) {
    for prog in ["yum", "dnf", "microdnf", "zypper"] {
        let installs = r.calls(&[prog]).any(|a| {
            matches!(
                operands(a, &["--setopt", "-c", "--config"]).first(),
                Some(&("install" | "in" | "groupinstall" | "localinstall"))
            )
        });
        if !installs {
            continue;
        }
        let cleans = r.calls(&[prog]).any(|a| {
            operands(a, &[]).first() == Some(&"clean") || operands(a, &[]).first() == Some(&"cc")
        }) || r.removes(&format!(
            "/var/cache/{}",
            if prog == "microdnf" { "dnf" } else { prog }
        )) || r.cache_mount(&format!(
            "/var/cache/{}",
            if prog == "microdnf" { "dnf" } else { prog }
        ));
        if !cleans {
            hits.push(hit(
                df,
                r.ins,
                "BW-DF-011",
                format!("{prog} install without `{prog} clean all` in the same RUN leaves its cache in the image"),
            ));
        }
    }
}

fn pip_args(c: &Command) -> Option<&[String]> {
    let (prog, args) = c.program()?;
    let is_pip = prog == "pip" || prog.starts_with("pip3") || prog.starts_with("pip2");
    if is_pip {
        return Some(args);
    }
    if prog.starts_with("python") && args.len() >= 2 && args[0] == "-m" && args[1] == "pip" {
        return Some(&args[2..]);
    }
    None
}

/// BW-DF-012 (pip install without --no-cache-dir), BW-DF-015 (unpinned pip packages).
fn pip(df: &Dockerfile, r: &Run, hits: &mut Vec<Hit>) {
    const TAKES: &[&str] = &[
        "-r",
        "--requirement",
        "-c",
        "--constraint",
        "-e",
        "--editable",
        "-i",
        "--index-url",
        "--extra-index-url",
        "-f",
        "--find-links",
        "-t",
        "--target",
        "--prefix",
        "--root",
        "--trusted-host",
        "--src",
        "--platform",
        "--python-version",
        "--implementation",
        "--abi",
        "--progress-bar",
        "--upgrade-strategy",
        "--cache-dir",
        "--only-binary",
        "--no-binary",
    ];
    let env_off = r.pip_cache_off;
    for c in &r.cmds {
        let Some(args) = pip_args(c) else { continue };
        let ops = operands(args, TAKES);
        if ops.first() != Some(&"install") {
            continue;
        }
        if !args.iter().any(|a| a == "--no-cache-dir") && !env_off && !r.cache_mount("/root/.cache")
        {
            hits.push(hit(
                df,
                r.ins,
                "BW-DF-012",
                "pip install without --no-cache-dir leaves the wheel cache in the image",
            ));
        }
        let unpinned: Vec<&str> = ops[1..]
            .iter()
            .copied()
            .filter(|p| {
                !p.contains(['=', '<', '>', '~', '@', '/'])
                    && !p.ends_with(".whl")
                    && !p.ends_with(".tar.gz")
                    && !p.ends_with(".zip")
                    && !is_path_or_var(p)
            })
            .filter(|p| {
                !(*p == "pip" || *p == "setuptools" || *p == "wheel")
                    || !args.iter().any(|a| a == "-U" || a == "--upgrade")
            })
            .collect();
        if !unpinned.is_empty() {
            hits.push(hit(
                df,
                r.ins,
                "BW-DF-015",
                format!(
                    "pip install of {} without a version (pkg==version)",
                    unpinned.join(", ")
                ),
            ));
        }
    }
}

/// BW-DF-016: npm install of named packages without a version.
fn npm(df: &Dockerfile, r: &Run, hits: &mut Vec<Hit>) {
    for args in r.calls(&["npm"]) {
        let ops = operands(args, &["--prefix", "--registry", "-w", "--workspace"]);
        if !matches!(ops.first(), Some(&("install" | "i" | "add"))) {
            continue;
        }
        let unpinned: Vec<&str> = ops[1..]
            .iter()
            .copied()
            .filter(|p| {
                if is_path_or_var(p) || p.ends_with(".tgz") {
                    return false;
                }
                if p.contains("://") || p.starts_with("git") || p.starts_with("github:") {
                    return !p.contains('#');
                }
                // `@scope/name@1.2.3` or `name@1.2.3`.
                let body = p.strip_prefix('@').unwrap_or(p);
                !body.contains('@')
            })
            .collect();
        if !unpinned.is_empty() {
            hits.push(hit(
                df,
                r.ins,
                "BW-DF-016",
                format!(
                    "npm install of {} without a version (name@version)",
                    unpinned.join(", ")
                ),
            ));
        }
    }
}

const SHELLS: &[&str] = &[
    "sh", "bash", "zsh", "ash", "dash", "ksh", "python", "python3", "perl", "ruby", "node",
];

/// BW-DF-019 (curl | sh), BW-DF-020 (sudo), BW-DF-021 (cd), BW-DF-029 (chmod 777),
/// BW-DF-030 (verification turned off), BW-DF-036 (chpasswd).
fn misc_run(df: &Dockerfile, r: &Run, hits: &mut Vec<Hit>) {
    for c in &r.cmds {
        let Some((prog, args)) = c.program() else {
            continue;
        };
        if c.words.first().is_some_and(|w| w == "sudo") {
            hits.push(hit(
                df,
                r.ins,
                "BW-DF-020",
                "sudo in a build: RUN already runs as the current USER; switch with USER instead",
            ));
        }
        if prog == "chpasswd" {
            hits.push(hit(
                df,
                r.ins,
                "BW-DF-036",
                "chpasswd in a build: the password is in the Dockerfile or the build, and its hash in every copy of the image",
            ));
        }
        if prog == "cd" {
            hits.push(hit(
                df,
                r.ins,
                "BW-DF-021",
                "cd in RUN: use WORKDIR to change directory",
            ));
        }
        if prog == "chmod" {
            let ops = operands(args, &[]);
            if let Some(mode) = ops.first() {
                if world_writable_mode(mode) {
                    hits.push(hit(
                        df,
                        r.ins,
                        "BW-DF-029",
                        format!("chmod {mode} makes files writable by every user"),
                    ));
                }
            }
        }
        if let Some(what) = verification_off(prog, args) {
            hits.push(hit(df, r.ins, "BW-DF-030", what));
        }
    }
    if pipes_download_to_shell(&r.cmds) {
        hits.push(hit(
            df,
            r.ins,
            "BW-DF-019",
            "a downloaded script is piped into an interpreter: whatever the server sends runs unverified",
        ));
    }
}

/// Whether a script pipes `curl`/`wget` output into an interpreter (`curl … | sh`,
/// `sh -c "$(curl …)"`, `bash <(curl …)`).
pub fn pipes_download_to_shell(cmds: &[Command]) -> bool {
    cmds.iter().enumerate().any(|(i, c)| {
        let Some((prog, args)) = c.program() else {
            return false;
        };
        if !SHELLS.contains(&prog) {
            return false;
        }
        let piped = c.piped
            && i > 0
            && cmds[i - 1]
                .program()
                .is_some_and(|(p, _)| matches!(p, "curl" | "wget"));
        piped
            || args.iter().any(|a| {
                ["$(curl", "$(wget", "<(curl", "<(wget", "`curl", "`wget"]
                    .iter()
                    .any(|p| a.contains(p))
            })
    })
}

fn world_writable_mode(mode: &str) -> bool {
    if !mode.is_empty() && mode.chars().all(|c| c.is_digit(8)) {
        let last = mode.chars().last().and_then(|c| c.to_digit(8)).unwrap_or(0);
        return last & 2 != 0;
    }
    mode.split(',').any(|clause| {
        let who_end = clause.find(['+', '=']).unwrap_or(clause.len());
        let who = &clause[..who_end];
        let perms = &clause[who_end..];
        (who.contains('o') || who.contains('a')) && perms.contains('w')
    })
}

fn verification_off(prog: &str, args: &[String]) -> Option<String> {
    let any = |opts: &[&str]| {
        args.iter().any(|a| {
            opts.iter()
                .any(|o| a == o || a.starts_with(&format!("{o}=")))
        })
    };
    let msg = |what: &str| Some(format!("{what} turns off TLS or signature verification"));
    match prog {
        "curl"
            if any(&["-k", "--insecure"])
                || args.iter().any(|a| {
                    a.starts_with('-') && !a.starts_with("--") && a.len() > 2 && a.contains('k')
                }) =>
        {
            msg("curl --insecure")
        }
        "wget" if any(&["--no-check-certificate"]) => msg("wget --no-check-certificate"),
        "apk" if any(&["--allow-untrusted"]) => msg("apk --allow-untrusted"),
        "apt-get" | "apt"
            if any(&[
                "--allow-unauthenticated",
                "--allow-insecure-repositories",
                "--force-yes",
            ]) || args.iter().any(|a| {
                a.contains("AllowUnauthenticated=true") || a.contains("Verify-Peer=false")
            }) =>
        {
            msg("apt-get --allow-unauthenticated")
        }
        "yum" | "dnf" | "microdnf" | "tdnf"
            if any(&["--nogpgcheck"])
                || args.iter().any(|a| {
                    a == "gpgcheck=0"
                        || a.ends_with("sslverify=false")
                        || a.ends_with("sslverify=0")
                }) =>
        {
            msg(&format!("{prog} --nogpgcheck"))
        }
        "rpm"
            if any(&[
                "--nosignature",
                "--nodigest",
                "--noverify",
                "--nofiledigest",
            ]) =>
        {
            msg("rpm --nosignature")
        }
        "git"
            if args.iter().any(|a| {
                a.to_ascii_lowercase().contains("sslverify=false")
                    || a.eq_ignore_ascii_case("http.sslverify")
            }) && args.iter().any(|a| a == "false" || a.ends_with("=false")) =>
        {
            msg("git http.sslVerify false")
        }
        "npm" | "yarn"
            if args.iter().any(|a| a == "strict-ssl") && args.iter().any(|a| a == "false") =>
        {
            msg(&format!("{prog} strict-ssl false"))
        }
        _ if pip_like(prog) && any(&["--trusted-host"]) => msg("pip --trusted-host"),
        _ => None,
    }
}

fn pip_like(prog: &str) -> bool {
    prog == "pip" || prog.starts_with("pip3") || prog.starts_with("pip2")
}

/// Sensitive ports for EXPOSE.
const ADMIN_PORTS: &[(u32, &str)] = &[
    (22, "SSH"),
    (23, "telnet"),
    (2375, "the Docker API without TLS"),
    (2376, "the Docker API"),
    (3389, "RDP"),
    (5900, "VNC"),
];

/// Instruction-level checks.
fn instructions(df: &Dockerfile, hits: &mut Vec<Hit>) {
    for stage in &df.stages {
        let mut seen_cmd = false;
        let mut seen_ep = false;
        let mut seen_health = false;
        for ins in df.stage_instructions(stage.index) {
            match ins.cmd.as_str() {
                "HEALTHCHECK" => {
                    if seen_health {
                        hits.push(hit(
                            df,
                            ins,
                            "BW-DF-035",
                            "another HEALTHCHECK in the same stage: only the last one takes effect",
                        ));
                    }
                    seen_health = true;
                }
                "CMD" | "ENTRYPOINT" => {
                    let seen = if ins.cmd == "CMD" {
                        &mut seen_cmd
                    } else {
                        &mut seen_ep
                    };
                    if *seen {
                        hits.push(hit(
                            df,
                            ins,
                            "BW-DF-025",
                            format!(
                                "another {} in the same stage: only the last one takes effect",
                                ins.cmd
                            ),
                        ));
                    }
                    *seen = true;
                    if ins.exec.is_none() {
                        hits.push(hit(
                            df,
                            ins,
                            "BW-DF-026",
                            format!("{} in shell form: the process runs under /bin/sh -c and does not receive signals", ins.cmd),
                        ));
                    }
                }
                "MAINTAINER" => hits.push(hit(
                    df,
                    ins,
                    "BW-DF-024",
                    "MAINTAINER is deprecated; use LABEL org.opencontainers.image.authors",
                )),
                "WORKDIR" => {
                    let dir = split_words(&ins.value).join(" ");
                    let windows = dir.len() >= 2 && dir.as_bytes()[1] == b':';
                    if !(dir.starts_with('/')
                        || dir.starts_with('$')
                        || windows
                        || dir.starts_with('\\'))
                    {
                        hits.push(hit(
                            df,
                            ins,
                            "BW-DF-028",
                            format!(
                                "WORKDIR {dir} is relative: it depends on the previous WORKDIR"
                            ),
                        ));
                    }
                }
                "EXPOSE" => {
                    for w in split_words(&ins.value) {
                        let port = w.split('/').next().unwrap_or("");
                        let out_of_range = port
                            .split('-')
                            .any(|p| p.parse::<u64>().is_ok_and(|n| n == 0 || n > 65535));
                        if out_of_range {
                            hits.push(hit(
                                df,
                                ins,
                                "BW-DF-034",
                                format!("EXPOSE {w}: ports are 1 to 65535"),
                            ));
                        }
                        let (lo, hi) = match port.split_once('-') {
                            Some((a, b)) => (a.parse().unwrap_or(0), b.parse().unwrap_or(0)),
                            None => (port.parse().unwrap_or(0), port.parse().unwrap_or(0)),
                        };
                        for (p, what) in ADMIN_PORTS {
                            if (lo..=hi).contains(p) {
                                hits.push(hit(
                                    df,
                                    ins,
                                    "BW-DF-023",
                                    format!("EXPOSE {w} exposes port {p} ({what})"),
                                ));
                            }
                        }
                    }
                }
                "ADD" | "COPY" => copy_checks(df, ins, hits),
                _ => {}
            }
        }
    }
}

fn copy_checks(df: &Dockerfile, ins: &Instruction, hits: &mut Vec<Hit>) {
    if let (Some(from), Some(stage)) =
        (ins.flag("from").and_then(|f| f.value.as_deref()), ins.stage)
    {
        let own = &df.stages[stage];
        if own.name.as_deref() == Some(&from.to_ascii_lowercase()) || from == stage.to_string() {
            hits.push(hit(
                df,
                ins,
                "BW-DF-033",
                format!("COPY --from={from} names the stage it is in"),
            ));
        }
    }
    let words = ins.words();
    if words.len() >= 3 && ins.heredocs.is_empty() {
        let dest = words.last().expect("len >= 3");
        if !dest.ends_with('/') && !dest.ends_with('\\') {
            hits.push(hit(
                df,
                ins,
                "BW-DF-027",
                format!(
                    "{} of several sources to {dest}: the destination must end with /",
                    ins.cmd
                ),
            ));
        }
    }
    if let Some(mode) = ins.flag("chmod").and_then(|f| f.value.as_deref()) {
        if world_writable_mode(mode) {
            hits.push(hit(
                df,
                ins,
                "BW-DF-029",
                format!(
                    "{} --chmod={mode} makes files writable by every user",
                    ins.cmd
                ),
            ));
        }
    }
    if ins.cmd != "ADD" || !ins.heredocs.is_empty() || words.len() < 2 {
        return;
    }
    let sources = &words[..words.len() - 1];
    let remote =
        |s: &str| s.starts_with("http://") || s.starts_with("https://") || s.starts_with("git@");
    for (i, raw) in sources.iter().enumerate() {
        // A source held in a build argument (`ADD $DIST /opt/`) is judged by its default value;
        // one that expands to nothing (set by the base image, unknown here) as written.
        let s = match ins.expanded_words.get(i) {
            Some(e) if !e.is_empty() && ins.expanded_words.len() == words.len() => e,
            _ => raw,
        };
        if remote(s) {
            if ins.flag("checksum").is_none() {
                hits.push(hit(
                    df,
                    ins,
                    "BW-DF-018",
                    format!(
                        "ADD of a remote URL ({}) without --checksum: the content is not verified",
                        redact_url(s)
                    ),
                ));
            }
        } else {
            let lower = s.to_ascii_lowercase();
            let archive = [
                ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst",
                ".tzst", ".gz", ".bz2", ".xz",
            ]
            .iter()
            .any(|e| lower.ends_with(e));
            if !archive {
                hits.push(hit(
                    df,
                    ins,
                    "BW-DF-017",
                    format!("ADD {raw}: use COPY for local files"),
                ));
            }
        }
    }
}

/// Drops credentials in a URL's user-info before it appears in a finding.
fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((auth, host)) = rest.split_once('@') {
            if !auth.contains('/') {
                return format!("{scheme}://***@{host}");
            }
        }
    }
    url.to_string()
}

/// Variable names that hold secrets; `_FILE`/`_PATH` variants point at them instead. One
/// definition with the secret scanner's, so a name is a secret for both or for neither.
pub fn secret_name(name: &str) -> bool {
    bulwark_secrets::credential::credential_name(name)
}

/// BW-DF-022 (secrets in ARG/ENV), BW-DF-030 (verification turned off through ENV).
fn env_and_arg(df: &Dockerfile, hits: &mut Vec<Hit>) {
    for ins in &df.instructions {
        if !matches!(ins.cmd.as_str(), "ENV" | "ARG") {
            continue;
        }
        for (k, v) in key_values(&ins.value, ins.cmd == "ENV") {
            let value = v.unwrap_or_default();
            let literal = !value.is_empty() && !value.starts_with('$');
            if secret_name(&k) && (ins.cmd == "ARG" || literal) {
                let how = if ins.cmd == "ARG" {
                    "build arguments are recorded in the image history"
                } else {
                    "the value is stored in the image config"
                };
                hits.push(hit(
                    df,
                    ins,
                    "BW-DF-022",
                    format!("{} {k} looks like a secret: {how}", ins.cmd),
                ));
            }
            let v = value.to_ascii_lowercase();
            let off = match k.as_str() {
                "PYTHONHTTPSVERIFY" => v == "0",
                "NODE_TLS_REJECT_UNAUTHORIZED" => v == "0",
                "GIT_SSL_NO_VERIFY" => !v.is_empty() && v != "0" && v != "false",
                "NPM_CONFIG_STRICT_SSL" => v == "false",
                "PIP_TRUSTED_HOST" => !v.is_empty(),
                _ => false,
            };
            if off {
                hits.push(hit(
                    df,
                    ins,
                    "BW-DF-030",
                    format!("{} {k}={value} turns off TLS verification", ins.cmd),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse::parse;

    fn lines(text: &str, id: &str) -> Vec<usize> {
        super::run(&parse(text.as_bytes()).unwrap())
            .into_iter()
            .filter(|h| h.check_id == id)
            .filter_map(|h| h.line)
            .collect()
    }

    #[test]
    fn no_user_is_reported_at_the_final_from() {
        let text = "FROM debian:12 AS build\nUSER app\nFROM debian:12\nCMD [\"/app\"]\n";
        assert_eq!(lines(text, "BW-DF-001"), vec![3]);
        // A USER in an earlier stage does not carry over; gosu in the entrypoint does step down.
        let gosu = "FROM debian:12\nENTRYPOINT [\"gosu\", \"app\", \"/app\"]\n";
        assert!(lines(gosu, "BW-DF-001").is_empty());
        let bare = "FROM debian:12\nCMD [\"gosu\"]\n";
        assert_eq!(lines(bare, "BW-DF-001"), vec![1]);
        let variable = "FROM debian:12\nUSER ${NB_UID}\n";
        assert!(lines(variable, "BW-DF-001").is_empty());
    }

    #[test]
    fn hostile_sizes_stay_fast_and_bounded() {
        let nested = format!("FROM {}x{}\n", "${A:-".repeat(100_000), "}".repeat(100_000));
        let df = parse(nested.as_bytes()).unwrap();
        assert_eq!(df.stages.len(), 1);
        let mut many = String::new();
        for i in 0..30_000 {
            many.push_str(&format!(
                "FROM s{i} AS s{}\nRUN pip install x\nENV PIP_NO_CACHE_DIR=1\n",
                i + 1
            ));
        }
        let start = std::time::Instant::now();
        let df = parse(many.as_bytes()).unwrap();
        assert_eq!(df.stage_instructions(5).count(), 3);
        let hits = super::run(&df);
        assert!(!hits.is_empty());
        assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
    }
}
