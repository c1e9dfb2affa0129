//! Catching up from the event store: a room's events after a sequence, page by page to the
//! store's end, each once and in order. A resuming socket and the hub's gap fill both read
//! through it.

use std::future::Future;

use eventstore::EventLog;
use uuid::Uuid;

use crate::store::{self, RoomRecord, PAGE};
use crate::FanoutError;

/// Where a room's committed events are read from: the event store, or a stand-in in tests.
pub(crate) trait EventSource: Sync {
    /// Up to [`PAGE`] events of the room after `after`, in order.
    fn events_after(
        &self,
        room_id: Uuid,
        after: i64,
    ) -> impl Future<Output = Result<Vec<RoomRecord>, FanoutError>> + Send;
}

impl EventSource for EventLog {
    async fn events_after(
        &self,
        room_id: Uuid,
        after: i64,
    ) -> Result<Vec<RoomRecord>, FanoutError> {
        store::events_after(self, room_id, after).await
    }
}

/// What is left to read of one room after a sequence. Each page starts where the previous one
/// ended, so reading is a loop, however far behind the reader is.
#[derive(Debug)]
pub(crate) struct Backlog {
    room_id: Uuid,
    /// The last sequence read.
    after: i64,
    finished: bool,
}

impl Backlog {
    /// Everything of the room after `seq`.
    pub(crate) fn after(room_id: Uuid, seq: i64) -> Self {
        Self {
            room_id,
            after: seq,
            finished: false,
        }
    }

    /// Whether a page reached the store's end: nothing was left to read then.
    pub(crate) fn is_finished(&self) -> bool {
        self.finished
    }

    /// The next page. A read that fails moves nothing, so it can be tried again.
    ///
    /// The room's sequence is gapless; should the store ever hold a gap, it is logged as the
    /// error it is and the page is handed on as it is, so a reader never waits for a sequence
    /// that will not come.
    pub(crate) async fn next_page(
        &mut self,
        store: &impl EventSource,
    ) -> Result<Vec<RoomRecord>, FanoutError> {
        let page = store.events_after(self.room_id, self.after).await?;
        self.finished = page.len() < PAGE;
        for record in &page {
            if record.seq != self.after + 1 {
                tracing::error!(
                    room_id = %self.room_id,
                    expected = self.after + 1,
                    found = record.seq,
                    "the event store has a gap in a room's sequence; skipping over it"
                );
            }
            self.after = record.seq;
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use chrono::Utc;
    use domain::{MessagePosted, RoomEvent};

    use super::*;

    /// A room's events in memory, counting the reads.
    struct Stored {
        seqs: Vec<i64>,
        reads: Mutex<Vec<i64>>,
    }

    impl Stored {
        fn new(seqs: impl IntoIterator<Item = i64>) -> Self {
            Self {
                seqs: seqs.into_iter().collect(),
                reads: Mutex::new(Vec::new()),
            }
        }
    }

    fn record(seq: i64) -> RoomRecord {
        RoomRecord {
            room_id: Uuid::nil(),
            seq,
            event: RoomEvent::MessagePosted(MessagePosted {
                message_id: Uuid::nil(),
                user_id: Uuid::nil(),
                username: "alice".into(),
                content: format!("message {seq}"),
                client_msg_id: None,
                posted_at: Utc::now(),
                is_bot: false,
                reply_to: None,
                mentions: vec![],
            }),
        }
    }

    impl EventSource for Stored {
        async fn events_after(
            &self,
            _room_id: Uuid,
            after: i64,
        ) -> Result<Vec<RoomRecord>, FanoutError> {
            self.reads.lock().unwrap().push(after);
            Ok(self
                .seqs
                .iter()
                .filter(|seq| **seq > after)
                .take(PAGE)
                .map(|seq| record(*seq))
                .collect())
        }
    }

    async fn read_all(store: &Stored, after: i64) -> Vec<i64> {
        let mut backlog = Backlog::after(Uuid::nil(), after);
        let mut seqs = Vec::new();
        while !backlog.is_finished() {
            let page = backlog.next_page(store).await.unwrap();
            seqs.extend(page.iter().map(|record| record.seq));
        }
        seqs
    }

    #[tokio::test]
    async fn a_long_backlog_is_read_page_by_page_in_order() {
        let store = Stored::new(1..=1200);
        assert_eq!(
            read_all(&store, 100).await,
            (101..=1200).collect::<Vec<_>>()
        );
        assert_eq!(*store.reads.lock().unwrap(), [100, 600, 1100]);
    }

    #[tokio::test]
    async fn a_backlog_of_exactly_a_page_ends_with_an_empty_read() {
        let store = Stored::new(1..=500);
        assert_eq!(read_all(&store, 0).await.len(), 500);
        assert_eq!(*store.reads.lock().unwrap(), [0, 500]);
    }

    #[tokio::test]
    async fn a_gap_in_the_store_is_skipped_over_not_waited_for() {
        let store = Stored::new((1..=3).chain(7..=9).chain(1000..=1600));
        let seqs = read_all(&store, 0).await;
        assert_eq!(seqs.len(), 6 + 601);
        assert!(seqs.windows(2).all(|pair| pair[0] < pair[1]), "in order");
        assert_eq!(*store.reads.lock().unwrap(), [0, 1493]);
    }

    #[tokio::test]
    async fn a_cursor_past_the_rooms_end_reads_nothing() {
        let store = Stored::new(1..=3);
        assert!(read_all(&store, i64::MAX).await.is_empty());
    }
}
