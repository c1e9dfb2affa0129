use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// One async lock per key, so commands on one aggregate run one at a time in this process while
/// commands on different aggregates run in parallel. Entries of idle keys are swept as the map
/// grows, so memory follows the number of aggregates in use, not of those ever used.
#[derive(Default)]
pub(crate) struct KeyedLock {
    locks: Mutex<Locks>,
}

#[derive(Default)]
struct Locks {
    by_key: HashMap<String, Weak<AsyncMutex<()>>>,
    sweep_at: usize,
}

impl KeyedLock {
    pub(crate) async fn lock(&self, key: &str) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().expect("keyed lock map poisoned");
            let existing = locks.by_key.get(key).and_then(Weak::upgrade);
            match existing {
                Some(lock) => lock,
                None => {
                    let lock = Arc::new(AsyncMutex::new(()));
                    locks.by_key.insert(key.to_owned(), Arc::downgrade(&lock));
                    if locks.by_key.len() > locks.sweep_at {
                        locks.by_key.retain(|_, lock| lock.strong_count() > 0);
                        locks.sweep_at = (locks.by_key.len() * 2).max(1024);
                    }
                    lock
                }
            }
        };
        lock.lock_owned().await
    }
}
