//! Licence names as packages declare them, mapped to SPDX identifiers.

/// Debian's short licence names (DEP-5 and `/usr/share/common-licenses`) to SPDX ids.
const DEBIAN_TO_SPDX: &[(&str, &str)] = &[
    ("gpl-1", "GPL-1.0-only"),
    ("gpl-1+", "GPL-1.0-or-later"),
    ("gpl-2", "GPL-2.0-only"),
    ("gpl-2+", "GPL-2.0-or-later"),
    ("gpl-2.0", "GPL-2.0-only"),
    ("gpl-2.0+", "GPL-2.0-or-later"),
    ("gpl-3", "GPL-3.0-only"),
    ("gpl-3+", "GPL-3.0-or-later"),
    ("gpl-3.0", "GPL-3.0-only"),
    ("gpl-3.0+", "GPL-3.0-or-later"),
    ("lgpl-2", "LGPL-2.0-only"),
    ("lgpl-2+", "LGPL-2.0-or-later"),
    ("lgpl-2.0", "LGPL-2.0-only"),
    ("lgpl-2.0+", "LGPL-2.0-or-later"),
    ("lgpl-2.1", "LGPL-2.1-only"),
    ("lgpl-2.1+", "LGPL-2.1-or-later"),
    ("lgpl-3", "LGPL-3.0-only"),
    ("lgpl-3+", "LGPL-3.0-or-later"),
    ("lgpl-3.0+", "LGPL-3.0-or-later"),
    ("agpl-3", "AGPL-3.0-only"),
    ("agpl-3+", "AGPL-3.0-or-later"),
    ("gfdl-1.2", "GFDL-1.2-only"),
    ("gfdl-1.2+", "GFDL-1.2-or-later"),
    ("gfdl-1.3", "GFDL-1.3-only"),
    ("gfdl-1.3+", "GFDL-1.3-or-later"),
    ("gfdl-nis", "GFDL-1.3-no-invariants-only"),
    ("apache-2", "Apache-2.0"),
    ("apache-2.0", "Apache-2.0"),
    ("artistic", "Artistic-1.0-Perl"),
    ("artistic-1", "Artistic-1.0"),
    ("artistic-2.0", "Artistic-2.0"),
    ("bsd-2-clause", "BSD-2-Clause"),
    ("bsd-3-clause", "BSD-3-Clause"),
    ("bsd-4-clause", "BSD-4-Clause"),
    ("bsd", "BSD-3-Clause"),
    ("expat", "MIT"),
    ("mit", "MIT"),
    ("x11", "X11"),
    ("isc", "ISC"),
    ("zlib", "Zlib"),
    ("mpl-1.1", "MPL-1.1"),
    ("mpl-2.0", "MPL-2.0"),
    ("cc0-1.0", "CC0-1.0"),
    ("cc0", "CC0-1.0"),
    ("psf-2", "PSF-2.0"),
    ("python", "Python-2.0"),
    ("openssl", "OpenSSL"),
    ("curl", "curl"),
    ("unicode-dfs-2016", "Unicode-DFS-2016"),
    ("bsl-1.0", "BSL-1.0"),
    ("boost-1.0", "BSL-1.0"),
    ("sleepycat", "Sleepycat"),
    ("zpl-2.1", "ZPL-2.1"),
    ("ofl-1.1", "OFL-1.1"),
    ("wtfpl", "WTFPL"),
    ("unlicense", "Unlicense"),
    ("libpng", "Libpng"),
    ("ftl", "FTL"),
    ("tcl", "TCL"),
    ("ruby", "Ruby"),
    ("epl-1.0", "EPL-1.0"),
    ("epl-2.0", "EPL-2.0"),
    ("cddl-1.0", "CDDL-1.0"),
    (
        "mpl-2.0-no-copyleft-exception",
        "MPL-2.0-no-copyleft-exception",
    ),
];

/// Maps one licence name to an SPDX id, or to a `LicenseRef-` made of its safe characters.
pub fn to_spdx(name: &str) -> String {
    let trimmed = name.trim().trim_end_matches(',');
    let lower = trimmed.to_ascii_lowercase();
    if let Some((_, spdx)) = DEBIAN_TO_SPDX.iter().find(|(k, _)| *k == lower) {
        return spdx.to_string();
    }
    if let Some(canonical) = SPDX_IDS.iter().find(|id| id.eq_ignore_ascii_case(trimmed)) {
        return canonical.to_string();
    }
    let safe: String = trimmed
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("LicenseRef-{}", safe.trim_matches('-'))
}

