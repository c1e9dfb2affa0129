//! The node's hub: which rooms have sockets here, and the one ordered stream each room's sockets
//! read. The node's single broker consumer feeds it; sockets subscribe to a room's stream.
//!
//! Each room's stream is a bounded ring (`tokio::sync::broadcast`): publishing never waits for
//! a reader, every frame is rendered once and shared, and a reader that falls a whole ring behind
//! learns it lagged (its socket is then closed with 4008 and resumes). Room events pass a
//! per-room sequencer first, so the stream carries each sequence once and in order even though
//! the broker delivers at least once and loses what was routed while it reconnected: duplicates
//! are dropped, and a jump past the next sequence holds the event back while the missing ones
//! are read from the event store.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use sqlx::PgPool;
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;
use uuid::Uuid;

use crate::frames::{self, PresentUser};
use crate::mesh::Local;
use crate::presence::{Presence, Sockets, TELL_EVERY};
use crate::store::{self, RoomRecord, PAGE};

/// Events held back while a gap is filled; past this the newest are dropped and the fill reads
/// them from the store instead.
const MAX_HELD_BACK: usize = 4096;
/// Pause before a failed gap fill is tried again.
const FILL_RETRY: Duration = Duration::from_secs(1);
/// How long an event past a gap waits for the missing ones to arrive by themselves before they
/// are read from the store. A gap is usually no loss: this node's own sends reach its sockets
/// at once, while someone else's earlier message is still on its way through the broker.
const GAP_GRACE: Duration = Duration::from_millis(200);

/// What the room's sockets receive: one room event (with its `seq`) or one ephemeral frame,
/// rendered for each dialect (`None` where a dialect does not receive it).
#[derive(Debug)]
pub struct Delivery {
    pub seq: Option<i64>,
    pub v1: Option<Utf8Bytes>,
    pub v2: Option<Utf8Bytes>,
    /// The connection whose action an ephemeral frame reports; it is not echoed back to it.
    pub origin: Option<u64>,
    /// A member who left the room with this event: their sockets of the room close after it.
    pub departed: Option<Uuid>,
}

impl Delivery {
    fn event(record: &RoomRecord) -> Self {
        let rendered = frames::render_event(record.room_id, record.seq, &record.event);
        let departed = match &record.event {
            domain::RoomEvent::MemberLeft { user_id, .. } => Some(*user_id),
            _ => None,
        };
        Self {
            seq: Some(record.seq),
            v1: rendered.v1,
            v2: rendered.v2,
            origin: None,
            departed,
        }
    }

    fn ephemeral(v1: Option<Utf8Bytes>, v2: Option<Utf8Bytes>, origin: Option<u64>) -> Self {
        Self {
            seq: None,
            v1,
            v2,
            origin,
            departed: None,
        }
    }
}

/// Why the store is read for a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fill {
    /// An event came past a gap: the missing ones may still arrive by themselves.
    Gap,
    /// The broker link was lost: what was routed meanwhile never arrives.
    Resync,
}

/// The node's rooms; cheap to clone.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    rooms: Mutex<HashMap<Uuid, RoomEntry>>,
    /// Sockets other nodes have open, per room and user (locked after `rooms` when both are).
    remote: Mutex<HashMap<Uuid, Sockets>>,
    /// Where this node's socket openings, closings and typing go for the other nodes.
    mesh: OnceLock<mpsc::Sender<Local>>,
    pool: PgPool,
    capacity: usize,
    next_id: AtomicU64,
}

struct RoomEntry {
    /// Tells a room apart from an earlier one of the same id that emptied and was dropped, so a
    /// late gap fill of the old one is ignored.
    generation: u64,
    stream: broadcast::Sender<Arc<Delivery>>,
    subscribers: usize,
    sequencer: Sequencer,
    presence: Presence,
    /// When the room was last told of arrivals and departures, and whether a report is due.
    last_report: Option<Instant>,
    report_due: bool,
}

