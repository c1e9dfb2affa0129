//! What the fan-out nodes tell each other: sockets opening and closing, and typing, so that a
//! room spread over several nodes shows everyone's presence on every node.
//!
//! These are ephemeral, so they skip the event store: the nodes talk over a [`Broadcast`] of the
//! bus (`<prefix>.presence`). What a node misses (a full queue, a broker reconnect) is repaired
//! by the snapshot every node publishes of its sockets every few seconds; a node that stops says
//! so, and one that falls silent is forgotten after a while.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bus::{Broadcast, BusConfig, BusError};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

use crate::frames::PresentUser;
use crate::hub::LocalActivity;
use crate::presence::Sockets;
use crate::{FanoutError, Hub};

/// How often each node publishes everyone connected to it.
const SNAPSHOT_EVERY: Duration = Duration::from_secs(5);
/// A node not heard from for this long is taken to be gone, with its sockets.
const FORGET_AFTER: Duration = Duration::from_secs(16);
/// The nodes talk on `<prefix>.presence`.
const TOPIC: &str = "presence";
/// This node's activity waiting to be published; past this they are dropped (the next snapshot
/// repairs presence; a typing notice is not worth more).
const BACKLOG: usize = 4096;

/// One message between nodes.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Signal {
    Socket {
        node: Uuid,
        room_id: Uuid,
        user: PresentUser,
        opened: bool,
    },
    Typing {
        node: Uuid,
        room_id: Uuid,
        user: PresentUser,
    },
    /// Every socket open on `node`, per room and user.
    Snapshot {
        node: Uuid,
        rooms: Vec<(Uuid, Vec<(PresentUser, usize)>)>,
    },
    /// `node` is stopping: its sockets are gone.
    Gone { node: Uuid },
}

impl Signal {
    fn node(&self) -> Uuid {
        match self {
            Signal::Socket { node, .. }
            | Signal::Typing { node, .. }
            | Signal::Snapshot { node, .. }
            | Signal::Gone { node } => *node,
        }
    }
}

/// Joins the node to the others of its bus prefix; runs until `shutdown`.
pub async fn start(
    hub: Hub,
    bus: &BusConfig,
    shutdown: CancellationToken,
) -> Result<(), FanoutError> {
    let broadcast = Broadcast::join(bus, TOPIC).await?;
    let (sender, local) = mpsc::channel(BACKLOG);
    hub.report_activity_to(sender);
    let node = Uuid::new_v4();
    let mesh = Mesh {
        node,
        hub,
        others: HashMap::new(),
    };
    tokio::spawn(
        mesh.run(broadcast, local, shutdown)
            .instrument(tracing::info_span!("fanout_mesh", %node)),
    );
    Ok(())
}

async fn say(broadcast: &Broadcast, signal: &Signal) -> Result<(), BusError> {
    let body = serde_json::to_vec(signal).expect("signals serialise");
    broadcast.say(&body).await
}

/// What this node knows of the others: their sockets, and when each was last heard.
struct Mesh {
    node: Uuid,
    hub: Hub,
    others: HashMap<Uuid, Other>,
}

struct Other {
    heard: Instant,
    rooms: HashMap<Uuid, Sockets>,
}

