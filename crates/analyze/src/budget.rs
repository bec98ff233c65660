//! The scan's memory budget for file contents held at once.
//!
//! Layers are walked in parallel and each analyzed file is read whole into memory (analyzers
//! parse databases, archives and binaries as a unit), so the peak is the sum of the files in
//! flight. Every walker thread reserves a file's bytes here before reading it: a reservation
//! that does not fit next to the others waits for them to be released, and a single file larger
//! than the whole budget is skipped with a diagnostic instead of taking the process down.

use std::sync::{Arc, Condvar, Mutex};

/// Shared by every layer of one scan (cheap to clone).
#[derive(Clone, Debug)]
pub struct MemoryBudget {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    limit: u64,
    used: Mutex<u64>,
    released: Condvar,
}

/// Bytes held until dropped.
#[derive(Debug)]
pub struct Reservation {
    budget: MemoryBudget,
    bytes: u64,
}

impl MemoryBudget {
    /// The default: enough for the largest database any analyzer reads (512 MiB) next to a
    /// second layer's working set, and small enough that a scan stays under 1 GiB of file data
    /// on a CI runner.
    pub const DEFAULT_BYTES: u64 = 768 << 20;

    pub fn new(limit: u64) -> Self {
        MemoryBudget {
            inner: Arc::new(Inner {
                limit,
                used: Mutex::new(0),
                released: Condvar::new(),
            }),
        }
    }

    pub fn limit(&self) -> u64 {
        self.inner.limit
    }

    /// Bytes reserved right now.
    pub fn in_use(&self) -> u64 {
        *self.lock()
    }

    /// Reserves `bytes`, waiting while other threads hold too much; `None` when `bytes` alone
    /// exceed the budget (waiting could never succeed). Callers hold at most one reservation at
    /// a time, so a waiter never holds what another waiter needs: no deadlock.
    pub fn reserve(&self, bytes: u64) -> Option<Reservation> {
        if bytes > self.inner.limit {
            return None;
        }
        let mut used = self.lock();
        while *used + bytes > self.inner.limit {
            used = self
                .inner
                .released
                .wait(used)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        *used += bytes;
        Some(Reservation {
            budget: self.clone(),
            bytes,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, u64> {
        // The counter stays consistent even if a holder panicked: it is only ever adjusted
        // under the lock by whole reservations.
        self.inner
            .used
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Default for MemoryBudget {
    fn default() -> Self {
        MemoryBudget::new(Self::DEFAULT_BYTES)
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let mut used = self.budget.lock();
        *used -= self.bytes;
        drop(used);
        self.budget.inner.released.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_file_larger_than_the_budget_is_refused_at_once() {
        let budget = MemoryBudget::new(100);
        assert!(budget.reserve(101).is_none());
        assert!(budget.reserve(100).is_some());
        assert_eq!(budget.in_use(), 0, "a dropped reservation is released");
    }

    #[test]
    fn a_reservation_waits_until_others_release_theirs() {
        let budget = MemoryBudget::new(100);
        let first = budget.reserve(70).unwrap();
        let waiter = {
            let budget = budget.clone();
            std::thread::spawn(move || {
                let r = budget.reserve(50).unwrap();
                budget.in_use() - r.bytes
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        assert!(!waiter.is_finished(), "70 + 50 does not fit in 100");
        assert_eq!(budget.in_use(), 70);
        drop(first);
        assert_eq!(
            waiter.join().unwrap(),
            0,
            "it ran after the first was released"
        );
        assert_eq!(budget.in_use(), 0);
    }
}
