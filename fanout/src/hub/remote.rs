//! Presence across nodes: the sockets the other nodes have open, and their typing.

use std::sync::Arc;

use uuid::Uuid;

use super::delivery::Delivery;
use super::Hub;
use crate::frames::{self, PresentUser};

impl Hub {
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
}