impl Mesh {
    async fn run(
        mut self,
        mut broadcast: Broadcast,
        mut local: mpsc::Receiver<LocalActivity>,
        shutdown: CancellationToken,
    ) {
        let mut snapshots = tokio::time::interval(SNAPSHOT_EVERY);
        snapshots.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let lost = tokio::select! {
                () = shutdown.cancelled() => {
                    let _ = say(&broadcast, &Signal::Gone { node: self.node }).await;
                    broadcast.close().await;
                    return;
                }
                _ = snapshots.tick() => {
                    self.forget_the_silent();
                    let rooms = self.hub.local_presence();
                    say(&broadcast, &Signal::Snapshot { node: self.node, rooms }).await.err()
                }
                happened = local.recv() => match happened {
                    Some(happened) => say(&broadcast, &self.signal(happened)).await.err(),
                    None => return,
                },
                heard = broadcast.hear() => match heard {
                    Ok(body) => {
                        match serde_json::from_slice::<Signal>(&body) {
                            Ok(signal) => self.apply(signal),
                            Err(error) => tracing::warn!(%error, "skipping a message that is not a signal"),
                        }
                        None
                    }
                    Err(error) => Some(error),
                },
            };
            if let Some(error) = lost {
                tracing::warn!(%error, "presence mesh lost the broker; reconnecting");
                broadcast = tokio::select! {
                    () = shutdown.cancelled() => return,
                    broadcast = broadcast.reconnect() => broadcast,
                };
                // The others' next snapshots repair what this node missed; the next tick
                // repairs what they missed of it.
                snapshots.reset_immediately();
            }
        }
    }

    fn signal(&self, happened: LocalActivity) -> Signal {
        match happened {
            LocalActivity::Socket {
                room_id,
                user,
                opened,
            } => Signal::Socket {
                node: self.node,
                room_id,
                user,
                opened,
            },
            LocalActivity::Typing { room_id, user } => Signal::Typing {
                node: self.node,
                room_id,
                user,
            },
        }
    }

    fn apply(&mut self, signal: Signal) {
        let node = signal.node();
        if node == self.node {
            return;
        }
        if let Signal::Gone { .. } = signal {
            self.forget(node);
            return;
        }
        let other = self.others.entry(node).or_insert_with(|| Other {
            heard: Instant::now(),
            rooms: HashMap::new(),
        });
        other.heard = Instant::now();
        match signal {
            Signal::Socket {
                room_id,
                user,
                opened,
                ..
            } => {
                let users = other.rooms.entry(room_id).or_default();
                let delta = if opened { 1 } else { -1 };
                set(
                    users,
                    &user,
                    count(users, &user).saturating_add_signed(delta),
                );
                self.hub.remote_sockets(room_id, &user, delta as i64);
            }
            Signal::Typing { room_id, user, .. } => self.hub.remote_typing(room_id, &user),
            Signal::Snapshot { rooms, .. } => {
                let mut now: HashMap<Uuid, Sockets> = HashMap::new();
                for (room_id, users) in rooms {
                    let room = now.entry(room_id).or_default();
                    for (user, sockets) in users {
                        set(room, &user, sockets);
                    }
                }
                let before = std::mem::take(&mut other.rooms);
                for (room_id, delta, user) in differences(&before, &now) {
                    self.hub.remote_sockets(room_id, &user, delta);
                }
                self.others.get_mut(&node).expect("just seen").rooms = now;
            }
            Signal::Gone { .. } => unreachable!("handled above"),
        }
    }

    fn forget_the_silent(&mut self) {
        let silent: Vec<Uuid> = self
            .others
            .iter()
            .filter(|(_, other)| other.heard.elapsed() >= FORGET_AFTER)
            .map(|(node, _)| *node)
            .collect();
        for node in silent {
            tracing::info!(%node, "forgetting a silent fan-out node and its sockets");
            self.forget(node);
        }
    }

    fn forget(&mut self, node: Uuid) {
        let Some(other) = self.others.remove(&node) else {
            return;
        };
        for (room_id, delta, user) in differences(&other.rooms, &HashMap::new()) {
            self.hub.remote_sockets(room_id, &user, delta);
        }
    }
}

fn count(users: &Sockets, user: &PresentUser) -> usize {
    users.get(&user.user_id).map_or(0, |(_, sockets)| *sockets)
}

fn set(users: &mut Sockets, user: &PresentUser, sockets: usize) {
    if sockets == 0 {
        users.remove(&user.user_id);
    } else {
        users.insert(user.user_id, (user.username.clone(), sockets));
    }
}

/// How each user's socket count changed from `before` to `after`, per room.
fn differences(
    before: &HashMap<Uuid, Sockets>,
    after: &HashMap<Uuid, Sockets>,
) -> Vec<(Uuid, i64, PresentUser)> {
    let mut changes = Vec::new();
    let rooms = before
        .keys()
        .chain(after.keys().filter(|room| !before.contains_key(*room)));
    for room_id in rooms {
        let empty = BTreeMap::new();
        let was = before.get(room_id).unwrap_or(&empty);
        let is = after.get(room_id).unwrap_or(&empty);
        let users = was
            .iter()
            .chain(is.iter().filter(|(user, _)| !was.contains_key(*user)));
        for (user_id, (username, _)) in users {
            let user = PresentUser {
                user_id: *user_id,
                username: username.clone(),
            };
            let delta = count(is, &user) as i64 - count(was, &user) as i64;
            if delta != 0 {
                changes.push((*room_id, delta, user));
            }
        }
    }
    changes
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
    fn differences_between_snapshots_are_socket_counts_gained_and_lost() {
        let room = Uuid::from_u128(9);
        let (alice, bob, carol) = (user(1, "alice"), user(2, "bob"), user(3, "carol"));
        let mut before = HashMap::from([(room, BTreeMap::new())]);
        set(before.get_mut(&room).unwrap(), &alice, 2);
        set(before.get_mut(&room).unwrap(), &bob, 1);
        let mut after = HashMap::from([(room, BTreeMap::new())]);
        set(after.get_mut(&room).unwrap(), &alice, 1);
        set(after.get_mut(&room).unwrap(), &carol, 3);
        let mut changes = differences(&before, &after);
        changes.sort_by_key(|(_, _, user)| user.user_id);
        assert_eq!(
            changes,
            [(room, -1, alice), (room, -1, bob), (room, 3, carol.clone())]
        );
        assert_eq!(
            differences(&after, &HashMap::new()).len(),
            2,
            "everyone leaves"
        );
        assert!(differences(&after, &after).is_empty());
    }

    #[test]
    fn signals_name_their_node_on_the_wire() {
        let signal = Signal::Socket {
            node: Uuid::from_u128(7),
            room_id: Uuid::from_u128(9),
            user: user(1, "alice"),
            opened: true,
        };
        let wire = serde_json::to_value(&signal).unwrap();
        assert_eq!(wire["kind"], "socket");
        let back: Signal = serde_json::from_value(wire).unwrap();
        assert_eq!(back.node(), Uuid::from_u128(7));
    }
}
