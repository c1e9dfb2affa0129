//! Writes a plausible history straight into the event store, as the command executor would
//! have: users register, rooms are created, people join, talk, answer, react, edit and delete,
//! and leave (owners too, handing the room on). Far faster than going through HTTP, for tests and benchmarks that need many
//! events.

use chrono::Utc;
use cqrs_es::DomainEvent;
use domain::{MessagePosted, Role, RoomEvent, RoomKind, UserEvent};
use sqlx::PgPool;
use uuid::Uuid;

/// The history to write.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub users: usize,
    pub rooms: usize,
    /// Besides the owner.
    pub members_per_room: usize,
    /// Spread over the rooms in turn, each by one of its members.
    pub messages: usize,
    /// The first this many messages change after all are posted: each gets a reply and a
    /// reaction; every second is edited, every third loses its reaction, every fifth is deleted.
    pub changed_messages: usize,
    /// Rooms whose owner leaves at the end (the longest-standing member takes over), and
    /// where one more member leaves too.
    pub rooms_with_leavers: usize,
}

impl Shape {
    /// How many events this shape writes.
    pub fn events(&self) -> usize {
        self.users
            + self.rooms * (2 + self.members_per_room)
            + self.messages
            + change_events(self.changed_messages.min(self.messages))
            + self.rooms_with_leavers.min(self.rooms) * 3
    }

    /// This shape with as many messages as make it write `events` events in all (none when the
    /// users, rooms and memberships alone write that many).
    pub fn filled_to(self, events: usize) -> Self {
        let without_messages = Self {
            messages: 0,
            ..self
        };
        let fixed = without_messages.events() + change_events(self.changed_messages);
        Self {
            messages: events.saturating_sub(fixed),
            ..self
        }
    }
}

/// The events that change the first `messages` messages (see [`Shape::changed_messages`]).
fn change_events(messages: usize) -> usize {
    (0..messages)
        .map(|n| 2 + usize::from(n % 2 == 0) + usize::from(n % 3 == 0) + usize::from(n % 5 == 0))
        .sum()
}

/// One event as the store holds it.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub aggregate_type: &'static str,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub payload: String,
}

impl StoredEvent {
    pub fn room(room_id: Uuid, sequence: i64, event: &RoomEvent) -> Self {
        Self {
            aggregate_type: "Room",
            aggregate_id: room_id.to_string(),
            sequence,
            event_type: event.event_type(),
            event_version: event.event_version(),
            payload: serde_json::to_string(event).expect("an event serialises"),
        }
    }

    /// A user's registration, the first event of its aggregate.
    pub fn user(event: &UserEvent) -> Self {
        let UserEvent::UserRegistered { user_id, .. } = event else {
            panic!("a user's first event is its registration, not {event:?}");
        };
        Self {
            aggregate_type: "User",
            aggregate_id: user_id.to_string(),
            sequence: 1,
            event_type: event.event_type(),
            event_version: event.event_version(),
            payload: serde_json::to_string(event).expect("an event serialises"),
        }
    }

    /// The event as the relay publishes it, at `position` in the store.
    pub fn envelope(&self, position: i64) -> bus::EventEnvelope {
        bus::EventEnvelope {
            position,
            aggregate_type: self.aggregate_type.into(),
            aggregate_id: self.aggregate_id.clone(),
            sequence: self.sequence,
            event_type: self.event_type.clone(),
            event_version: self.event_version.clone(),
            payload: serde_json::from_str(&self.payload).expect("a JSON payload"),
            metadata: serde_json::json!({}),
            recorded_at: Utc::now(),
        }
    }
}

struct SeedRoom {
    id: Uuid,
    sequence: i64,
    /// In joining order.
    members: Vec<(Uuid, String)>,
}

impl SeedRoom {
    fn next(&mut self, event: RoomEvent) -> StoredEvent {
        self.sequence += 1;
        StoredEvent::room(self.id, self.sequence, &event)
    }
}