/// Common SPDX ids that packages already spell correctly (rpm `License:`, apk `L:`).
const SPDX_IDS: &[&str] = &[
    "MIT",
    "Apache-2.0",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "ISC",
    "Zlib",
    "MPL-2.0",
    "GPL-2.0-only",
    "GPL-2.0-or-later",
    "GPL-3.0-only",
    "GPL-3.0-or-later",
    "LGPL-2.1-only",
    "LGPL-2.1-or-later",
    "LGPL-3.0-only",
    "LGPL-3.0-or-later",
    "AGPL-3.0-only",
    "AGPL-3.0-or-later",
    "0BSD",
    "CC0-1.0",
    "OpenSSL",
    "Python-2.0",
    "PSF-2.0",
    "BSL-1.0",
    "Unlicense",
    "curl",
    "Artistic-2.0",
    "PHP-3.01",
    "Ruby",
    "X11",
    "OFL-1.1",
    "Libpng",
    "FTL",
    "TCL",
    "Vim",
    "EPL-2.0",
    "GPL-2.0",
    "GPL-3.0",
    "LGPL-2.1",
    "LGPL-3.0",
    "GPL-2.0+",
    "LGPL-2.0-only",
    "LGPL-2.0-or-later",
    "MIT-0",
];

/// Turns a declared licence expression (`GPL-2+ or Artistic`, `MIT AND BSD-3-Clause`,
/// `GPLv2+`) into an SPDX expression with `AND`/`OR`/`WITH`, mapping each operand.
pub fn expression_to_spdx(declared: &str) -> Option<String> {
    let declared = declared.trim();
    if declared.is_empty() {
        return None;
    }
    let mut out: Vec<String> = Vec::new();
    let mut operand: Vec<&str> = Vec::new();
    // `X with Y exception`: SPDX allows only listed exception ids after WITH, so an unlisted
    // exception folds the pair into one LicenseRef instead of producing an invalid expression.
    let mut pending_with = false;
    let flush = |operand: &mut Vec<&str>, out: &mut Vec<String>, pending_with: &mut bool| {
        if operand.is_empty() {
            return;
        }
        let text = operand.join(" ");
        operand.clear();
        if *pending_with {
            *pending_with = false;
            match to_spdx_exception(&text) {
                Some(id) => {
                    out.push("WITH".into());
                    out.push(id.to_string());
                }
                None => {
                    // pending_with is only set after an operand, so this pops one.
                    let base = out.pop().unwrap_or_default();
                    out.push(to_spdx(&format!(
                        "{}-with-{}",
                        base.trim_start_matches("LicenseRef-"),
                        text
                    )));
                }
            }
        } else {
            out.push(to_spdx(&fix_rpm_style(&text)));
        }
    };
    for word in declared.split_whitespace() {
        let word = word.trim_matches(|c| c == '(' || c == ')' || c == ',' || c == ';');
        match word.to_ascii_lowercase().as_str() {
            "or" | "|" => {
                flush(&mut operand, &mut out, &mut pending_with);
                // `with` directly before an operator named no exception: it was prose.
                pending_with = false;
                out.push("OR".into());
            }
            "and" | "&" => {
                flush(&mut operand, &mut out, &mut pending_with);
                pending_with = false;
                out.push("AND".into());
            }
            "with" => {
                flush(&mut operand, &mut out, &mut pending_with);
                // Only an operand takes an exception: prose such as `binary forms, with or
                // without` has `with` after nothing or after an operator.
                pending_with = out.last().is_some_and(|last| !is_operator(last));
            }
            "" => {}
            _ => operand.push(word),
        }
    }
    flush(&mut operand, &mut out, &mut pending_with);
    while matches!(out.last().map(String::as_str), Some("OR" | "AND" | "WITH")) {
        out.pop();
    }
    while matches!(out.first().map(String::as_str), Some("OR" | "AND" | "WITH")) {
        out.remove(0);
    }
    out.dedup_by(|a, b| is_operator(a) && is_operator(b));
    if out.is_empty() {
        return None;
    }
    // Operands and operators must alternate; free text that defeats the reading above becomes
    // one LicenseRef rather than an expression SPDX validators reject.
    let alternates = out
        .iter()
        .enumerate()
        .all(|(i, t)| is_operator(t) == (i % 2 == 1));
    Some(if alternates {
        out.join(" ")
    } else {
        to_spdx(declared)
    })
}

fn is_operator(token: &str) -> bool {
    matches!(token, "OR" | "AND" | "WITH")
}

