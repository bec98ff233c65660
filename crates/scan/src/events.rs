//! What a running scan tells its caller, and how the caller stops it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bulwark_analyze::{Diagnostic, Progress};

/// The stages of a scan, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Checking the image's signature (`require_signature`).
    Verifying,
    /// Resolving the reference and reading the manifest and config.
    Opening,
    /// Streaming the layers through the analyzers.
    Walking,
    /// Applying the layers in order and joining their facts.
    Assembling,
    /// Matching packages against the advisory database.
    Matching,
    /// Applying ignores, VEX, gates and redaction.
    Policy,
}

/// One thing that happened. Borrowed: a sink copies what it keeps.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<'a> {
    Phase(Phase),
    LayerStarted {
        index: usize,
        label: &'a str,
        compressed_size: Option<u64>,
    },
    /// `bytes` more compressed bytes of the layer were read.
    LayerAdvanced {
        index: usize,
        bytes: u64,
    },
    LayerFinished {
        index: usize,
        from_cache: bool,
        /// Compressed bytes read (0 for a cached layer).
        bytes: u64,
        /// Entries in the layer's file index.
        files: usize,
    },
    /// A problem with one file or layer; the report keeps them all too.
    Diagnostic(&'a Diagnostic),
    /// Something the user should know now (a missing or old advisory database).
    Notice {
        level: NoticeLevel,
        message: &'a str,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeLevel {
    Note,
    Warning,
}

/// Receives a scan's events, from any thread (layers are walked in parallel). The library
/// prints nothing: a terminal's progress bars, a server's job log and a test's recorder are
/// each one sink.
pub trait EventSink: Sync {
    fn event(&self, event: Event<'_>);
}

/// Events that go nowhere.
pub struct NoopSink;

impl EventSink for NoopSink {
    fn event(&self, _event: Event<'_>) {}
}

/// Keeps every event, owned, for tests and logs.
#[derive(Debug, Default)]
pub struct RecordingSink {
    events: Mutex<Vec<RecordedEvent>>,
}

/// An [`Event`] with owned fields.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordedEvent {
    Phase(Phase),
    LayerStarted {
        index: usize,
        label: String,
    },
    LayerAdvanced {
        index: usize,
        bytes: u64,
    },
    LayerFinished {
        index: usize,
        from_cache: bool,
        bytes: u64,
        files: usize,
    },
    Diagnostic(Diagnostic),
    Notice(NoticeLevel, String),
}

impl RecordingSink {
    pub fn new() -> RecordingSink {
        RecordingSink::default()
    }

    /// What was recorded so far, in arrival order.
    pub fn events(&self) -> Vec<RecordedEvent> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }
}

impl EventSink for RecordingSink {
    fn event(&self, event: Event<'_>) {
        let owned = match event {
            Event::Phase(p) => RecordedEvent::Phase(p),
            Event::LayerStarted { index, label, .. } => RecordedEvent::LayerStarted {
                index,
                label: label.to_string(),
            },
            Event::LayerAdvanced { index, bytes } => RecordedEvent::LayerAdvanced { index, bytes },
            Event::LayerFinished {
                index,
                from_cache,
                bytes,
                files,
            } => RecordedEvent::LayerFinished {
                index,
                from_cache,
                bytes,
                files,
            },
            Event::Diagnostic(d) => RecordedEvent::Diagnostic(d.clone()),
            Event::Notice { level, message } => RecordedEvent::Notice(level, message.to_string()),
        };
        if let Ok(mut events) = self.events.lock() {
            events.push(owned);
        }
    }
}

/// Stops a scan from another thread (or from the sink). Clones share one flag; the scan
/// checks it between stages, layers and files, and returns [`crate::Error::Cancelled`].
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    pub(crate) fn check(&self) -> Result<(), crate::Error> {
        if self.is_cancelled() {
            return Err(crate::Error::Cancelled);
        }
        Ok(())
    }
}

/// The walker's progress, turned into events, with the token as its cancellation hook.
pub(crate) struct WalkEvents<'a> {
    pub sink: &'a dyn EventSink,
    pub cancel: &'a CancelToken,
    /// Compressed bytes read per layer, for `LayerFinished`.
    pub bytes: Vec<AtomicU64>,
}

impl<'a> WalkEvents<'a> {
    pub fn new(sink: &'a dyn EventSink, cancel: &'a CancelToken, layers: usize) -> Self {
        WalkEvents {
            sink,
            cancel,
            bytes: (0..layers.max(1)).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl Progress for WalkEvents<'_> {
    fn layer_started(&self, index: usize, label: &str, compressed_size: Option<u64>) {
        self.sink.event(Event::LayerStarted {
            index,
            label,
            compressed_size,
        });
    }

    fn layer_advanced(&self, index: usize, compressed_bytes: u64) {
        if let Some(b) = self.bytes.get(index) {
            b.fetch_add(compressed_bytes, Ordering::Relaxed);
        }
        self.sink.event(Event::LayerAdvanced {
            index,
            bytes: compressed_bytes,
        });
    }

    fn layer_finished(&self, index: usize, from_cache: bool, entries: usize) {
        let bytes = self
            .bytes
            .get(index)
            .map_or(0, |b| b.load(Ordering::Relaxed));
        self.sink.event(Event::LayerFinished {
            index,
            from_cache,
            bytes,
            files: entries,
        });
    }

    fn cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }
}
