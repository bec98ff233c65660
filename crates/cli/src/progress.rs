//! Progress bars on a terminal; nothing at all when piped or quiet.

use std::sync::Mutex;

use bulwark_analyze::Progress;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Bars {
    multi: MultiProgress,
    bars: Mutex<Vec<Option<ProgressBar>>>,
}

impl Bars {
    pub fn new(layers: usize, visible: bool) -> Bars {
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Bars {
            multi: MultiProgress::with_draw_target(target),
            bars: Mutex::new(vec![None; layers]),
        }
    }

    fn with_bar(&self, index: usize, f: impl FnOnce(&ProgressBar)) {
        if let Ok(bars) = self.bars.lock() {
            if let Some(Some(bar)) = bars.get(index) {
                f(bar);
            }
        }
    }
}

impl Progress for Bars {
    fn layer_started(&self, index: usize, label: &str, compressed_size: Option<u64>) {
        let bar = self
            .multi
            .add(ProgressBar::new(compressed_size.unwrap_or(0)));
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix:>10} {bar:30} {bytes:>10}/{total_bytes:<10} {msg}",
            )
            .expect("a valid template"),
        );
        bar.set_prefix(format!("layer {index}"));
        bar.set_message(label.to_string());
        if let Ok(mut bars) = self.bars.lock() {
            if let Some(slot) = bars.get_mut(index) {
                *slot = Some(bar);
            }
        }
    }

    fn layer_advanced(&self, index: usize, compressed_bytes: u64) {
        self.with_bar(index, |b| b.inc(compressed_bytes));
    }

    fn layer_finished(&self, index: usize, from_cache: bool) {
        self.with_bar(index, |b| {
            b.finish_with_message(if from_cache { "cached" } else { "done" })
        });
    }
}

impl Drop for Bars {
    fn drop(&mut self) {
        let _ = self.multi.clear();
    }
}
