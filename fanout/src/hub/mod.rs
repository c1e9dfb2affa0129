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
//!
//! Here: the registry of rooms, their subscriptions and presence reports. Beside it:
//! `sequencer.rs` (one room's order), `order.rs` (dispatch and gap fill), `remote.rs` (the
//! sockets of other nodes), `delivery.rs` (what a socket receives).

mod delivery;
mod order;
mod remote;
mod sequencer;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use eventstore::EventLog;
use sqlx::PgPool;
use tokio::sync::{broadcast, mpsc};
use tokio::time::Instant;
use uuid::Uuid;

pub use delivery::Delivery;
use sequencer::Sequencer;

use crate::frames::{self, PresentUser};
use crate::presence::{Presence, Sockets, TELL_EVERY};

/// Something that happened on this node, for the other nodes.
#[derive(Debug, Clone)]
pub(crate) enum LocalActivity {
    Socket {
        room_id: Uuid,
        user: PresentUser,
        opened: bool,
    },
    Typing {
        room_id: Uuid,
        user: PresentUser,
    },
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
    others: OnceLock<mpsc::Sender<LocalActivity>>,
    log: EventLog,
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

impl Hub {
    /// `capacity` is how many frames a socket may fall behind its room before it is closed.
    pub fn new(pool: PgPool, capacity: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                rooms: Mutex::new(HashMap::new()),
                remote: Mutex::new(HashMap::new()),
                others: OnceLock::new(),
                log: EventLog::new(pool),
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

    /// From now on, what happens on this node goes to `others`.
    pub(crate) fn report_activity_to(&self, others: mpsc::Sender<LocalActivity>) {
        let _ = self.inner.others.set(others);
    }

    /// Best effort: presence is ephemeral, and the periodic snapshots of the nodes repair what
    /// a full queue dropped.
    fn tell_others(&self, activity: LocalActivity) {
        if let Some(others) = self.inner.others.get() {
            let _ = others.try_send(activity);
        }
    }

    pub(crate) fn log(&self) -> &EventLog {
        &self.inner.log
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
            self.tell_others(LocalActivity::Socket {
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

    /// The next delivery when the stream holds one already; `None` when it would have to wait.
    pub fn try_recv(&mut self) -> Result<Option<Arc<Delivery>>, broadcast::error::RecvError> {
        use broadcast::error::{RecvError, TryRecvError};
        match self.receiver.try_recv() {
            Ok(delivery) => Ok(Some(delivery)),
            Err(TryRecvError::Empty) => Ok(None),
            Err(TryRecvError::Lagged(missed)) => Err(RecvError::Lagged(missed)),
            Err(TryRecvError::Closed) => Err(RecvError::Closed),
        }
    }

    /// Skips what the stream holds for this socket right now. Anything skipped was committed
    /// before the store read that follows, so that read covers it.
    pub fn skip_buffered(&mut self) {
        use broadcast::error::RecvError;
        loop {
            match self.try_recv() {
                Ok(Some(_)) | Err(RecvError::Lagged(_)) => {}
                Ok(None) | Err(RecvError::Closed) => return,
            }
        }
    }

    /// The room's latest sequence as just read from the store: the sequencer's starting point
    /// when the hub has not seen an event of the room yet.
    pub fn seen(&self, last_seq: i64) {
        let mut rooms = self.hub.rooms();
        if let Some(entry) = rooms.get_mut(&self.room_id) {
            entry.sequencer.start_at(last_seq);
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
        self.hub.tell_others(LocalActivity::Socket {
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
        self.hub.tell_others(LocalActivity::Typing {
            room_id: self.room_id,
            user: user.clone(),
        });
    }
}

impl Hub {
    /// Tells the room's v2 sockets on this node that `reader` read it up to `seq`. Not a room
    /// event (it has no sequence of the room), so it bypasses the sequencer, like typing.
    pub fn read_moved(&self, room_id: Uuid, reader: &PresentUser, seq: usize) {
        let rooms = self.rooms();
        if let Some(entry) = rooms.get(&room_id) {
            let frame = frames::read(room_id, reader, seq);
            let _ = entry
                .stream
                .send(Arc::new(Delivery::ephemeral(None, Some(frame), None)));
        }
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.unsubscribe(self.room_id, self.announced.as_ref());
    }
}
