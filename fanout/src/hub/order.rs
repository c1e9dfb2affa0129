//! Each room event once and in order: the broker's at-least-once delivery goes through the
//! room's sequencer, and what it lost is read from the event store.

use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use super::delivery::Delivery;
use super::Hub;
use crate::backlog::Backlog;
use crate::store::RoomRecord;

/// Pause before a failed gap fill is tried again.
const FILL_RETRY: Duration = Duration::from_secs(1);
/// How long an event past a gap waits for the missing ones to arrive by themselves before they
/// are read from the store. A gap is usually no loss: this node's own sends reach its sockets
/// at once, while someone else's earlier message is still on its way through the broker.
const GAP_GRACE: Duration = Duration::from_millis(200);

/// Why the store is read for a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fill {
    /// An event came past a gap: the missing ones may still arrive by themselves.
    Gap,
    /// The broker link was lost: what was routed meanwhile never arrives.
    Resync,
}

impl Hub {
    /// A committed room event (from the broker, or from a send this node just committed): on to
    /// the room's sockets, once and in order. Events of rooms without sockets here are dropped.
    pub fn dispatch(&self, record: &RoomRecord) {
        let fill = {
            let mut rooms = self.rooms();
            let Some(entry) = rooms.get_mut(&record.room_id) else {
                return;
            };
            // The broker's copy of a send this node already passed on: nothing to render.
            if entry.sequencer.has_passed(record.seq) {
                return;
            }
            let delivery = Arc::new(Delivery::event(record));
            entry
                .sequencer
                .offer(delivery, &entry.stream)
                .map(|from| (entry.generation, from))
        };
        if let Some((generation, from)) = fill {
            self.spawn_fill(record.room_id, generation, from, Fill::Gap);
        }
    }

    /// The broker connection came back: whatever was routed to this node meanwhile is lost, so
    /// every open room reads what it missed from the store.
    pub fn resync(&self) {
        let fills: Vec<_> = self
            .rooms()
            .iter_mut()
            .filter_map(|(room_id, entry)| {
                let from = entry.sequencer.resync()?;
                Some((*room_id, entry.generation, from))
            })
            .collect();
        tracing::info!(
            rooms = fills.len(),
            "filling open rooms from the event store"
        );
        for (room_id, generation, from) in fills {
            self.spawn_fill(room_id, generation, from, Fill::Resync);
        }
    }

    fn spawn_fill(&self, room_id: Uuid, generation: u64, from: i64, kind: Fill) {
        let hub = self.clone();
        tokio::spawn(async move {
            let from = match kind {
                Fill::Resync => from,
                Fill::Gap => {
                    tokio::time::sleep(GAP_GRACE).await;
                    let remains = hub
                        .rooms()
                        .get_mut(&room_id)
                        .filter(|entry| entry.generation == generation)
                        .and_then(|entry| entry.sequencer.gap_remains());
                    match remains {
                        Some(last) => last,
                        None => return,
                    }
                }
            };
            hub.fill(room_id, generation, from).await;
        });
    }

    /// Reads the room's events after `from` from the store to its end and passes them on, then
    /// again from where the stream stands if something was missed meanwhile.
    async fn fill(&self, room_id: Uuid, generation: u64, from: i64) {
        let mut backlog = Backlog::after(room_id, from);
        loop {
            if backlog.is_finished() {
                let again = self
                    .rooms()
                    .get_mut(&room_id)
                    .filter(|entry| entry.generation == generation)
                    .and_then(|entry| entry.sequencer.fill_done());
                match again {
                    Some(from) => backlog = Backlog::after(room_id, from),
                    None => return,
                }
            }
            if !self.is_current(room_id, generation) {
                return;
            }
            match backlog.next_page(self.log()).await {
                Ok(page) => {
                    let mut rooms = self.rooms();
                    let Some(entry) = rooms
                        .get_mut(&room_id)
                        .filter(|entry| entry.generation == generation)
                    else {
                        return;
                    };
                    for record in &page {
                        let delivery = Arc::new(Delivery::event(record));
                        entry.sequencer.restore(delivery, &entry.stream);
                    }
                }
                Err(error) => {
                    tracing::warn!(%room_id, %error, "gap fill failed; retrying");
                    tokio::time::sleep(FILL_RETRY).await;
                }
            }
        }
    }

    fn is_current(&self, room_id: Uuid, generation: u64) -> bool {
        self.rooms()
            .get(&room_id)
            .is_some_and(|entry| entry.generation == generation)
    }
}
