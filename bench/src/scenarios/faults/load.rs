//! The run's clients: subscribers on every room through both fan-out nodes, a socket sender
//! per room, posts through REST on both command APIs; and the controls the run steers them by.

use std::sync::atomic::AtomicUsize;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::cluster::{Cluster, Role};
use super::ledger::{Inbox, Ledger};
use super::senders::{self, RestLoad, WsSender};
use super::subscribers::{SocketEnds, Steering, Subscriber};
use super::Shape;
use crate::scenarios::ws_rig::{Api, Server};
use crate::Target;

/// The clients and the run's controls.
pub(super) struct Load {
    pub(super) ledger: Ledger,
    pub(super) inboxes: Vec<Inbox>,
    pub(super) phase: watch::Sender<Option<usize>>,
    pub(super) go_home: watch::Sender<u64>,
    pub(super) in_flight: Arc<Vec<AtomicUsize>>,
    pub(super) socket_ends: SocketEnds,
    pub(super) stop: CancellationToken,
    pub(super) tasks: TaskTracker,
}

/// Signs the run's users up, makes the rooms, and starts the subscribers and the senders
/// (paused); answers once every subscriber is live.
pub(super) async fn start(cluster: &Cluster, shape: Shape) -> anyhow::Result<Load> {
    let apis = cluster.urls(Role::CommandApi);
    let nodes: Vec<String> = cluster
        .of(Role::Fanout)
        .into_iter()
        .map(|index| cluster.processes[index].ws_base())
        .collect();
    let api = Api::new(&Server::chat(&Target {
        url: apis[0].clone(),
        database_url: cluster.database_url.clone(),
        pid: None,
    }));

    let mut rooms = Vec::new();
    let mut members = Vec::new();
    for room in 0..shape.rooms {
        let poster = api.user(&format!("poster{room}")).await?;
        let id = api.room(&poster, &format!("room {room}")).await?;
        let subscribers = api
            .users(&format!("r{room}s"), shape.subscribers_per_room)
            .await?;
        api.join_all(&id, &subscribers).await?;
        members.push(subscribers);
        rooms.push(senders::Room { id, poster });
    }

    let ledger = Ledger::default();
    let (phase, phase_receiver) = watch::channel(None);
    let (go_home, go_home_receiver) = watch::channel(0);
    let stop = CancellationToken::new();
    let tasks = TaskTracker::new();
    let socket_urls = |room: &senders::Room, token: &str| -> Vec<String> {
        nodes
            .iter()
            .map(|node| format!("{node}/ws/{}?token={token}&v=2", room.id))
            .collect()
    };

    let mut inboxes = Vec::new();
    let socket_ends = SocketEnds::default();
    for (index, room) in rooms.iter().enumerate() {
        for (n, token) in members[index].iter().enumerate() {
            let inbox = Inbox::new(index, 0);
            let subscriber = Subscriber {
                inbox: inbox.clone(),
                urls: socket_urls(room, token),
                home: (index + n) % nodes.len(),
                ends: socket_ends.clone(),
            };
            inboxes.push(inbox);
            tasks.spawn(subscriber.run(Steering {
                go_home: go_home_receiver.clone(),
                stop: stop.clone(),
            }));
        }
        let sender = WsSender {
            room: index,
            urls: socket_urls(room, &room.poster),
            home: index % nodes.len(),
            rate: shape.rate / 2.0 / shape.rooms as f64,
            ledger: ledger.clone(),
        };
        tasks.spawn(sender.run(
            phase_receiver.clone(),
            go_home_receiver.clone(),
            stop.clone(),
        ));
    }
    let in_flight: Arc<Vec<AtomicUsize>> =
        Arc::new(apis.iter().map(|_| AtomicUsize::new(0)).collect());
    let rest = RestLoad {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?,
        apis,
        rooms: rooms.clone(),
        rate: shape.rate / 2.0,
        ledger: ledger.clone(),
        in_flight: in_flight.clone(),
    };
    tasks.spawn(rest.run(phase_receiver, stop.clone()));

    // Live: each subscriber has every event its room held before the load.
    let mut latest = Vec::new();
    for room in &rooms {
        let seq: i64 = sqlx::query_scalar(
            "SELECT coalesce(max(sequence), 0)::bigint FROM events WHERE aggregate_id = $1",
        )
        .bind(&room.id)
        .fetch_one(&cluster.pool)
        .await?;
        latest.push(seq);
    }
    let live_by = Instant::now() + Duration::from_secs(60);
    while !inboxes
        .iter()
        .all(|inbox| inbox.last_seq() >= latest[inbox.room])
    {
        if Instant::now() > live_by {
            stop.cancel();
            anyhow::bail!("subscribers were not all live within 60 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let load = Load {
        ledger,
        inboxes,
        phase,
        go_home,
        in_flight,
        socket_ends,
        stop,
        tasks,
    };
    Ok(load)
}