/// The events of `shape`, in the order they are written.
pub fn history(shape: &Shape) -> Vec<StoredEvent> {
    let now = Utc::now();
    let mut events = Vec::with_capacity(shape.events());
    let users: Vec<(Uuid, String)> = (0..shape.users.max(1))
        .map(|n| (Uuid::new_v4(), format!("user{n}")))
        .collect();
    for (user_id, username) in &users {
        events.push(StoredEvent::user(&UserEvent::UserRegistered {
            user_id: *user_id,
            username: username.clone(),
            password_hash: "not a real hash".into(),
            registered_at: now,
        }));
    }
    let mut rooms = Vec::with_capacity(shape.rooms);
    for r in 0..shape.rooms {
        let mut room = SeedRoom {
            id: Uuid::new_v4(),
            sequence: 0,
            members: Vec::new(),
        };
        let owner = users[r % users.len()].clone();
        events.push(room.next(RoomEvent::RoomCreated {
            room_id: room.id,
            name: format!("room {r}"),
            is_private: r % 5 == 0,
            password_hash: (r % 5 == 0).then(|| "not a real hash".into()),
            created_by: owner.0,
            created_at: now,
            kind: RoomKind::Room,
        }));
        let join = |room: &mut SeedRoom, (user_id, username): (Uuid, String), role| {
            room.members.push((user_id, username.clone()));
            room.next(RoomEvent::MemberJoined {
                user_id,
                username,
                role,
                joined_at: now,
            })
        };
        events.push(join(&mut room, owner, Role::Owner));
        for m in 0..shape.members_per_room.min(users.len() - 1) {
            let member = users[(r + 1 + m) % users.len()].clone();
            events.push(join(&mut room, member, Role::Member));
        }
        rooms.push(room);
    }
    // (room, message, author) of each message that changes later.
    let mut to_change = Vec::new();
    for n in 0..shape.messages {
        let r = n % shape.rooms.max(1);
        let Some(room) = rooms.get_mut(r) else {
            break;
        };
        let (user_id, username) = room.members[n % room.members.len()].clone();
        let message_id = Uuid::new_v4();
        if n < shape.changed_messages {
            to_change.push((r, message_id, (user_id, username.clone())));
        }
        let posted = RoomEvent::MessagePosted(MessagePosted {
            message_id,
            user_id,
            username,
            content: format!("message {n}"),
            client_msg_id: (n % 3 == 0).then(|| format!("client-{n}")),
            posted_at: now,
            is_bot: false,
            reply_to: None,
            mentions: Vec::new(),
        });
        events.push(room.next(posted));
    }
    for (n, (r, message_id, (author_id, author_name))) in to_change.into_iter().enumerate() {
        let room = &mut rooms[r];
        let (user_id, username) = room.members[(n + 1) % room.members.len()].clone();
        let reply = RoomEvent::MessagePosted(MessagePosted {
            message_id: Uuid::new_v4(),
            user_id,
            username: username.clone(),
            content: format!("reply {n}"),
            client_msg_id: None,
            posted_at: now,
            is_bot: false,
            reply_to: Some(message_id),
            mentions: Vec::new(),
        });
        events.push(room.next(reply));
        events.push(room.next(RoomEvent::ReactionAdded {
            message_id,
            emoji: "👍".into(),
            user_id,
            username: username.clone(),
            reacted_at: now,
        }));
        if n % 2 == 0 {
            events.push(room.next(RoomEvent::MessageEdited {
                message_id,
                user_id: author_id,
                username: author_name.clone(),
                content: format!("message {n}, edited"),
                mentions: Vec::new(),
                edited_at: now,
            }));
        }
        if n % 3 == 0 {
            events.push(room.next(RoomEvent::ReactionRemoved {
                message_id,
                emoji: "👍".into(),
                user_id,
                username,
                removed_at: now,
            }));
        }
        if n % 5 == 0 {
            events.push(room.next(RoomEvent::MessageDeleted {
                message_id,
                user_id: author_id,
                username: author_name,
                deleted_at: now,
            }));
        }
    }
    for room in rooms.iter_mut().take(shape.rooms_with_leavers) {
        if room.members.len() < 3 {
            continue;
        }
        let (owner_id, owner_name) = room.members.remove(0);
        events.push(room.next(RoomEvent::MemberLeft {
            user_id: owner_id,
            username: owner_name,
            left_at: now,
        }));
        let (heir_id, heir_name) = room.members[0].clone();
        events.push(room.next(RoomEvent::MemberRoleChanged {
            user_id: heir_id,
            username: heir_name,
            role: Role::Owner,
            changed_at: now,
        }));
        let (leaver_id, leaver_name) = room.members.pop().expect("three members");
        events.push(room.next(RoomEvent::MemberLeft {
            user_id: leaver_id,
            username: leaver_name,
            left_at: now,
        }));
    }
    events
}

/// Writes `events` to the store in transactions of `chunk` events (each queued in the outbox
/// by the store's trigger, as any write is).
pub async fn write(pool: &PgPool, events: &[StoredEvent], chunk: usize) -> Result<(), sqlx::Error> {
    for part in events.chunks(chunk.max(1)) {
        let mut types = Vec::with_capacity(part.len());
        let mut ids = Vec::with_capacity(part.len());
        let mut sequences = Vec::with_capacity(part.len());
        let mut event_types = Vec::with_capacity(part.len());
        let mut versions = Vec::with_capacity(part.len());
        let mut payloads = Vec::with_capacity(part.len());
        for event in part {
            types.push(event.aggregate_type);
            ids.push(event.aggregate_id.as_str());
            sequences.push(event.sequence);
            event_types.push(event.event_type.as_str());
            versions.push(event.event_version.as_str());
            payloads.push(event.payload.as_str());
        }
        sqlx::query(INSERT_EVENTS)
            .bind(&types)
            .bind(&ids)
            .bind(&sequences)
            .bind(&event_types)
            .bind(&versions)
            .bind(&payloads)
            .execute(pool)
            .await?;
    }
    Ok(())
}

const INSERT_EVENTS: &str = "
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
                    metadata)
SELECT t, i, s, e, v, p::json, '{}'::json
  FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[])
       AS u(t, i, s, e, v, p)";
