//! Who is connected to a room on this node, and what the room's sockets have not been told yet.
//!
//! Arrivals and departures are told in batches, at most one per [`TELL_EVERY`]: a thousand
//! sockets opening together would otherwise send each of them a thousand frames (the square of
//! the room's size), enough to put every reader behind and close it as too slow. v1 sockets hear
//! of every socket that opened or closed, as in the seed ("alice and bob joined"); v2 sockets
//! hear which users appeared or disappeared.

use std::collections::BTreeMap;
use std::time::Duration;

use uuid::Uuid;

use crate::frames::PresentUser;

/// Each user's name and number of sockets, by user id.
pub type Sockets = BTreeMap<Uuid, (String, usize)>;

/// The least time between two presence reports of one room.
pub const TELL_EVERY: Duration = Duration::from_millis(200);

#[derive(Debug, Default)]
pub struct Presence {
    /// Each connected user's name and number of sockets.
    users: Sockets,
    /// The users the room's v2 sockets were last told about.
    told: BTreeMap<Uuid, String>,
    /// Names of the sockets opened and closed since the last report, for v1 notices.
    opened: Vec<String>,
    closed: Vec<String>,
}

/// What a report tells the room.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// For v1 sockets: one notice per kind of change ("… joined", "… left").
    pub notices: Vec<String>,
    /// For v2 sockets: users who appeared and disappeared since the last report.
    pub joined: Vec<PresentUser>,
    pub left: Vec<PresentUser>,
}

impl Presence {
    pub fn arrive(&mut self, user: &PresentUser) {
        self.users
            .entry(user.user_id)
            .or_insert_with(|| (user.username.clone(), 0))
            .1 += 1;
        self.opened.push(user.username.clone());
    }

    pub fn depart(&mut self, user: &PresentUser) {
        if let Some((_, sockets)) = self.users.get_mut(&user.user_id) {
            *sockets -= 1;
            if *sockets == 0 {
                self.users.remove(&user.user_id);
            }
        }
        self.closed.push(user.username.clone());
    }

    /// Users who were connected before this node had the room open: known, not announced.
    pub fn already_there(&mut self, user: &PresentUser, sockets: usize) {
        self.users
            .entry(user.user_id)
            .or_insert_with(|| (user.username.clone(), 0))
            .1 += sockets;
        self.told.insert(user.user_id, user.username.clone());
    }

    /// Each connected user and their number of sockets.
    pub fn sockets(&self) -> impl Iterator<Item = (PresentUser, usize)> + '_ {
        self.users.iter().map(|(user_id, (username, sockets))| {
            (
                PresentUser {
                    user_id: *user_id,
                    username: username.clone(),
                },
                *sockets,
            )
        })
    }

    /// Everyone connected, by name.
    pub fn everyone(&self) -> Vec<PresentUser> {
        let mut users: Vec<_> = self
            .users
            .iter()
            .map(|(user_id, (username, _))| PresentUser {
                user_id: *user_id,
                username: username.clone(),
            })
            .collect();
        users.sort_by(|a, b| a.username.cmp(&b.username));
        users
    }

    /// The changes since the last report, which they become.
    pub fn report(&mut self) -> Report {
        let joined: Vec<_> = self
            .users
            .iter()
            .filter(|(user_id, _)| !self.told.contains_key(user_id))
            .map(|(user_id, (username, _))| PresentUser {
                user_id: *user_id,
                username: username.clone(),
            })
            .collect();
        let left: Vec<_> = self
            .told
            .iter()
            .filter(|(user_id, _)| !self.users.contains_key(user_id))
            .map(|(user_id, username)| PresentUser {
                user_id: *user_id,
                username: username.clone(),
            })
            .collect();
        self.told = self
            .users
            .iter()
            .map(|(user_id, (username, _))| (*user_id, username.clone()))
            .collect();
        let notices = [
            (std::mem::take(&mut self.opened), "joined"),
            (std::mem::take(&mut self.closed), "left"),
        ]
        .into_iter()
        .filter(|(names, _)| !names.is_empty())
        .map(|(names, what)| format!("{} {what}", name_list(&names)))
        .collect();
        Report {
            notices,
            joined,
            left,
        }
    }
}

/// "alice", "alice and bob", "alice, bob and carol", "alice, bob and 5 others"; each name once.
fn name_list(names: &[String]) -> String {
    let mut unique: Vec<&String> = Vec::with_capacity(names.len());
    for name in names {
        if !unique.contains(&name) {
            unique.push(name);
        }
    }
    match unique.as_slice() {
        [] => String::new(),
        [one] => (*one).clone(),
        [first, second] => format!("{first} and {second}"),
        [first, second, third] => format!("{first}, {second} and {third}"),
        [first, second, rest @ ..] => format!("{first}, {second} and {} others", rest.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(n: u128, name: &str) -> PresentUser {
        PresentUser {
            user_id: Uuid::from_u128(n),
            username: name.into(),
        }
    }

    #[test]
    fn a_report_tells_net_changes_to_v2_and_every_socket_to_v1() {
        let mut presence = Presence::default();
        let (alice, bob) = (user(1, "alice"), user(2, "bob"));
        presence.arrive(&alice);
        presence.arrive(&alice);
        let first = presence.report();
        assert_eq!(
            first.notices,
            ["alice joined"],
            "once, though with two sockets"
        );
        assert_eq!(first.joined, std::slice::from_ref(&alice));

        presence.depart(&alice);
        presence.arrive(&bob);
        let second = presence.report();
        assert_eq!(second.notices, ["bob joined", "alice left"]);
        assert_eq!(second.joined, std::slice::from_ref(&bob));
        assert!(second.left.is_empty(), "alice still has a socket");

        presence.depart(&alice);
        assert_eq!(presence.report().left, [alice]);
        assert_eq!(presence.everyone(), [bob]);
        assert_eq!(presence.report(), Report::default());
    }

    #[test]
    fn long_lists_of_names_are_shortened() {
        let names: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
        assert_eq!(name_list(&names[..3]), "a, b and c");
        assert_eq!(name_list(&names), "a, b and 3 others");
    }
}
