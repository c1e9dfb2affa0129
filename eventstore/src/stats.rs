use std::sync::atomic::{AtomicU64, Ordering};

/// What an executor has done since it started: the figures that tell whether snapshots, the
/// aggregate cache and group commit are doing their job.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExecutorStats {
    /// Events read from the store to rebuild aggregates (snapshots not counted).
    pub events_read: u64,
    /// Aggregates rebuilt from the store (snapshot + later events).
    pub loads: u64,
    /// Aggregates found in the in-memory cache instead.
    pub cache_hits: u64,
    /// Rounds of one aggregate's worker, each deciding every command queued for it.
    pub batches: u64,
    pub commands: u64,
    /// INSERT transactions, each carrying the batches of any number of aggregates.
    pub commits: u64,
    /// Batches that lost a race with another process and were retried.
    pub conflicts: u64,
    pub snapshots_written: u64,
    /// Commands queued behind a running batch right now.
    pub waiting: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) events_read: AtomicU64,
    pub(crate) loads: AtomicU64,
    pub(crate) cache_hits: AtomicU64,
    pub(crate) batches: AtomicU64,
    pub(crate) commands: AtomicU64,
    pub(crate) commits: AtomicU64,
    pub(crate) conflicts: AtomicU64,
    pub(crate) snapshots_written: AtomicU64,
}

impl Counters {
    pub(crate) fn bump(counter: &AtomicU64) {
        Self::add(counter, 1);
    }

    pub(crate) fn add(counter: &AtomicU64, amount: u64) {
        counter.fetch_add(amount, Ordering::Relaxed);
    }

    pub(crate) fn read(&self, waiting: u64) -> ExecutorStats {
        let get = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        ExecutorStats {
            events_read: get(&self.events_read),
            loads: get(&self.loads),
            cache_hits: get(&self.cache_hits),
            batches: get(&self.batches),
            commands: get(&self.commands),
            commits: get(&self.commits),
            conflicts: get(&self.conflicts),
            snapshots_written: get(&self.snapshots_written),
            waiting,
        }
    }
}
