//! The in-pass analyzer: what loading each file needs, read from the bytes the walker already
//! holds. ELF objects give their `PT_INTERP`, `DT_NEEDED`, `DT_RPATH`/`DT_RUNPATH` and whether
//! they import `dlopen` or `exec*`; executable scripts their `#!` line; the loader's
//! configuration its directories.

use bulwark_analyze::{Analyzer, AnalyzerOutput, ElfLinks, Fact, FileKind, FileMeta, Interest};
use object::elf;
use object::read::elf::{Dyn, FileHeader, ProgramHeader, Sym};
use object::Endianness;

/// The analyzer's id in facts, cache keys and diagnostics.
pub const ANALYZER_ID: &str = "reach";

/// The executable analyzers (Go, Rust) already read ELF files up to this size, so the bytes are
/// in memory anyway; this analyzer parses only headers, the dynamic section and the dynamic
/// symbol table of them.
const MAX_ELF_BYTES: u64 = 512 << 20;
/// Larger executable scripts are rare; only their first line is parsed.
const MAX_SCRIPT_BYTES: u64 = 4 << 20;
const MAX_LD_SO_CONF_BYTES: u64 = 64 << 10;
/// Linux reads at most this much of a `#!` line (`BINPRM_BUF_SIZE`).
const SHEBANG_LINE_BYTES: usize = 256;
/// Real objects name a few dozen libraries; more is a hostile file, and the rest is dropped.
const MAX_NEEDED: usize = 1024;
/// Dynamic entries read per object (real ones have under a hundred).
const MAX_DYNAMIC_ENTRIES: usize = 16 << 10;
/// Dynamic symbols examined for `dlopen`/`exec*` imports (libc exports about 3,000).
const MAX_DYNAMIC_SYMBOLS: usize = 1 << 20;
/// The longest library name or search path kept.
const MAX_STRING: usize = 4096;
const MAX_SEARCH_DIRS: usize = 256;

const ELF_MAGIC: &[u8] = b"\x7fELF";
const ELF_ONLY: &[&[u8]] = &[ELF_MAGIC];
const ELF_OR_SCRIPT: &[&[u8]] = &[ELF_MAGIC, b"#!"];

/// Imports that load code no `DT_NEEDED` names.
const LIBRARY_LOADERS: &[&str] = &["dlopen", "dlmopen"];
/// Imports that start other programs.
const PROGRAM_RUNNERS: &[&str] = &[
    "execve",
    "execv",
    "execvp",
    "execvpe",
    "execl",
    "execlp",
    "execle",
    "fexecve",
    "execveat",
    "system",
    "popen",
    "posix_spawn",
    "posix_spawnp",
];

/// Collects, during the single pass, what the reachability join needs (see the crate doc).
pub struct LinkageAnalyzer;

impl Analyzer for LinkageAnalyzer {
    fn id(&self) -> &'static str {
        ANALYZER_ID
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind != FileKind::Regular {
            return Interest::Skip;
        }
        if is_ld_so_config(file.path) {
            return if file.size <= MAX_LD_SO_CONF_BYTES {
                Interest::Read {
                    max_bytes: MAX_LD_SO_CONF_BYTES,
                }
            } else {
                Interest::Skip
            };
        }
        if file.size < 4 {
            return Interest::Skip;
        }
        let executable = file.mode & 0o111 != 0;
        if executable && file.size <= MAX_SCRIPT_BYTES {
            Interest::ReadIfMagic {
                max_bytes: MAX_ELF_BYTES,
                magic: ELF_OR_SCRIPT,
            }
        } else {
            Interest::ReadIfMagic {
                max_bytes: MAX_ELF_BYTES,
                magic: ELF_ONLY,
            }
        }
    }

    fn analyze(&self, file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        if is_ld_so_config(file.path) {
            out.fact(parse_ld_so_config(file.path, content));
        } else if content.starts_with(ELF_MAGIC) {
            match read_elf(content) {
                Ok(links) => out.fact(Fact::ElfLinks(links)),
                Err(e) => out.problem(format!("ELF linkage not readable: {e}")),
            }
        } else if content.starts_with(b"#!") {
            if let Some((interpreter, argument)) = parse_shebang(content) {
                out.fact(Fact::Shebang {
                    interpreter,
                    argument,
                });
            }
        }
    }
}

fn is_ld_so_config(path: &str) -> bool {
    path == "etc/ld.so.conf"
        || path == "etc/ld.so.preload"
        || (path.starts_with("etc/ld.so.conf.d/")
            && !path["etc/ld.so.conf.d/".len()..].contains('/'))
}