/// The SPDX exception ids packages commonly name.
fn to_spdx_exception(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    let lower = lower
        .trim_end_matches(" exception")
        .trim_end_matches("-exception");
    Some(match lower {
        "classpath" | "classpath-2.0" => "Classpath-exception-2.0",
        "gcc-3.1" | "gcc runtime library" | "gcc" => "GCC-exception-3.1",
        "gcc-2.0" => "GCC-exception-2.0",
        "autoconf" | "autoconf-3.0" => "Autoconf-exception-3.0",
        "autoconf-2.0" => "Autoconf-exception-2.0",
        "bison" | "bison-2.2" => "Bison-exception-2.2",
        "llvm" => "LLVM-exception",
        "font" | "font-2.0" => "Font-exception-2.0",
        "linux-syscall-note" | "linux syscall note" => "Linux-syscall-note",
        "libtool" => "Libtool-exception",
        "openvpn-openssl" => "openvpn-openssl-exception",
        _ => return None,
    })
}

/// Fedora's older short names (`GPLv2+`, `LGPLv2`, `ASL 2.0`).
fn fix_rpm_style(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let mapped = match lower.as_str() {
        "gplv2" => "GPL-2.0-only",
        "gplv2+" => "GPL-2.0-or-later",
        "gplv3" => "GPL-3.0-only",
        "gplv3+" => "GPL-3.0-or-later",
        "lgplv2" => "LGPL-2.0-only",
        "lgplv2+" => "LGPL-2.0-or-later",
        "lgplv2.1" => "LGPL-2.1-only",
        "lgplv2.1+" => "LGPL-2.1-or-later",
        "lgplv3" => "LGPL-3.0-only",
        "lgplv3+" => "LGPL-3.0-or-later",
        "asl 2.0" => "Apache-2.0",
        "public domain" => "LicenseRef-public-domain",
        _ => return name.to_string(),
    };
    mapped.to_string()
}

/// Licences a Debian `copyright` file declares: every DEP-5 `License:` short name, or for
/// free-form files the `/usr/share/common-licenses/NAME` they point to.
pub fn from_debian_copyright(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("License:") {
            if let Some(expr) = expression_to_spdx(rest) {
                found.push(expr);
            }
        }
    }
    if found.is_empty() {
        for piece in text.split("/usr/share/common-licenses/").skip(1) {
            let name: String = piece
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '+'))
                .collect();
            let name = name.trim_end_matches('.');
            if !name.is_empty() {
                found.push(to_spdx(name));
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_debian_names() {
        assert_eq!(
            expression_to_spdx("GPL-2+ or Artistic").unwrap(),
            "GPL-2.0-or-later OR Artistic-1.0-Perl"
        );
        assert_eq!(to_spdx("Expat"), "MIT");
        assert_eq!(to_spdx("public-domain"), "LicenseRef-public-domain");
        assert_eq!(
            expression_to_spdx("GPLv2+ and LGPLv2+").unwrap(),
            "GPL-2.0-or-later AND LGPL-2.0-or-later"
        );
    }

    #[test]
    fn exceptions_stay_valid_spdx() {
        assert_eq!(
            expression_to_spdx("GPL-3+ with GCC-3.1 exception").unwrap(),
            "GPL-3.0-or-later WITH GCC-exception-3.1"
        );
        assert_eq!(
            expression_to_spdx("GPL-2+ with OpenSSL exception").unwrap(),
            "LicenseRef-GPL-2.0-or-later-with-OpenSSL-exception"
        );
    }

    #[test]
    fn prose_licence_names_never_make_adjacent_operands() {
        // Seen in a real Python wheel's metadata; the official SPDX validator rejected the
        // `LicenseRef-binary-forms LicenseRef-OR-with-without` this once produced.
        let prose = "Redistribution and use in source and binary forms, with or without";
        let expr = expression_to_spdx(prose).unwrap();
        assert_eq!(
            expr,
            "LicenseRef-Redistribution AND LicenseRef-use-in-source AND LicenseRef-binary-forms OR LicenseRef-without"
        );
        assert_eq!(
            expression_to_spdx("GPL-2+ with").unwrap(),
            "GPL-2.0-or-later",
            "a dangling with is dropped"
        );
        for text in [
            prose,
            "with MIT",
            "MIT or with GPL-2+",
            "MIT and or BSD",
            "GPL-2+ with",
        ] {
            let expr = expression_to_spdx(text).unwrap();
            let tokens: Vec<&str> = expr.split(' ').collect();
            for (i, t) in tokens.iter().enumerate() {
                assert_eq!(
                    is_operator(t),
                    i % 2 == 1,
                    "{text:?} gave {expr:?}: operands and operators must alternate"
                );
            }
        }
    }

    #[test]
    fn reads_copyright_files() {
        let dep5 = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-3+\n\nFiles: lib/*\nLicense: LGPL-2.1+\n";
        assert_eq!(
            from_debian_copyright(dep5),
            vec!["GPL-3.0-or-later", "LGPL-2.1-or-later"]
        );
        let free = "see /usr/share/common-licenses/GPL-2.\n";
        assert_eq!(from_debian_copyright(free), vec!["GPL-2.0-only"]);
    }
}
