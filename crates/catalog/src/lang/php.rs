use bulwark_analyze::{Analyzer, AnalyzerOutput, FileMeta, Interest};

/// Placeholder until this ecosystem's analyzer lands.
pub struct PhpAnalyzer;

impl Analyzer for PhpAnalyzer {
    fn id(&self) -> &'static str {
        "php"
    }

    fn version(&self) -> u32 {
        0
    }

    fn wants(&self, _file: &FileMeta) -> Interest {
        Interest::Skip
    }

    fn analyze(&self, _file: &FileMeta, _content: &[u8], _out: &mut AnalyzerOutput) {}
}