impl RoomEntry {
    /// Tells the room's sockets who arrived and left since the last report.
    fn report_presence(&mut self, room_id: Uuid) {
        self.last_report = Some(Instant::now());
        self.report_due = false;
        let report = self.presence.report();
        let mut v2 = (!report.joined.is_empty() || !report.left.is_empty())
            .then(|| frames::presence_changed(room_id, &report.joined, &report.left));
        for notice in &report.notices {
            let v1 = Some(frames::system(notice));
            let _ = self
                .stream
                .send(Arc::new(Delivery::ephemeral(v1, v2.take(), None)));
        }
    }
}

#[derive(Default)]
struct Sequencer {
    /// The last sequence the stream carried; `None` until the room's state is first known.
    last: Option<i64>,
    held_back: BTreeMap<i64, Arc<Delivery>>,
    filling: bool,
    /// Something was dropped or missed while a fill ran: read the store once more after it.
    refill: bool,
}

impl Sequencer {
    /// Passes an event on if it is the next one; answers where a gap fill must start when it is
    /// further ahead.
    fn offer(
        &mut self,
        delivery: Arc<Delivery>,
        stream: &broadcast::Sender<Arc<Delivery>>,
    ) -> Option<i64> {
        let seq = delivery.seq.expect("room events carry a sequence");
        let last = match self.last {
            Some(last) if seq <= last => return None,
            Some(last) if seq > last + 1 => last,
            _ => {
                self.pass(delivery, stream);
                return None;
            }
        };
        if self.held_back.len() < MAX_HELD_BACK {
            self.held_back.insert(seq, delivery);
        } else {
            self.refill = true;
        }
        if self.filling {
            return None;
        }
        self.filling = true;
        Some(last)
    }

    fn pass(&mut self, delivery: Arc<Delivery>, stream: &broadcast::Sender<Arc<Delivery>>) {
        let mut next = delivery;
        loop {
            let seq = next.seq.expect("room events carry a sequence");
            self.last = Some(seq);
            // No receiver is not an error: the room's sockets may all be closing.
            let _ = stream.send(next);
            self.held_back = self.held_back.split_off(&(seq + 1));
            match self.held_back.first_key_value() {
                Some((&first, _)) if first == seq + 1 => {
                    next = self.held_back.pop_first().expect("just seen").1;
                }
                _ => break,
            }
        }
    }

    /// A gap fill read everything up to the store's end: where the next one must start, if
    /// anything is still missing.
    fn fill_done(&mut self) -> Option<i64> {
        self.filling = false;
        let last = self.last?;
        let gap = self
            .held_back
            .first_key_value()
            .is_some_and(|(&first, _)| first > last + 1);
        if gap || std::mem::take(&mut self.refill) {
            self.filling = true;
            return Some(last);
        }
        None
    }
}

