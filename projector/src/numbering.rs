//! The numbers new messages take in their room, and among their author's messages there (see
//! migration 0084), from the counts their writer keeps.
//!
//! Looking the counts up in the statement that inserts the messages cost two index probes, two
//! window functions and a sort for every message: three quarters of the live projector's time on
//! the database went to that statement. Reading an author's last ordinal from a copy being built
//! stepped back through the room's primary key (the copy has no other index yet) to the author's
//! previous message, over the whole room for an author's first message in it (a room of 25,000
//! messages by 300 people taking turns: 108,681,391 index entries read). So each writer keeps the
//! newest ordinals its commits gave, and numbers each message itself.
//!
//! A copy being built by `chat rebuild` or `chat verify` gets every message through one process:
//! what it has not seen has no message there. The live tables have several writers, taking turns:
//! the live projector keeps what it learns, looks up only the rooms and authors it has not seen,
//! and forgets everything when another writer committed since its own last commit (see migration
//! 0093).

use std::collections::HashMap;
use std::sync::Mutex;

use uuid::Uuid;

/// The newest ordinal in each room, and of each author in a room, of the messages a writer
/// committed.
#[derive(Debug)]
pub(crate) struct KeptOrdinals {
    kept: Mutex<Kept>,
    /// Whether a room or author it lacks has no message in the tables (a copy only this writer
    /// writes), rather than one it must look up.
    complete: bool,
}

#[derive(Debug, Default)]
struct Kept {
    newest: Numbered,
    /// The count of live writes (migration 0093) that its own last commit made, and the one
    /// its open transaction will make.
    committed_write: Option<i64>,
    entered_write: Option<i64>,
}

/// A writer that looks rooms and authors up keeps at most this many authors (about 6 MiB), and
/// forgets them all when it would keep more: a room's next message looks its counts up again.
const MOST_KEPT_AUTHORS: usize = 100_000;

/// The newest ordinals a batch gave each room and each (room, author).
#[derive(Debug, Default, Clone)]
pub(crate) struct Numbered {
    pub(crate) rooms: HashMap<Uuid, i64>,
    pub(crate) authors: HashMap<(Uuid, Uuid), i64>,
}

impl Numbered {
    /// Takes the newest ordinals of one (room, author) from a batch's insert.
    pub(crate) fn record(&mut self, room_id: Uuid, user_id: Uuid, ordinal: i64, by_author: i64) {
        let room = self.rooms.entry(room_id).or_default();
        *room = (*room).max(ordinal);
        let author = self.authors.entry((room_id, user_id)).or_default();
        *author = (*author).max(by_author);
    }
}

impl KeptOrdinals {
    /// For a copy only this writer writes, from empty.
    pub(crate) fn of_a_new_copy() -> Self {
        Self {
            kept: Mutex::default(),
            complete: true,
        }
    }

    /// For tables that other writers write too: what it has not seen, it looks up.
    pub(crate) fn looking_up() -> Self {
        Self {
            kept: Mutex::default(),
            complete: false,
        }
    }

    /// Takes note that a transaction entered the live tables as write number `write`: what was
    /// kept holds only when the last write before it was this writer's own last commit.
    pub(crate) fn entered(&self, write: i64) {
        let mut kept = self.kept.lock().expect("not poisoned");
        if kept.committed_write.map(|committed| committed + 1) != Some(write) {
            kept.newest = Numbered::default();
        }
        kept.entered_write = Some(write);
    }

    /// The (room, author) pairs among a batch's messages whose newest ordinals must be looked up
    /// in the tables before it is numbered, each once.
    pub(crate) fn unknown(&self, rooms: &[Uuid], authors: &[Uuid]) -> Vec<(Uuid, Uuid)> {
        if self.complete {
            return Vec::new();
        }
        let kept = self.kept.lock().expect("not poisoned");
        let mut unknown: Vec<(Uuid, Uuid)> = rooms
            .iter()
            .zip(authors)
            .map(|(room, author)| (*room, *author))
            .filter(|key| !kept.newest.authors.contains_key(key))
            .collect();
        unknown.sort_unstable();
        unknown.dedup();
        unknown
    }