/// The interpreter and its one optional argument, as Linux splits a `#!` line: the rest of
/// the line after the interpreter is a single argument.
pub fn parse_shebang(content: &[u8]) -> Option<(String, Option<String>)> {
    let head = content.strip_prefix(b"#!")?;
    let head = &head[..head.len().min(SHEBANG_LINE_BYTES - 2)];
    let line = head.split(|b| *b == b'\n').next()?;
    let line = String::from_utf8_lossy(line);
    let line = line.trim_matches(|c: char| c == ' ' || c == '\t' || c == '\r');
    let (interpreter, rest) = match line.find([' ', '\t']) {
        Some(i) => (&line[..i], line[i..].trim()),
        None => (line, ""),
    };
    if interpreter.is_empty() {
        return None;
    }
    let argument = (!rest.is_empty()).then(|| rest.to_string());
    Some((interpreter.to_string(), argument))
}

/// `ld.so.conf` syntax: one directory per line (or several separated by spaces, tabs, commas
/// or colons), `include GLOB`, `hwcap` lines (ignored), `#` comments. `ld.so.preload` lists
/// libraries separated by white space or colons.
fn parse_ld_so_config(path: &str, content: &[u8]) -> Fact {
    let text = String::from_utf8_lossy(content);
    let (mut dirs, mut includes, mut preload) = (Vec::new(), Vec::new(), Vec::new());
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let words = line
            .split([' ', '\t', ',', ':'])
            .filter(|w| !w.is_empty())
            .take(MAX_SEARCH_DIRS)
            .map(|w| w.chars().take(MAX_STRING).collect::<String>());
        if path == "etc/ld.so.preload" {
            preload.extend(words);
        } else if let Some(pattern) = line.strip_prefix("include") {
            if pattern.starts_with([' ', '\t']) {
                includes.push(pattern.trim().to_string());
            }
        } else if !line.starts_with("hwcap") {
            dirs.extend(words);
        }
        if dirs.len() + includes.len() + preload.len() > MAX_SEARCH_DIRS {
            break;
        }
    }
    Fact::LdSoConf {
        dirs,
        includes,
        preload,
    }
}

/// Reads what `ld.so` would of an ELF object. Malformed offsets are errors, never panics.
pub fn read_elf(data: &[u8]) -> Result<ElfLinks, String> {
    match data.get(4) {
        Some(&elf::ELFCLASS64) => read_elf_as::<elf::FileHeader64<Endianness>>(data, true),
        Some(&elf::ELFCLASS32) => read_elf_as::<elf::FileHeader32<Endianness>>(data, false),
        _ => Err("unknown ELF class".into()),
    }
}

fn read_elf_as<Elf: FileHeader<Endian = Endianness>>(
    data: &[u8],
    class64: bool,
) -> Result<ElfLinks, String> {
    let header = Elf::parse(data).map_err(|e| e.to_string())?;
    let endian = header.endian().map_err(|e| e.to_string())?;
    let segments = header
        .program_headers(endian, data)
        .map_err(|e| e.to_string())?;
    let mut links = ElfLinks {
        class64,
        machine: header.e_machine(endian),
        interpreter: None,
        needed: Vec::new(),
        rpath: Vec::new(),
        runpath: Vec::new(),
        loads_libraries: false,
        runs_programs: false,
    };
    let mut dynamic = None;
    for segment in segments {
        match segment.p_type(endian) {
            elf::PT_INTERP => {
                let path = segment
                    .interpreter(endian, data)
                    .map_err(|e| format!("PT_INTERP: {e}"))?;
                links.interpreter = path.map(bounded_string);
            }
            elf::PT_DYNAMIC => {
                dynamic = segment
                    .dynamic(endian, data)
                    .map_err(|e| format!("PT_DYNAMIC: {e}"))?;
            }
            _ => {}
        }
    }
    let Some(dynamic) = dynamic else {
        // Statically linked: no libraries to load, but it may make the exec system call.
        links.runs_programs = true;
        return Ok(links);
    };

    let (mut strtab_addr, mut strtab_size) = (None, None);
    let mut offsets: Vec<(u32, u64)> = Vec::new();
    for entry in dynamic.iter().take(MAX_DYNAMIC_ENTRIES) {
        let tag: u64 = entry.d_tag(endian).into();
        let value: u64 = entry.d_val(endian).into();
        match u32::try_from(tag).unwrap_or(u32::MAX) {
            elf::DT_NULL => break,
            elf::DT_STRTAB => strtab_addr = Some(value),
            elf::DT_STRSZ => strtab_size = Some(value),
            t @ (elf::DT_NEEDED | elf::DT_RPATH | elf::DT_RUNPATH)
                if offsets.len() < MAX_NEEDED + 2 * MAX_SEARCH_DIRS =>
            {
                offsets.push((t, value));
            }
            _ => {}
        }
    }
    let strtab = match (strtab_addr, strtab_size) {
        (Some(addr), Some(size)) => segments
            .iter()
            .filter(|s| s.p_type(endian) == elf::PT_LOAD)
            .find_map(|s| s.data_range(endian, data, addr, size).ok().flatten()),
        _ => None,
    };
    if !offsets.is_empty() && strtab.is_none() {
        return Err("the dynamic string table lies outside the file".into());
    }
    let strtab = strtab.unwrap_or_default();
    let string_at = |offset: u64| -> Result<String, String> {
        let start = usize::try_from(offset).map_err(|_| "string offset out of range")?;
        let tail = strtab
            .get(start..)
            .ok_or_else(|| format!("string offset {offset} past the string table"))?;
        let end = tail.iter().position(|b| *b == 0).unwrap_or(tail.len());
        Ok(bounded_string(&tail[..end]))
    };
    for (tag, offset) in offsets {
        let value = string_at(offset)?;
        match tag {
            elf::DT_NEEDED if links.needed.len() < MAX_NEEDED => links.needed.push(value),
            elf::DT_RPATH => links.rpath.extend(split_search_path(&value)),
            elf::DT_RUNPATH => links.runpath.extend(split_search_path(&value)),
            _ => {}
        }
    }
    let (loads, runs) = imports(header, endian, data);
    links.loads_libraries = loads;
    links.runs_programs = runs;
    Ok(links)
}