impl Hub {
    /// `capacity` is how many frames a socket may fall behind its room before it is closed.
    pub fn new(pool: PgPool, capacity: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                rooms: Mutex::new(HashMap::new()),
                remote: Mutex::new(HashMap::new()),
                mesh: OnceLock::new(),
                pool,
                capacity,
                next_id: AtomicU64::new(1),
            }),
        }
    }

    fn rooms(&self) -> MutexGuard<'_, HashMap<Uuid, RoomEntry>> {
        self.inner.rooms.lock().expect("hub lock poisoned")
    }

    fn remote(&self) -> MutexGuard<'_, HashMap<Uuid, Sockets>> {
        self.inner.remote.lock().expect("hub lock poisoned")
    }

    /// Tells the other nodes (best effort: presence is ephemeral, and the mesh's periodic
    /// snapshot repairs what a full queue dropped).
    fn tell_mesh(&self, local: Local) {
        if let Some(mesh) = self.inner.mesh.get() {
            let _ = mesh.try_send(local);
        }
    }

    /// Connects the hub to the other nodes: what happens here goes to `mesh`.
    pub(crate) fn attach_mesh(&self, mesh: mpsc::Sender<Local>) {
        let _ = self.inner.mesh.set(mesh);
    }

    /// `delta` sockets of `user` opened (or closed, when negative) in the room on another node.
    pub(crate) fn remote_sockets(&self, room_id: Uuid, user: &PresentUser, delta: i64) {
        let mut rooms = self.rooms();
        {
            let mut remote = self.remote();
            let users = remote.entry(room_id).or_default();
            let sockets = &mut users
                .entry(user.user_id)
                .or_insert_with(|| (user.username.clone(), 0))
                .1;
            *sockets = sockets.saturating_add_signed(delta as isize);
            if *sockets == 0 {
                users.remove(&user.user_id);
            }
            if users.is_empty() {
                remote.remove(&room_id);
            }
        }
        let Some(entry) = rooms.get_mut(&room_id) else {
            return;
        };
        for _ in 0..delta.unsigned_abs() {
            if delta > 0 {
                entry.presence.arrive(user);
            } else {
                entry.presence.depart(user);
            }
        }
        self.presence_changed(room_id, entry);
    }

    /// Someone on another node is typing in the room.
    pub(crate) fn remote_typing(&self, room_id: Uuid, user: &PresentUser) {
        let rooms = self.rooms();
        if let Some(entry) = rooms.get(&room_id) {
            let frame = frames::typing(room_id, user);
            let _ = entry
                .stream
                .send(Arc::new(Delivery::ephemeral(None, Some(frame), None)));
        }
    }

    /// The sockets open on this node, per room and user, for the other nodes' bookkeeping.
    pub(crate) fn local_presence(&self) -> Vec<(Uuid, Vec<(PresentUser, usize)>)> {
        let rooms = self.rooms();
        let remote = self.remote();
        rooms
            .iter()
            .map(|(room_id, entry)| {
                let elsewhere = remote.get(room_id);
                let here = entry
                    .presence
                    .sockets()
                    .filter_map(|(user, sockets)| {
                        let remote = elsewhere
                            .and_then(|users| users.get(&user.user_id))
                            .map_or(0, |(_, sockets)| *sockets);
                        let local = sockets.saturating_sub(remote);
                        (local > 0).then_some((user, local))
                    })
                    .collect();
                (*room_id, here)
            })
            .filter(|(_, users): &(Uuid, Vec<_>)| !users.is_empty())
            .collect()
    }

    pub(crate) fn pool(&self) -> &PgPool {
        &self.inner.pool
    }

    /// A committed room event (from the broker, or from a send this node just committed): on to
    /// the room's sockets, once and in order. Events of rooms without sockets here are dropped.
    pub fn dispatch(&self, record: &RoomRecord) {
        let fill = {
            let mut rooms = self.rooms();
            let Some(entry) = rooms.get_mut(&record.room_id) else {
                return;
            };
            // The broker's copy of a send this node already passed on: nothing to render.
            if entry.sequencer.last >= Some(record.seq) {
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
        let fills: Vec<_> = {
            let mut rooms = self.rooms();
            rooms
                .iter_mut()
                .filter_map(|(room_id, entry)| {
                    let sequencer = &mut entry.sequencer;
                    let last = sequencer.last?;
                    if sequencer.filling {
                        sequencer.refill = true;
                        return None;
                    }
                    sequencer.filling = true;
                    Some((*room_id, entry.generation, last))
                })
                .collect()
        };
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
                    match hub.gap_remains(room_id, generation) {
                        Some(last) => last,
                        None => return,
                    }
                }
            };
            hub.fill(room_id, generation, from).await;
        });
    }

    /// Where the store must be read from, if the room still waits for missing events after the
    /// grace.
    fn gap_remains(&self, room_id: Uuid, generation: u64) -> Option<i64> {
        let mut rooms = self.rooms();
        let entry = rooms
            .get_mut(&room_id)
            .filter(|entry| entry.generation == generation)?;
        let sequencer = &mut entry.sequencer;
        if sequencer.held_back.is_empty() && !sequencer.refill {
            sequencer.filling = false;
            return None;
        }
        sequencer.last
    }

    /// Reads the room's events after `from` from the store, page by page until its end, and
    /// passes them through the sequencer.
    async fn fill(&self, room_id: Uuid, generation: u64, mut from: i64) {
        loop {
            if !self.is_current(room_id, generation) {
                return;
            }
            match store::events_after(self.pool(), room_id, from).await {
                Ok(page) => {
                    let complete = (page.len() as i64) < PAGE;
                    if let Some(last) = page.last() {
                        from = last.seq;
                    }
                    let again = {
                        let mut rooms = self.rooms();
                        let Some(entry) = rooms
                            .get_mut(&room_id)
                            .filter(|entry| entry.generation == generation)
                        else {
                            return;
                        };
                        for record in &page {
                            let delivery = Arc::new(Delivery::event(record));
                            // The store is gapless, so these come in order and start no fill.
                            entry.sequencer.offer(delivery, &entry.stream);
                        }
                        if complete {
                            entry.sequencer.fill_done()
                        } else {
                            None
                        }
                    };
                    match (complete, again) {
                        (true, None) => return,
                        (true, Some(restart)) => from = restart,
                        (false, _) => {}
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

    /// Starts receiving the room's stream; everything published from now on reaches the
    /// subscription (until it lags a whole ring behind).
    pub fn subscribe(&self, room_id: Uuid) -> Subscription {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let receiver = {
            let mut rooms = self.rooms();
            let entry = rooms.entry(room_id).or_insert_with(|| {
                // Whoever is connected elsewhere is already there, not arriving.
                let mut presence = Presence::default();
                for (user_id, (username, sockets)) in
                    self.remote().get(&room_id).into_iter().flatten()
                {
                    let user = PresentUser {
                        user_id: *user_id,
                        username: username.clone(),
                    };
                    presence.already_there(&user, *sockets);
                }
                RoomEntry {
                    generation: id,
                    stream: broadcast::channel(self.inner.capacity).0,
                    subscribers: 0,
                    sequencer: Sequencer::default(),
                    presence,
                    last_report: None,
                    report_due: false,
                }
            });
            entry.subscribers += 1;
            entry.stream.subscribe()
        };
        Subscription {
            hub: self.clone(),
            room_id,
            id,
            receiver,
            announced: None,
        }
    }

    fn unsubscribe(&self, room_id: Uuid, announced: Option<&PresentUser>) {
        let mut rooms = self.rooms();
        let Some(entry) = rooms.get_mut(&room_id) else {
            return;
        };
        entry.subscribers -= 1;
        if entry.subscribers == 0 {
            rooms.remove(&room_id);
            return;
        }
        if let Some(user) = announced {
            entry.presence.depart(user);
            self.presence_changed(room_id, entry);
            self.tell_mesh(Local::Socket {
                room_id,
                user: user.clone(),
                opened: false,
            });
        }
    }

    /// Reports at once, or schedules the report when the room was told something moments ago.
    fn presence_changed(&self, room_id: Uuid, entry: &mut RoomEntry) {
        if entry.report_due {
            return;
        }
        let due = entry
            .last_report
            .map(|last| last + TELL_EVERY)
            .filter(|due| *due > Instant::now());
        let Some(due) = due else {
            entry.report_presence(room_id);
            return;
        };
        entry.report_due = true;
        let hub = self.clone();
        let generation = entry.generation;
        tokio::spawn(async move {
            tokio::time::sleep_until(due).await;
            let mut rooms = hub.rooms();
            if let Some(entry) = rooms
                .get_mut(&room_id)
                .filter(|entry| entry.generation == generation)
            {
                entry.report_presence(room_id);
            }
        });
    }
}

/// One socket's place in a room: its receiver of the room's stream, and its presence. Dropping
/// it leaves the room (announcing the departure when its arrival was announced).
pub struct Subscription {
    hub: Hub,
    room_id: Uuid,
    id: u64,
    receiver: broadcast::Receiver<Arc<Delivery>>,
    announced: Option<PresentUser>,
}

impl Subscription {
    pub fn id(&self) -> u64 {
        self.id
    }

    pub async fn recv(&mut self) -> Result<Arc<Delivery>, broadcast::error::RecvError> {
        self.receiver.recv().await
    }

    /// Skips what the stream holds for this socket right now. Anything skipped was committed
    /// before the store read that follows, so that read covers it.
    pub fn skip_buffered(&mut self) {
        use broadcast::error::TryRecvError;
        loop {
            match self.receiver.try_recv() {
                Ok(_) | Err(TryRecvError::Lagged(_)) => {}
                Err(TryRecvError::Empty | TryRecvError::Closed) => return,
            }
        }
    }

    /// The room's latest sequence as just read from the store: the sequencer's starting point
    /// when the hub has not seen an event of the room yet.
    pub fn seen(&self, last_seq: i64) {
        let mut rooms = self.hub.rooms();
        if let Some(entry) = rooms.get_mut(&self.room_id) {
            entry.sequencer.last.get_or_insert(last_seq);
        }
    }

    /// Marks the socket's user as connected, to be reported to the room (this socket included)
    /// shortly. Answers everyone connected now, by name, for this socket's own presence frame.
    pub fn announce(&mut self, user: PresentUser) -> Vec<PresentUser> {
        let mut rooms = self.hub.rooms();
        let entry = rooms
            .get_mut(&self.room_id)
            .expect("a subscribed room stays while subscribed");
        entry.presence.arrive(&user);
        self.hub.presence_changed(self.room_id, entry);
        self.hub.tell_mesh(Local::Socket {
            room_id: self.room_id,
            user: user.clone(),
            opened: true,
        });
        self.announced = Some(user);
        entry.presence.everyone()
    }

    /// Tells the room's other v2 sockets that this socket's user is typing.
    pub fn typing(&self, user: &PresentUser) {
        let frame = frames::typing(self.room_id, user);
        let rooms = self.hub.rooms();
        if let Some(entry) = rooms.get(&self.room_id) {
            let _ = entry.stream.send(Arc::new(Delivery::ephemeral(
                None,
                Some(frame),
                Some(self.id),
            )));
        }
        self.hub.tell_mesh(Local::Typing {
            room_id: self.room_id,
            user: user.clone(),
        });
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.unsubscribe(self.room_id, self.announced.as_ref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: i64) -> Arc<Delivery> {
        Arc::new(Delivery {
            seq: Some(seq),
            ..Delivery::ephemeral(None, None, None)
        })
    }

    fn received(receiver: &mut broadcast::Receiver<Arc<Delivery>>) -> Vec<i64> {
        let mut seqs = Vec::new();
        while let Ok(delivery) = receiver.try_recv() {
            seqs.push(delivery.seq.unwrap());
        }
        seqs
    }

    #[test]
    fn duplicates_are_dropped_and_order_is_kept() {
        let (stream, mut receiver) = broadcast::channel(64);
        let mut sequencer = Sequencer {
            last: Some(3),
            ..Sequencer::default()
        };
        for seq in [2, 3, 4, 4, 5] {
            assert_eq!(sequencer.offer(event(seq), &stream), None);
        }
        assert_eq!(received(&mut receiver), [4, 5]);
    }

    #[test]
    fn an_event_past_a_gap_waits_for_the_fill_then_follows_it() {
        let (stream, mut receiver) = broadcast::channel(64);
        let mut sequencer = Sequencer {
            last: Some(3),
            ..Sequencer::default()
        };
        assert_eq!(sequencer.offer(event(6), &stream), Some(3));
        assert_eq!(
            sequencer.offer(event(7), &stream),
            None,
            "one fill at a time"
        );
        assert!(received(&mut receiver).is_empty());
        for seq in [4, 5, 6] {
            sequencer.offer(event(seq), &stream);
        }
        assert_eq!(sequencer.fill_done(), None);
        assert_eq!(received(&mut receiver), [4, 5, 6, 7]);
    }

    #[test]
    fn a_fill_that_ends_short_of_held_back_events_starts_another() {
        let (stream, _receiver) = broadcast::channel(64);
        let mut sequencer = Sequencer {
            last: Some(1),
            ..Sequencer::default()
        };
        assert_eq!(sequencer.offer(event(9), &stream), Some(1));
        sequencer.offer(event(2), &stream);
        assert_eq!(sequencer.fill_done(), Some(2));
    }
}
