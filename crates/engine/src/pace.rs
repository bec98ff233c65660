//! Pacing for transfers from a peer that may stall on purpose: a per-read timeout alone lets a
//! sender that trickles one byte per read hold a scan for as long as it likes. A [`MinRate`]
//! turns such a trickle into an error; whole-answer deadlines are set where the request is
//! made (ureq's request timeout, the engine client's socket deadline).

use std::io::{self, Read};
use std::time::{Duration, Instant};

/// The slowest a body may arrive, averaged over each `window` of time spent waiting for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinRate {
    pub bytes_per_sec: u64,
    pub window: Duration,
}

impl Default for MinRate {
    /// 10 KiB/s over 30 s windows: a link slower than that would take a day for 1 GB.
    fn default() -> Self {
        MinRate {
            bytes_per_sec: 10 << 10,
            window: Duration::from_secs(30),
        }
    }
}

impl MinRate {
    /// How long `bytes` may take at this rate: the part of a deadline that scales with size.
    pub fn time_for(&self, bytes: u64) -> Duration {
        match bytes.checked_div(self.bytes_per_sec) {
            Some(secs) => Duration::from_secs(secs.saturating_add(1)),
            None => Duration::ZERO,
        }
    }
}

/// A body that arrived more slowly than its [`MinRate`].
#[derive(Debug, thiserror::Error)]
#[error("{bytes} bytes arrived in {secs} s of waiting, under the minimum of {min} bytes/s")]
pub struct TooSlow {
    pub bytes: u64,
    pub secs: u64,
    pub min: u64,
}

/// Fails a read once the bytes that came in a window of waiting fall short of the rate.
///
/// Only time spent inside the inner `read` counts: a consumer that pauses (an analyzer busy
/// with a large file) must not be blamed on the sender.
pub struct Paced<R> {
    inner: R,
    rate: MinRate,
    waited: Duration,
    bytes: u64,
}

impl<R> Paced<R> {
    pub fn new(inner: R, rate: MinRate) -> Paced<R> {
        Paced {
            inner,
            rate,
            waited: Duration::ZERO,
            bytes: 0,
        }
    }
}

impl<R: Read> Read for Paced<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let started = Instant::now();
        let n = self.inner.read(buf)?;
        if self.rate.bytes_per_sec == 0 || buf.is_empty() {
            return Ok(n);
        }
        self.waited += started.elapsed();
        self.bytes += n as u64;
        if self.waited >= self.rate.window {
            let secs = self.waited.as_secs().max(1);
            if self.bytes < self.rate.bytes_per_sec.saturating_mul(secs) {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    TooSlow {
                        bytes: self.bytes,
                        secs,
                        min: self.rate.bytes_per_sec,
                    },
                ));
            }
            self.waited = Duration::ZERO;
            self.bytes = 0;
        }
        Ok(n)
    }
}

/// The [`TooSlow`] inside an I/O error, if that is what it is.
pub fn too_slow(e: &io::Error) -> Option<&TooSlow> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<TooSlow>())
}
