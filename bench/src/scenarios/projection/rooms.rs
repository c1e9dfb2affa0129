//! The live load: new messages dealt round robin over the rooms of the setup.

use std::collections::HashMap;

use domain::{MessagePosted, RoomEvent};
use testkit::seed::StoredEvent;
use uuid::Uuid;

/// The rooms of the setup, and the sequence each is at.
pub(super) struct Rooms {
    ids: Vec<Uuid>,
    sequences: Vec<i64>,
    author: (Uuid, String),
}

impl Rooms {
    pub(super) fn from(setup: &[StoredEvent]) -> Self {
        let mut sequences: HashMap<Uuid, i64> = HashMap::new();
        for event in setup.iter().filter(|event| event.aggregate_type == "Room") {
            let id: Uuid = event.aggregate_id.parse().expect("room ids are UUIDs");
            let sequence = sequences.entry(id).or_default();
            *sequence = (*sequence).max(event.sequence);
        }
        let (ids, sequences) = sequences.into_iter().unzip();
        Self {
            ids,
            sequences,
            author: (Uuid::new_v4(), "bench".into()),
        }
    }

    /// The rooms dealt out to `writers` writers, each with rooms of its own.
    pub(super) fn split(self, writers: usize) -> Vec<Rooms> {
        let mut parts: Vec<Rooms> = (0..writers)
            .map(|_| Rooms {
                ids: Vec::new(),
                sequences: Vec::new(),
                author: self.author.clone(),
            })
            .collect();
        for (n, (id, sequence)) in self.ids.into_iter().zip(self.sequences).enumerate() {
            parts[n % writers].ids.push(id);
            parts[n % writers].sequences.push(sequence);
        }
        parts
    }

    /// `count` new messages, round robin over the rooms starting at room `from`.
    pub(super) fn messages(&mut self, count: usize, from: usize) -> Vec<StoredEvent> {
        (from..from + count)
            .map(|n| {
                let room = n % self.ids.len();
                self.sequences[room] += 1;
                let event = RoomEvent::MessagePosted(MessagePosted {
                    message_id: Uuid::new_v4(),
                    user_id: self.author.0,
                    username: self.author.1.clone(),
                    content: format!("benchmark message {n}"),
                    client_msg_id: None,
                    posted_at: chrono::Utc::now(),
                    is_bot: false,
                    reply_to: None,
                    mentions: Vec::new(),
                });
                StoredEvent::room(self.ids[room], self.sequences[room], &event)
            })
            .collect()
    }
}
