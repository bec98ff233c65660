//! CBL-Mariner / Azure Linux distroless images carry no rpm database; their build writes the
//! installed packages to `/var/lib/rpmmanifest/container-manifest-2`, one line per package in
//! rpm's query format `%{NAME}\t%{VERSION}-%{RELEASE}\t%{INSTALLTIME}\t%{BUILDTIME}\t%{VENDOR}\t%{EPOCH}\t%{SIZE}\t%{ARCH}\t%{EPOCHNUM}\t%{SOURCERPM}`
//! (Azure Linux's distroless image documentation and its image build toolkit). The sibling
//! `container-manifest-1` lists the same packages as bare NEVRAs and is not read, so nothing
//! is counted twice.

use bulwark_analyze::{
    Analyzer, AnalyzerOutput, Fact, FileKind, FileMeta, Interest, PackageRecord,
};
use bulwark_types::{Ecosystem, PackageSource};

pub struct RpmManifestAnalyzer;

pub(crate) const MANIFEST: &str = "var/lib/rpmmanifest/container-manifest-2";

impl Analyzer for RpmManifestAnalyzer {
    fn id(&self) -> &'static str {
        "rpm-manifest"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.kind == FileKind::Regular && file.path == MANIFEST {
            Interest::Read {
                max_bytes: 32 << 20,
            }
        } else {
            Interest::Skip
        }
    }

    fn analyze(&self, _file: &FileMeta, content: &[u8], out: &mut AnalyzerOutput) {
        let text = String::from_utf8_lossy(content);
        let mut records = Vec::new();
        let mut malformed = 0usize;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match parse_line(line) {
                Some(r) => records.push(r),
                None => malformed += 1,
            }
        }
        if malformed > 0 {
            out.problem(format!(
                "{malformed} line(s) of the rpm manifest are not NAME\\tVERSION-RELEASE\\t…; skipped"
            ));
        }
        if !records.is_empty() {
            out.fact(Fact::Packages { records });
        }
    }
}

fn parse_line(line: &str) -> Option<PackageRecord> {
    let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
    let name = *fields.first()?;
    let version_release = *fields.get(1)?;
    let valid_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'));
    if !valid_name
        || !version_release.contains('-')
        || version_release.contains(char::is_whitespace)
    {
        return None;
    }
    let known = |i: usize| {
        fields
            .get(i)
            .copied()
            .filter(|f| !f.is_empty() && *f != "(none)")
    };
    let epoch = known(5)
        .and_then(|e| e.parse::<u32>().ok())
        .filter(|e| *e > 0);
    let mut record = PackageRecord::new(
        Ecosystem::Rpm,
        name,
        match epoch {
            Some(e) => format!("{e}:{version_release}"),
            None => version_release.to_string(),
        },
    );
    record.epoch = epoch;
    record.arch = known(7).map(str::to_string);
    record.source = known(9).and_then(split_source_rpm);
    Some(record)
}

/// `bash-5.1.8-6.cm2.src.rpm` → (`bash`, `5.1.8-6.cm2`).
fn split_source_rpm(file: &str) -> Option<PackageSource> {
    let stem = file.strip_suffix(".src.rpm")?;
    let (rest, release) = stem.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    Some(PackageSource {
        name: name.to_string(),
        version: format!("{version}-{release}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> AnalyzerOutput {
        let meta = FileMeta {
            path: MANIFEST,
            kind: FileKind::Regular,
            size: text.len() as u64,
            mode: 0o644,
        };
        assert!(matches!(
            RpmManifestAnalyzer.wants(&meta),
            Interest::Read { .. }
        ));
        let mut out = AnalyzerOutput::default();
        RpmManifestAnalyzer.analyze(&meta, text.as_bytes(), &mut out);
        out
    }

    #[test]
    fn reads_manifest_lines() {
        let text = "filesystem\t1.1-19.cm2\t1700000000\t1690000000\tMicrosoft Corporation\t(none)\t7596\tx86_64\t0\tfilesystem-1.1-19.cm2.src.rpm\n\
                    tzdata\t2024a-1.cm2\t1700000001\t1690000001\tMicrosoft Corporation\t(none)\t1956040\tnoarch\t0\ttzdata-2024a-1.cm2.src.rpm\n\
                    openssl-libs\t1.1.1k-28.cm2\t1700000002\t1690000002\tMicrosoft Corporation\t1\t4194304\tx86_64\t1\topenssl-1.1.1k-28.cm2.src.rpm\n";
        let out = run(text);
        assert!(out.problems.is_empty(), "{:?}", out.problems);
        let Fact::Packages { records } = &out.facts[0] else {
            panic!()
        };
        let got: Vec<_> = records
            .iter()
            .map(|r| {
                (
                    r.name.as_str(),
                    r.version.as_str(),
                    r.arch.as_deref(),
                    r.epoch,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("filesystem", "1.1-19.cm2", Some("x86_64"), None),
                ("tzdata", "2024a-1.cm2", Some("noarch"), None),
                ("openssl-libs", "1:1.1.1k-28.cm2", Some("x86_64"), Some(1)),
            ]
        );
        assert_eq!(records[2].source.as_ref().unwrap().name, "openssl");
    }

    #[test]
    fn malformed_lines_are_diagnostics() {
        let out = run("not a manifest line\n\0\u{1}\tx\n");
        assert!(out.facts.is_empty());
        assert_eq!(out.problems.len(), 1);
    }
}
