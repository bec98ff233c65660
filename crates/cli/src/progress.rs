//! Progress on a terminal: a bar per layer of a scan, one for a database update; nothing
//! when piped or quiet. Notices (a missing or old advisory database) print unless quiet.

use std::sync::Mutex;

use bulwark_scan::{Event, EventSink, NoticeLevel};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Bars {
    multi: MultiProgress,
    bars: Mutex<Vec<Option<ProgressBar>>>,
    quiet: bool,
}

impl Bars {
    pub fn new(visible: bool, quiet: bool) -> Bars {
        let target = if visible && !quiet {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Bars {
            multi: MultiProgress::with_draw_target(target),
            bars: Mutex::new(Vec::new()),
            quiet,
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

impl EventSink for Bars {
    fn event(&self, event: Event<'_>) {
        match event {
            Event::LayerStarted {
                index,
                label,
                compressed_size,
            } => {
                let bar = self
                    .multi
                    .add(ProgressBar::new(compressed_size.unwrap_or(0)));
                if let Ok(style) = ProgressStyle::with_template(
                    "{prefix:>10} {bar:30} {bytes:>10}/{total_bytes:<10} {msg}",
                ) {
                    bar.set_style(style);
                }
                bar.set_prefix(format!("layer {index}"));
                bar.set_message(label.to_string());
                if let Ok(mut bars) = self.bars.lock() {
                    if bars.len() <= index {
                        bars.resize(index + 1, None);
                    }
                    bars[index] = Some(bar);
                }
            }
            Event::LayerAdvanced { index, bytes } => self.with_bar(index, |b| b.inc(bytes)),
            Event::LayerFinished {
                index, from_cache, ..
            } => self.with_bar(index, |b| {
                b.finish_with_message(if from_cache { "cached" } else { "done" })
            }),
            Event::Notice { level, message } if !self.quiet => {
                let level = match level {
                    NoticeLevel::Note => "note",
                    NoticeLevel::Warning => "warning",
                };
                self.multi.suspend(|| eprintln!("{level}: {message}"));
            }
            _ => {}
        }
    }
}

impl Drop for Bars {
    fn drop(&mut self) {
        let _ = self.multi.clear();
    }
}

/// A database update's phases, one bar (or spinner) at a time.
pub struct DbBar {
    bar: Mutex<Option<ProgressBar>>,
    visible: bool,
}

impl DbBar {
    pub fn new(visible: bool) -> DbBar {
        DbBar {
            bar: Mutex::new(None),
            visible,
        }
    }
}

impl bulwark_vulndb::Progress for DbBar {
    fn phase(&self, label: &str, total: Option<u64>) {
        if !self.visible {
            return;
        }
        let bar = match total {
            Some(t) => ProgressBar::new(t),
            None => ProgressBar::new_spinner(),
        };
        bar.set_draw_target(ProgressDrawTarget::stderr());
        let template = if label.starts_with("downloading") {
            "{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec}"
        } else {
            "{msg} {bar:30} {pos}/{len}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar.set_message(label.to_string());
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(old) = slot.replace(bar) {
                old.finish_and_clear();
            }
        }
    }

    fn advance(&self, done: u64) {
        if let Ok(slot) = self.bar.lock() {
            if let Some(bar) = slot.as_ref() {
                bar.set_position(done);
            }
        }
    }

    fn done(&self) {
        if let Ok(mut slot) = self.bar.lock() {
            if let Some(bar) = slot.take() {
                bar.finish_and_clear();
            }
        }
    }
}
