use bulwark_analyze::{Analyzer, AnalyzerOutput, FileMeta, Interest};

/// Placeholder until this ecosystem's analyzer lands.
pub struct RustAnalyzer;

impl Analyzer for RustAnalyzer {
    fn id(&self) -> &'static str {
        "rust"
    }

    fn version(&self) -> u32 {
        0
    }

    fn wants(&self, _file: &FileMeta) -> Interest {
        Interest::Skip
    }

    fn analyze(&self, _file: &FileMeta, _content: &[u8], _out: &mut AnalyzerOutput) {}
}
