//! The process's one reader of the log's head: woken by `NOTIFY outbox` (sent by every commit of
//! events), it settles the position (see `eventstore`'s settled reading), reads what is new once,
//! renders each event once, and keeps the latest in memory for every stream of the process. A
//! stream that starts further back, or falls behind what is kept, reads the log itself.
//!
//! It reads only while a stream follows it: every commit of events notifies, so a tail that
//! read for nobody would cost the query role a settling and a page per commit. The first
//! stream wakes it, and it starts again from the head, as nothing it kept can be trusted to be
//! recent any more.

use std::collections::VecDeque;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use eventstore::log::PAGE_SIZE;
use eventstore::{EventLog, EventLogError};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::{watch, Notify};
use tokio_util::sync::CancellationToken;

use super::FeedItem;

/// How many recent events the process keeps for its streams.
const KEPT: usize = 10_000;
/// Read the head even without a notification this often (a listener loses them while it
/// reconnects).
const POLL_EVERY: Duration = Duration::from_secs(1);

/// Cheap to clone.
#[derive(Clone)]
pub struct Tail {
    inner: Arc<Inner>,
}

struct Inner {
    log: EventLog,
    recent: RwLock<Recent>,
    settled: watch::Sender<i64>,
    /// Told when a stream starts following, so an idle tail reads the head at once.
    followed: Notify,
}

/// Every event after `from` up to the tail's settled position.
struct Recent {
    from: i64,
    items: VecDeque<Arc<FeedItem>>,
}

impl Tail {
    /// Starts following the log's head until `shutdown`: reads go through `pool`, and the
    /// notifications come on a connection of `listener_pool`, which they hold for good.
    pub async fn start(
        pool: PgPool,
        listener_pool: &PgPool,
        shutdown: CancellationToken,
    ) -> Result<Self, EventLogError> {
        let log = EventLog::new(pool);
        let mut listener = PgListener::connect_with(listener_pool)
            .await
            .map_err(EventLogError::Database)?;
        listener
            .listen("outbox")
            .await
            .map_err(EventLogError::Database)?;
        let settled = log.settled_position().await?;
        let tail = Self {
            inner: Arc::new(Inner {
                log,
                recent: RwLock::new(Recent {
                    from: settled,
                    items: VecDeque::new(),
                }),
                settled: watch::channel(settled).0,
                followed: Notify::new(),
            }),
        };
        tokio::spawn(tail.clone().follow(listener, shutdown));
        Ok(tail)
    }

    pub fn log(&self) -> &EventLog {
        &self.inner.log
    }

    /// Ticks with each newly settled position, for as long as the receiver is kept.
    pub(crate) fn settled(&self) -> watch::Receiver<i64> {
        let receiver = self.inner.settled.subscribe();
        self.inner.followed.notify_one();
        receiver
    }

    async fn follow(self, mut listener: PgListener, shutdown: CancellationToken) {
        let mut idle = false;
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                received = listener.try_recv() => {
                    if let Err(error) = received {
                        tracing::warn!(%error, "the feed's listener failed; listening again");
                        tokio::time::sleep(POLL_EVERY).await;
                    }
                }
                () = self.inner.followed.notified() => {}
                () = tokio::time::sleep(POLL_EVERY) => {}
            }
            if self.inner.settled.receiver_count() == 0 {
                idle = true;
                continue;
            }
            let advanced = if idle {
                self.restart_at_head().await
            } else {
                self.advance().await
            };
            match advanced {
                Ok(()) => idle = false,
                Err(error) => {
                    tracing::warn!(%error, "the feed cannot read the log's head; trying again");
                    tokio::time::sleep(POLL_EVERY).await;
                }
            }
        }
    }

    /// Forgets what was kept and starts keeping from the head: streams behind it read the log.
    async fn restart_at_head(&self) -> Result<(), EventLogError> {
        let settled = self.inner.log.settled_position().await?;
        let mut recent = self.inner.recent.write().expect("feed tail poisoned");
        recent.items.clear();
        recent.from = settled;
        self.inner.settled.send_replace(settled);
        Ok(())
    }

    /// Reads what settled since the last time, keeps it, and tells the streams.
    async fn advance(&self) -> Result<(), EventLogError> {
        let settled = self.inner.log.settled_position().await?;
        let mut done = *self.inner.settled.borrow();
        while done < settled {
            let page = self
                .inner
                .log
                .settled_page(done, settled, PAGE_SIZE)
                .await?;
            let Some(last) = page.last().map(|event| event.position) else {
                break;
            };
            let items: Vec<_> = page
                .into_iter()
                .map(|e| Arc::new(FeedItem::of(e)))
                .collect();
            let mut recent = self.inner.recent.write().expect("feed tail poisoned");
            recent.items.extend(items);
            while recent.items.len() > KEPT {
                let dropped = recent.items.pop_front().expect("longer than KEPT");
                recent.from = dropped.position;
            }
            done = last;
        }
        if settled > *self.inner.settled.borrow() {
            self.inner.settled.send_replace(settled);
        }
        Ok(())
    }

    /// Events after `after` up to `up_to` (at most the tail's settled position): from memory
    /// when it holds them, else one page from the log. Empty when there are none.
    pub(crate) async fn read(
        &self,
        after: i64,
        up_to: i64,
    ) -> Result<Vec<Arc<FeedItem>>, EventLogError> {
        {
            let recent = self.inner.recent.read().expect("feed tail poisoned");
            if after >= recent.from {
                let start = recent.items.partition_point(|item| item.position <= after);
                return Ok(recent
                    .items
                    .range(start..)
                    .take_while(|item| item.position <= up_to)
                    .cloned()
                    .collect());
            }
        }
        let page = self.inner.log.settled_page(after, up_to, PAGE_SIZE).await?;
        Ok(page
            .into_iter()
            .map(|e| Arc::new(FeedItem::of(e)))
            .collect())
    }
}
