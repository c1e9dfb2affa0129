//! The numbers new messages take in their room, and among their author's messages there (see
//! migration 0084), when the writer already knows where each count stands.
//!
//! The live tables have several writers, so a batch reads each room's count and each author's
//! last ordinal from the tables. A copy being built by `chat rebuild` or `chat verify` gets every
//! message through one process, so that process keeps the counts and numbers each message
//! itself. Reading an author's last ordinal from the copy stepped back through the room's primary
//! key (the copy has no other index yet) to the author's previous message, over the whole room
//! for an author's first message in it (a room of 25,000 messages by 300 people taking turns:
//! 108,681,391 index entries read); and numbering in the statement sorted every batch twice.

use std::collections::HashMap;
use std::sync::Mutex;

use uuid::Uuid;

/// The newest ordinal in each room, and of each author in a room, of the messages committed to a
/// copy. Rooms and authors it has not seen have none in the copy.
#[derive(Debug, Default)]
pub(crate) struct CopyOrdinals {
    newest: Mutex<Numbered>,
}

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

impl CopyOrdinals {
    /// Numbers a batch's messages, given by room and author in the order they apply in (each
    /// room's by sequence): each one's ordinal in its room, and among its author's messages
    /// there, after those committed.
    pub(crate) fn number(&self, rooms: &[Uuid], authors: &[Uuid]) -> (Vec<i64>, Vec<i64>) {
        let newest = self.newest.lock().expect("not poisoned");
        let mut batch = Numbered::default();
        rooms
            .iter()
            .zip(authors)
            .map(|(room, author)| {
                let in_room = batch
                    .rooms
                    .entry(*room)
                    .or_insert_with(|| newest.rooms.get(room).copied().unwrap_or(0));
                *in_room += 1;
                let by_author = batch
                    .authors
                    .entry((*room, *author))
                    .or_insert_with(|| newest.authors.get(&(*room, *author)).copied().unwrap_or(0));
                *by_author += 1;
                (*in_room, *by_author)
            })
            .unzip()
    }

    /// Counts what a committed batch numbered. Only after the commit: a batch rolled back
    /// (one the database refused, tried again event by event) numbered nothing.
    pub(crate) fn committed(&self, numbered: &Numbered) {
        let mut newest = self.newest.lock().expect("not poisoned");
        for (room, ordinal) in &numbered.rooms {
            newest.rooms.insert(*room, *ordinal);
        }
        for (key, ordinal) in &numbered.authors {
            newest.authors.insert(*key, *ordinal);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_numbered_after_what_was_committed_and_only_a_commit_counts() {
        let (room, other_room) = (Uuid::new_v4(), Uuid::new_v4());
        let (ada, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let ordinals = CopyOrdinals::default();

        let first = ordinals.number(&[room, room, other_room, room], &[ada, bob, ada, ada]);
        assert_eq!(first, (vec![1, 2, 1, 3], vec![1, 1, 1, 2]));

        // Not committed (the batch was refused and is tried again): numbered the same again.
        assert_eq!(
            ordinals.number(&[room, room, other_room, room], &[ada, bob, ada, ada]),
            first
        );

        let mut committed = Numbered::default();
        committed.record(room, ada, 3, 2);
        committed.record(room, bob, 2, 1);
        committed.record(other_room, ada, 1, 1);
        ordinals.committed(&committed);
        assert_eq!(
            ordinals.number(&[room, other_room, room], &[bob, bob, ada]),
            (vec![4, 2, 5], vec![2, 1, 3])
        );
    }
}
