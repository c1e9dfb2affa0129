//! Which events a caller may see: those of its own account, and those of the rooms it is a member
//! of as of each event. Membership moves with the events themselves, so a private room's events
//! stop at the caller's leaving, whatever happens later.

use std::collections::HashSet;

use eventstore::{EventLog, EventLogError, StoredEvent};
use serde_json::Value;
use uuid::Uuid;

use super::FeedItem;

/// What an event means for the scope of the one who follows the feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reach {
    /// An event of a user's account.
    Account(String),
    /// A room event that makes `user` a member (join, creation) or ends it (leave).
    Joins {
        room: String,
        user: String,
    },
    Leaves {
        room: String,
        user: String,
    },
    /// Any other room event.
    Room(String),
    /// An event of any other aggregate (a room's webhooks, whose URLs are its owners' alone):
    /// shown to nobody until its audience is decided.
    Nobody,
}

impl Reach {
    pub(crate) fn of(event: &StoredEvent) -> Self {
        let id = event.aggregate_id.clone();
        match event.aggregate_type.as_str() {
            "Room" => {}
            "User" => return Reach::Account(id),
            _ => return Reach::Nobody,
        }
        let field = |name: &str| {
            event
                .payload
                .get(&event.event_type)
                .and_then(|fields| fields.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        match event.event_type.as_str() {
            "MemberJoined" => field("user_id").map_or(Reach::Room(id.clone()), |user| {
                Reach::Joins { room: id, user }
            }),
            "RoomCreated" => field("created_by").map_or(Reach::Room(id.clone()), |user| {
                Reach::Joins { room: id, user }
            }),
            "MemberLeft" => field("user_id").map_or(Reach::Room(id.clone()), |user| {
                Reach::Leaves { room: id, user }
            }),
            _ => Reach::Room(id),
        }
    }
}

/// One follower's scope, moved along the log event by event.
#[derive(Debug)]
pub(crate) struct Scope {
    user: String,
    rooms: HashSet<String>,
}

impl Scope {
    /// The scope of `user` as of position `at`.
    pub(crate) async fn at(log: &EventLog, user: Uuid, at: i64) -> Result<Self, EventLogError> {
        let user = user.to_string();
        let rooms = log.rooms_of_member_at(&user, at).await?;
        Ok(Self {
            user,
            rooms: rooms.into_iter().collect(),
        })
    }

    /// Whether the follower sees `item`; moves the scope past it. A join is seen (the joiner is
    /// a member as of it), and so is a leave (a member until then); nothing after it is.
    pub(crate) fn admits(&mut self, item: &FeedItem) -> bool {
        match &item.reach {
            Reach::Nobody => false,
            Reach::Account(id) => *id == self.user,
            Reach::Joins { room, user } if *user == self.user => {
                self.rooms.insert(room.clone());
                true
            }
            Reach::Leaves { room, user } if *user == self.user => self.rooms.remove(room),
            Reach::Joins { room, .. } | Reach::Leaves { room, .. } | Reach::Room(room) => {
                self.rooms.contains(room)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(reach: Reach) -> FeedItem {
        FeedItem {
            position: 1,
            event_type: "X".into(),
            reach,
            data: String::new(),
        }
    }

    #[test]
    fn a_rooms_events_are_seen_from_the_join_to_the_leave_and_not_after() {
        let me = Uuid::from_u128(1);
        let mut scope = Scope {
            user: me.to_string(),
            rooms: HashSet::new(),
        };
        let room = || "r".to_owned();
        assert!(!scope.admits(&item(Reach::Room(room()))));
        assert!(scope.admits(&item(Reach::Joins {
            room: room(),
            user: me.to_string()
        })));
        assert!(scope.admits(&item(Reach::Room(room()))));
        assert!(scope.admits(&item(Reach::Leaves {
            room: room(),
            user: "other".into()
        })));
        assert!(scope.admits(&item(Reach::Leaves {
            room: room(),
            user: me.to_string()
        })));
        assert!(!scope.admits(&item(Reach::Room(room()))));
        assert!(scope.admits(&item(Reach::Account(me.to_string()))));
        assert!(!scope.admits(&item(Reach::Account("other".into()))));
    }

    #[test]
    fn only_rooms_and_accounts_reach_anyone() {
        let stored = |aggregate_type: &str| StoredEvent {
            position: 1,
            aggregate_type: aggregate_type.into(),
            aggregate_id: "r".into(),
            sequence: 1,
            event_type: "WebhookCreated".into(),
            event_version: "1".into(),
            payload: serde_json::json!({"WebhookCreated": {"url": "https://x.example/?key=1"}}),
            metadata: serde_json::json!({}),
            recorded_at: chrono::Utc::now(),
        };
        assert_eq!(Reach::of(&stored("RoomWebhooks")), Reach::Nobody);
        assert_eq!(Reach::of(&stored("User")), Reach::Account("r".into()));
        assert_eq!(Reach::of(&stored("Room")), Reach::Room("r".into()));
        let mut scope = Scope {
            user: "r".into(),
            rooms: HashSet::from(["r".to_owned()]),
        };
        assert!(
            !scope.admits(&item(Reach::Nobody)),
            "not even the room's members"
        );
    }
}