    /// Numbers a batch's messages, given by room and author in the order they apply in (each
    /// room's by sequence): each one's ordinal in its room, and among its author's messages
    /// there, after those committed. `looked_up` holds the ordinals read from the tables for the
    /// pairs `unknown` named; they come before what was kept.
    pub(crate) fn number(
        &self,
        rooms: &[Uuid],
        authors: &[Uuid],
        looked_up: &Numbered,
    ) -> (Vec<i64>, Vec<i64>) {
        let kept = self.kept.lock().expect("not poisoned");
        let newest = |room: &Uuid| {
            looked_up
                .rooms
                .get(room)
                .or_else(|| kept.newest.rooms.get(room))
                .copied()
                .unwrap_or(0)
        };
        let newest_by = |key: &(Uuid, Uuid)| {
            looked_up
                .authors
                .get(key)
                .or_else(|| kept.newest.authors.get(key))
                .copied()
                .unwrap_or(0)
        };
        let mut batch = Numbered::default();
        rooms
            .iter()
            .zip(authors)
            .map(|(room, author)| {
                let in_room = batch.rooms.entry(*room).or_insert_with(|| newest(room));
                *in_room += 1;
                let key = (*room, *author);
                let by_author = batch.authors.entry(key).or_insert_with(|| newest_by(&key));
                *by_author += 1;
                (*in_room, *by_author)
            })
            .unzip()
    }

    /// Counts what a committed batch numbered. Only after the commit: a batch rolled back
    /// (one the database refused, tried again event by event) numbered nothing.
    pub(crate) fn committed(&self, numbered: &Numbered) {
        let mut kept = self.kept.lock().expect("not poisoned");
        kept.committed_write = kept.entered_write;
        if !self.complete && kept.newest.authors.len() + numbered.authors.len() > MOST_KEPT_AUTHORS
        {
            kept.newest = Numbered::default();
        }
        for (room, ordinal) in &numbered.rooms {
            kept.newest.rooms.insert(*room, *ordinal);
        }
        for (key, ordinal) in &numbered.authors {
            kept.newest.authors.insert(*key, *ordinal);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(rows: &[(Uuid, Uuid, i64, i64)]) -> Numbered {
        let mut numbered = Numbered::default();
        for (room, author, ordinal, by_author) in rows {
            numbered.record(*room, *author, *ordinal, *by_author);
        }
        numbered
    }

    #[test]
    fn a_batch_is_numbered_after_what_was_committed_and_only_a_commit_counts() {
        let (room, other_room) = (Uuid::new_v4(), Uuid::new_v4());
        let (ada, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let ordinals = KeptOrdinals::of_a_new_copy();
        let nothing = Numbered::default();

        let batch = [room, room, other_room, room];
        let by = [ada, bob, ada, ada];
        assert!(ordinals.unknown(&batch, &by).is_empty());
        let first = ordinals.number(&batch, &by, &nothing);
        assert_eq!(first, (vec![1, 2, 1, 3], vec![1, 1, 1, 2]));

        // Not committed (the batch was refused and is tried again): numbered the same again.
        assert_eq!(ordinals.number(&batch, &by, &nothing), first);

        ordinals.committed(&numbered(&[
            (room, ada, 3, 2),
            (room, bob, 2, 1),
            (other_room, ada, 1, 1),
        ]));
        assert_eq!(
            ordinals.number(&[room, other_room, room], &[bob, bob, ada], &nothing),
            (vec![4, 2, 5], vec![2, 1, 3])
        );
    }

    #[test]
    fn a_live_writer_looks_up_what_it_has_not_seen_and_numbers_after_it() {
        let room = Uuid::new_v4();
        let (ada, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let ordinals = KeptOrdinals::looking_up();
        ordinals.entered(7);

        assert_eq!(
            ordinals.unknown(&[room, room, room], &[ada, bob, ada]),
            [(room, ada.min(bob)), (room, ada.max(bob))]
        );
        let tables = numbered(&[(room, ada, 40, 12), (room, bob, 40, 0)]);
        let first = ordinals.number(&[room, room, room], &[ada, bob, ada], &tables);
        assert_eq!(first, (vec![41, 42, 43], vec![13, 1, 14]));

        ordinals.committed(&numbered(&[(room, ada, 43, 14), (room, bob, 42, 1)]));
        ordinals.entered(8);
        assert!(ordinals.unknown(&[room], &[bob]).is_empty());
        assert_eq!(
            ordinals.number(&[room], &[bob], &Numbered::default()),
            (vec![44], vec![2])
        );
    }

    #[test]
    fn a_live_writer_forgets_what_it_kept_when_another_wrote_since_its_last_commit() {
        let room = Uuid::new_v4();
        let ada = Uuid::new_v4();
        let ordinals = KeptOrdinals::looking_up();
        ordinals.entered(1);
        ordinals.committed(&numbered(&[(room, ada, 5, 5)]));

        // Its next transaction rolled back: the count did not move, and nothing is lost.
        ordinals.entered(2);
        ordinals.entered(2);
        assert!(ordinals.unknown(&[room], &[ada]).is_empty());

        // Write 3 was another writer's.
        ordinals.entered(4);
        assert_eq!(ordinals.unknown(&[room], &[ada]), [(room, ada)]);
    }
}
