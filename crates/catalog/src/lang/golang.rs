use bulwark_analyze::{Analyzer, AnalyzerOutput, FileMeta, Interest};

/// Placeholder until this ecosystem's analyzer lands.
pub struct GoAnalyzer;

impl Analyzer for GoAnalyzer {
    fn id(&self) -> &'static str {
        "go"
    }

    fn version(&self) -> u32 {
        0
    }

    fn wants(&self, _file: &FileMeta) -> Interest {
        Interest::Skip
    }

    fn analyze(&self, _file: &FileMeta, _content: &[u8], _out: &mut AnalyzerOutput) {}
}
