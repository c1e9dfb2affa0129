//! Marking a room read: the caller's read position in the room moves forward, durably, as an
//! event of their own `ReadPositions` stream (no room sequence number is taken).
//!
//! A client may mark read on every message it shows, so moves are coalesced per user and room:
//! the first move commits at once (the answer comes after the commit); moves in the
//! [`COALESCE`] after a commit are held, and only the furthest of them commits when the interval
//! ends. So a reader costs at most one event per interval and room, and a move is durable at
//! most [`COALESCE`] after it was answered. [`Commands::flush_read_marks`] commits what is held
//! when the process stops, and makes every later move commit at once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use domain::reads::ReadSeq;
use domain::room::Actor;
use domain::{ReadCommand, RoomError};
use uuid::Uuid;

use crate::error::unreachable_store;
use crate::state::metadata;
use crate::{CommandError, Commands};

/// How long moves of one reader in one room are held after one was committed.
pub(crate) const COALESCE: Duration = Duration::from_secs(1);

/// The member's read position as the read tables have it: their own moves, or where they
/// started (their join, or the upgrade that introduced read positions), whichever is further.
const PROJECTED_POSITION: &str = "
SELECT greatest(m.read_floor, coalesce(p.seq, 0))
  FROM room_members m
  LEFT JOIN read_positions p ON p.user_id = m.user_id AND p.room_id = m.room_id
 WHERE m.room_id = $1 AND m.user_id = $2";

/// Moves waiting for their reader's interval to end, per (user, room). A key is present while
/// its interval runs, i.e. while a flusher task looks after it.
#[derive(Default)]
pub(crate) struct ReadMarks {
    held: Mutex<HashMap<(Uuid, Uuid), Option<Held>>>,
    /// Set once the process stops: nothing is held any more.
    closed: AtomicBool,
}

/// What becomes of a move.
enum Turn {
    /// Committed when its interval ends.
    Held,
    /// Committed now; an interval starts, to be flushed by the caller's task.
    CommitAndWatch,
    /// Committed now: the process is stopping and holds nothing more.
    CommitNow,
}

#[derive(Debug, Clone)]
struct Held {
    reader: Actor,
    seq: usize,
    request_id: Option<String>,
}

impl ReadMarks {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(Uuid, Uuid), Option<Held>>> {
        self.held.lock().expect("read marks poisoned")
    }

    /// Holds `mark` when an interval runs for its key; otherwise the caller commits it now, and
    /// looks after the interval that starts with it unless the process is stopping.
    fn hold(&self, room_id: Uuid, mark: Held) -> Turn {
        if self.closed.load(Ordering::Acquire) {
            return Turn::CommitNow;
        }
        let mut held = self.lock();
        match held.get_mut(&(mark.reader.user_id, room_id)) {
            Some(slot) => {
                if slot.as_ref().is_none_or(|held| held.seq < mark.seq) {
                    *slot = Some(mark);
                }
                Turn::Held
            }
            None => {
                held.insert((mark.reader.user_id, room_id), None);
                Turn::CommitAndWatch
            }
        }
    }

    /// What is held for the key now that its interval ended; when nothing is, the interval
    /// ends for good (the next move commits at once).
    fn take_or_release(&self, key: (Uuid, Uuid)) -> Option<Held> {
        let mut held = self.lock();
        let taken = held.get_mut(&key).and_then(Option::take);
        if taken.is_none() {
            held.remove(&key);
        }
        taken
    }

    fn drain(&self) -> Vec<(Uuid, Held)> {
        self.closed.store(true, Ordering::Release);
        let mut held = self.lock();
        held.iter_mut()
            .filter_map(|((_, room_id), slot)| Some((*room_id, slot.take()?)))
            .collect()
    }
}

impl Commands {
    /// Marks `room_id` read by `reader` up to `seq`, clamped to the room's latest sequence. A
    /// move that does not go past the reader's position is ignored.
    pub async fn mark_read(
        &self,
        reader: &Actor,
        room_id: Uuid,
        seq: ReadSeq,
        request_id: Option<String>,
    ) -> Result<(), CommandError> {
        let room = self.rooms.load(&room_id.to_string()).await?;
        if room.info().is_none() {
            return Err(CommandError::Room(RoomError::NotFound));
        }
        if !room.is_member(reader.user_id) {
            return Err(CommandError::Room(RoomError::NotAMember));
        }
        let seq = seq.get().min(room.last_seq());
        if seq
            <= self
                .projected_read_position(reader.user_id, room_id)
                .await?
        {
            return Ok(());
        }
        let mark = Held {
            reader: reader.clone(),
            seq,
            request_id,
        };
        match self.read_marks.hold(room_id, mark.clone()) {
            Turn::Held => return Ok(()),
            Turn::CommitNow => {}
            Turn::CommitAndWatch => {
                let commands = self.clone();
                let key = (reader.user_id, room_id);
                tokio::spawn(async move { commands.flush_after_intervals(key).await });
            }
        }
        self.commit_read(room_id, mark).await
    }

    /// Commits what is held now and makes every later move commit at once: for a process that
    /// stops, once it no longer answers requests.
    pub async fn flush_read_marks(&self) {
        for (room_id, held) in self.read_marks.drain() {
            if let Err(error) = self.commit_read(room_id, held).await {
                tracing::warn!(%room_id, cause = %api_kit::Chain(&error), "a held read position was lost");
            }
        }
    }

    /// Commits the furthest move held for `key` at the end of each interval, until an interval
    /// ends with nothing held.
    async fn flush_after_intervals(&self, key: (Uuid, Uuid)) {
        loop {
            tokio::time::sleep(COALESCE).await;
            let Some(held) = self.read_marks.take_or_release(key) else {
                return;
            };
            if let Err(error) = self.commit_read(key.1, held).await {
                tracing::warn!(room_id = %key.1, cause = %api_kit::Chain(&error), "a held read position was lost");
            }
        }
    }

    async fn commit_read(&self, room_id: Uuid, mark: Held) -> Result<(), CommandError> {
        let command = ReadCommand::MoveTo {
            room_id,
            seq: mark.seq,
            reader: mark.reader.clone(),
            at: eventstore::now(),
        };
        self.read_positions
            .execute(
                &mark.reader.user_id.to_string(),
                command,
                &metadata(&mark.reader, mark.request_id),
            )
            .await?;
        Ok(())
    }

    async fn projected_read_position(
        &self,
        user_id: Uuid,
        room_id: Uuid,
    ) -> Result<usize, CommandError> {
        let position: Option<i64> = sqlx::query_scalar(PROJECTED_POSITION)
            .bind(room_id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(unreachable_store)?;
        Ok(position.map_or(0, |seq| usize::try_from(seq).unwrap_or(0)))
    }
}
