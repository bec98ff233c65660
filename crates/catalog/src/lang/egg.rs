//! Python eggs installed as zip files (`site-packages/<name>-<version>-py3.x.egg`, what
//! `easy_install` left): the package's core metadata is the archive's `EGG-INFO/PKG-INFO`
//! (<https://setuptools.pypa.io/en/latest/deprecated/python_eggs.html>). The zip is read with
//! the Java analyzer's guarded reader (the same limits against bombs and malformed archives),
//! the metadata with the Python analyzer's parser. Unpacked eggs (`EGG-INFO/PKG-INFO` as a
//! file) are the Python analyzer's.

use bulwark_analyze::{Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest};

use super::java::read_first_entry;
use super::python::parse_metadata;

pub struct EggAnalyzer;

/// Largest egg read from an image.
const MAX_EGG_BYTES: u64 = 256 << 20;
/// Largest `PKG-INFO` read from an egg.
const MAX_PKG_INFO_BYTES: u64 = 1 << 20;

impl Analyzer for EggAnalyzer {
    fn id(&self) -> &'static str {
        "python-egg"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind == FileKind::Regular && file.file_name().ends_with(".egg") {
            Interest::ReadIfMagic {
                max_bytes: MAX_EGG_BYTES,
                magic: &[b"PK\x03\x04"],
            }
        } else {
            Interest::Skip
        }
    }

    fn analyze(&self, _file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        let entry = read_first_entry(content, |n| n == "EGG-INFO/PKG-INFO", MAX_PKG_INFO_BYTES);
        match entry {
            Ok(Some((_, data))) => match parse_metadata(&String::from_utf8_lossy(&data)) {
                Ok(record) => out.fact(Fact::Packages {
                    records: vec![record],
                }),
                Err(e) => out.problem(format!("EGG-INFO/PKG-INFO: {e}; not listed")),
            },
            Ok(None) => out.problem("egg without EGG-INFO/PKG-INFO; not listed"),
            Err(e) => out.problem(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Write};

    use bulwark_types::Ecosystem;
    use zip::write::SimpleFileOptions;

    use super::*;

    fn egg(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in entries {
            w.start_file(*name, SimpleFileOptions::default()).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn run(bytes: &[u8]) -> AnalyzerOutput {
        let meta = FileMeta {
            path: "usr/lib/python3.12/site-packages/six-1.16.0-py3.12.egg",
            kind: FileKind::Regular,
            size: bytes.len() as u64,
            mode: 0o644,
        };
        assert!(matches!(
            EggAnalyzer.wants(&meta),
            Interest::ReadIfMagic { .. }
        ));
        let mut out = AnalyzerOutput::default();
        EggAnalyzer.analyze(&meta, bytes, &mut out);
        out
    }

    #[test]
    fn reads_pkg_info_from_zipped_eggs() {
        let bytes = egg(&[
            ("six.py", b"# six\n"),
            (
                "EGG-INFO/PKG-INFO",
                b"Metadata-Version: 1.2\nName: six\nVersion: 1.16.0\nLicense: MIT\n",
            ),
            ("EGG-INFO/top_level.txt", b"six\n"),
        ]);
        let out = run(&bytes);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        let Fact::Packages { records } = &out.facts[0] else {
            panic!()
        };
        assert_eq!(
            (
                records[0].ecosystem,
                records[0].name.as_str(),
                records[0].version.as_str()
            ),
            (Ecosystem::PyPI, "six", "1.16.0")
        );
    }

    #[test]
    fn malformed_eggs_are_diagnostics() {
        for bytes in [
            b"PK\x03\x04 truncated".to_vec(),
            egg(&[("six.py", b"x")]),
            egg(&[("EGG-INFO/PKG-INFO", b"Metadata-Version: 1.2\n")]),
        ] {
            let out = run(&bytes);
            assert!(out.facts.is_empty());
            assert_eq!(out.problems.len(), 1, "{:?}", out.problems);
        }
    }
}