/// Whether the object imports a library loader and a program runner. When its dynamic
/// symbols cannot be read (no section headers), it may do either; Go binaries make the exec
/// system call themselves.
fn imports<Elf: FileHeader<Endian = Endianness>>(
    header: &Elf,
    endian: Endianness,
    data: &[u8],
) -> (bool, bool) {
    let Ok(sections) = header.sections(endian, data) else {
        return (true, true);
    };
    let is_go = sections.section_by_name(endian, b".go.buildinfo").is_some()
        || sections
            .section_by_name(endian, b".note.go.buildid")
            .is_some();
    let Ok(symbols) = sections.symbols(endian, data, elf::SHT_DYNSYM) else {
        return (true, true);
    };
    if symbols.is_empty() {
        return (true, true);
    }
    let (mut loads, mut runs) = (false, is_go);
    for symbol in symbols.symbols().iter().take(MAX_DYNAMIC_SYMBOLS) {
        if !symbol.is_undefined(endian) {
            continue;
        }
        let Ok(name) = symbol.name(endian, symbols.strings()) else {
            continue;
        };
        let Ok(name) = std::str::from_utf8(name) else {
            continue;
        };
        loads |= LIBRARY_LOADERS.contains(&name);
        runs |= PROGRAM_RUNNERS.contains(&name);
        if loads && runs {
            break;
        }
    }
    (loads, runs)
}

fn split_search_path(value: &str) -> impl Iterator<Item = String> + '_ {
    value
        .split(':')
        .filter(|d| !d.is_empty())
        .take(MAX_SEARCH_DIRS)
        .map(str::to_string)
}

fn bounded_string(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_STRING)]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs_split_like_linux() {
        assert_eq!(
            parse_shebang(b"#!/usr/bin/env python3\nprint(1)"),
            Some(("/usr/bin/env".into(), Some("python3".into())))
        );
        assert_eq!(
            parse_shebang(b"#! /bin/sh -e -u\r\n"),
            Some(("/bin/sh".into(), Some("-e -u".into())))
        );
        assert_eq!(parse_shebang(b"#!\n"), None);
        assert_eq!(
            parse_shebang(b"#!/bin/bash"),
            Some(("/bin/bash".into(), None))
        );
    }

    #[test]
    fn ld_so_conf_lines() {
        let fact = parse_ld_so_config(
            "etc/ld.so.conf",
            b"# comment\ninclude /etc/ld.so.conf.d/*.conf\n/opt/lib:/opt/lib2 # trailing\nhwcap 0 nosegneg\n",
        );
        assert_eq!(
            fact,
            Fact::LdSoConf {
                dirs: vec!["/opt/lib".into(), "/opt/lib2".into()],
                includes: vec!["/etc/ld.so.conf.d/*.conf".into()],
                preload: vec![],
            }
        );
        let Fact::LdSoConf { preload, .. } =
            parse_ld_so_config("etc/ld.so.preload", b"/lib/a.so /lib/b.so:/lib/c.so\n")
        else {
            panic!()
        };
        assert_eq!(preload, ["/lib/a.so", "/lib/b.so", "/lib/c.so"]);
    }

    #[test]
    fn garbage_after_the_magic_is_an_error_not_a_panic() {
        assert!(read_elf(b"\x7fELF").is_err());
        let mut bytes = b"\x7fELF\x02\x01\x01".to_vec();
        bytes.resize(64, 0xff);
        assert!(read_elf(&bytes).is_err());
    }
}
