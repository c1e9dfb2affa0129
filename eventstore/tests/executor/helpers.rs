//! A room to run commands on, on a fresh database per test (`testkit`).

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use domain::room::Actor;
use domain::values::{ClientMsgId, MessageBody, RoomName, Username};
use domain::{MessagePosted, Room, RoomCommand, RoomError, RoomEvent};
use eventstore::{CommandExecutor, CommandMetadata, EventEnvelope, ExecuteError, ExecutorOptions};
use futures::future::join_all;
use sqlx::{PgPool, Postgres, Transaction};
use tokio::sync::Mutex;
use uuid::Uuid;

pub use testkit::{fresh_database, sequences};

pub const ROOM_PASSWORD: &str = "sesame";

pub type Posted = Result<Vec<EventEnvelope<Room>>, ExecuteError<RoomError>>;

/// Holds every commit of events while closed, as a stalled database would: the batch being
/// committed keeps its room's worker busy, so the commands sent meanwhile queue behind it and
/// form the next batch. Reads go on.
pub struct Gate {
    pool: PgPool,
    held: Mutex<Option<Transaction<'static, Postgres>>>,
}

impl Gate {
    pub async fn close(&self) {
        let mut held = self.pool.begin().await.expect("a connection");
        // Inserts need ROW EXCLUSIVE, which SHARE excludes; reads need only ACCESS SHARE.
        sqlx::query("LOCK TABLE events IN SHARE MODE")
            .execute(&mut *held)
            .await
            .expect("lock the events");
        *self.held.lock().await = Some(held);
    }

    pub async fn open(&self) {
        if let Some(held) = self.held.lock().await.take() {
            held.rollback().await.expect("unlock the events");
        }
    }
}

/// An executor of rooms, and a gate (open) that can hold its commits.
pub fn executor(pool: &PgPool, options: ExecutorOptions) -> (CommandExecutor<Room>, Arc<Gate>) {
    let gate = Arc::new(Gate {
        pool: pool.clone(),
        held: Mutex::default(),
    });
    (
        CommandExecutor::with_options(pool.clone(), (), options),
        gate,
    )
}

pub fn snapshot_every(events: usize) -> ExecutorOptions {
    ExecutorOptions {
        snapshot_every: events,
        ..ExecutorOptions::default()
    }
}

pub fn actor(name: &str) -> Actor {
    Actor {
        user_id: Username::parse(name).unwrap().user_id(),
        username: name.to_owned(),
        is_bot: false,
    }
}

/// Who acted does not matter to these tests; a static lets command futures borrow it freely.
pub static METADATA: CommandMetadata = CommandMetadata {
    user_id: None,
    request_id: None,
    client_msg_id: None,
};

/// Creates a private room owned by alice and answers its id.
pub async fn create_room(rooms: &CommandExecutor<Room>) -> String {
    create_room_named(rooms, "lobby").await
}

pub async fn create_room_named(rooms: &CommandExecutor<Room>, name: &str) -> String {
    let name = RoomName::parse(name).unwrap();
    let room_id = name.room_id().to_string();
    let command = RoomCommand::Create {
        name,
        is_private: true,
        password_hash: Some(format!("hashed:{ROOM_PASSWORD}")),
        creator: actor("alice"),
        at: Utc::now(),
    };
    rooms
        .execute(&room_id, command, &METADATA)
        .await
        .expect("create room");
    room_id
}

pub fn post(sender: &str, body: &str, client_msg_id: Option<&str>) -> RoomCommand {
    RoomCommand::PostMessage {
        sender: actor(sender),
        message_id: Uuid::new_v4(),
        body: MessageBody::parse(body).unwrap(),
        client_msg_id: client_msg_id.map(|id| ClientMsgId::parse(id).unwrap()),
        reply_to: None,
        at: Utc::now(),
    }
}

/// A join to the room `create_room` made, its password already verified.
pub fn join(member: &str) -> RoomCommand {
    RoomCommand::Join {
        member: actor(member),
        password_verified_for: Some(format!("hashed:{ROOM_PASSWORD}")),
        at: Utc::now(),
    }
}

pub fn leave(member: &str) -> RoomCommand {
    RoomCommand::Leave {
        member: actor(member),
        at: Utc::now(),
    }
}

/// Posts `count` messages as alice, `in_flight` at a time.
pub async fn post_many(
    rooms: &CommandExecutor<Room>,
    room_id: &str,
    count: usize,
    in_flight: usize,
) {
    let mut sent = 0;
    while sent < count {
        let wave = in_flight.min(count - sent);
        let posts = (sent..sent + wave).map(|n| {
            rooms.execute(
                room_id,
                post("alice", &format!("message {n}"), None),
                &METADATA,
            )
        });
        for posted in join_all(posts).await {
            posted.expect("post");
        }
        sent += wave;
    }
}

/// Waits until the stored snapshot's sequence satisfies `wanted` (snapshots are written in the
/// background).
pub async fn snapshot_where(pool: &PgPool, room_id: &str, wanted: impl Fn(i64) -> bool) {
    let mut stored = None;
    for _ in 0..200 {
        stored = sqlx::query_scalar("SELECT last_sequence FROM snapshots WHERE aggregate_id = $1")
            .bind(room_id)
            .fetch_optional(pool)
            .await
            .unwrap();
        if stored.is_some_and(&wanted) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the snapshot of {room_id} stayed at {stored:?}");
}

/// Waits until `count` commands queue behind a busy worker.
pub async fn until_waiting(rooms: &CommandExecutor<Room>, count: u64) {
    for _ in 0..400 {
        if rooms.stats().waiting == count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("{count} commands never queued: {:?}", rooms.stats());
}

/// Waits until the executor has started `count` batches.
pub async fn until_batches(rooms: &CommandExecutor<Room>, count: u64) {
    for _ in 0..400 {
        if rooms.stats().batches >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("batch {count} never started: {:?}", rooms.stats());
}

/// The message events of a post's answer.
pub fn posted_messages(posted: &Posted) -> Vec<(usize, Uuid)> {
    posted
        .as_ref()
        .expect("post accepted")
        .iter()
        .map(|envelope| match &envelope.payload {
            RoomEvent::MessagePosted(MessagePosted { message_id, .. }) => {
                (envelope.sequence, *message_id)
            }
            other => panic!("a post recorded {other:?}"),
        })
        .collect()
}
