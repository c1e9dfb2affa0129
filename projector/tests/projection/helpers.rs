use std::time::Duration;

use bus::relay::RelaySettings;
use bus::{AmqpFeed, AmqpPublisher, BusConfig, EventEnvelope, Publish};
use chrono::Utc;
use domain::{MessagePosted, Role, RoomEvent, RoomKind, UserEvent};
use eventstore::OutboxEvent;
use projector::ProjectorSettings;
use sqlx::PgPool;
use testkit::seed::{self, Shape, StoredEvent};
use testkit::BusCleanup;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// A database of its own and a bus prefix of its own (the database's name), with the relay and
/// projectors started on demand.
pub struct System {
    pub pool: PgPool,
    pub bus: BusConfig,
    shutdown: CancellationToken,
    _cleanup: BusCleanup,
}

impl Drop for System {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl System {
    pub async fn new() -> Self {
        Self::with_broker(testkit::AMQP_URL).await
    }

    /// A system reaching RabbitMQ at `amqp_url` (e.g. through a proxy).
    pub async fn with_broker(amqp_url: &str) -> Self {
        let (database_url, pool) = testkit::fresh_database().await;
        let bus = BusConfig::new(amqp_url, BusConfig::default_prefix(&database_url));
        let cleanup = BusConfig {
            amqp_url: testkit::AMQP_URL.to_owned(),
            ..bus.clone()
        };
        Self {
            pool,
            bus,
            shutdown: CancellationToken::new(),
            _cleanup: BusCleanup(cleanup),
        }
    }

    pub fn start_relay(&self) -> JoinHandle<()> {
        self.start_relay_until(self.shutdown.child_token())
    }

    pub fn start_relay_until(&self, stop: CancellationToken) -> JoinHandle<()> {
        self.spawn_relay(RelaySettings::default(), stop)
    }

    pub fn start_relay_with(&self, settings: RelaySettings) -> JoinHandle<()> {
        self.spawn_relay(settings, self.shutdown.child_token())
    }

    /// A relay with `settings`, except that a waiting one tries for the lock every 200 ms.
    fn spawn_relay(&self, settings: RelaySettings, stop: CancellationToken) -> JoinHandle<()> {
        let settings = RelaySettings {
            standby_interval: Duration::from_millis(200),
            ..settings
        };
        tokio::spawn(bus::relay::run(
            self.pool.clone(),
            AmqpPublisher::new(self.bus.clone()),
            settings,
            stop,
        ))
    }

    pub fn start_projector(&self) -> JoinHandle<()> {
        self.start_projector_with(ProjectorSettings::default())
    }

    pub fn start_projector_with(&self, settings: ProjectorSettings) -> JoinHandle<()> {
        tokio::spawn(projector::run(
            self.pool.clone(),
            AmqpFeed::projector(self.bus.clone(), settings.prefetch),
            settings,
            projector::ProjectionLag::default(),
            self.shutdown.child_token(),
        ))
    }

    /// Starts a projector and waits until it has caught up with the store and consumes the
    /// bus: a user published straight to the bus, never stored, shows up in `users`.
    pub async fn start_live_projector(&self) -> JoinHandle<()> {
        self.start_live_projector_with(ProjectorSettings::default())
            .await
    }

    /// [`System::start_live_projector`] with `settings`.
    pub async fn start_live_projector_with(&self, settings: ProjectorSettings) -> JoinHandle<()> {
        let projector = self.start_projector_with(settings);
        let canary = user_envelope("canary");
        self.publish(std::slice::from_ref(&canary)).await;
        self.eventually(
            &format!(
                "SELECT count(*) FROM users WHERE id = '{}'",
                canary.aggregate_id
            ),
            1,
        )
        .await;
        projector
    }

    /// Publishes envelopes straight to the bus, as the relay would.
    pub async fn publish(&self, envelopes: &[EventEnvelope]) {
        let events: Vec<OutboxEvent> = envelopes
            .iter()
            .map(|envelope| OutboxEvent {
                position: envelope.position,
                event_type: envelope.event_type.clone(),
                routing_key: envelope.routing_key(),
                envelope: serde_json::to_vec(envelope).unwrap(),
            })
            .collect();
        AmqpPublisher::new(self.bus.clone())
            .publish(&events)
            .await
            .expect("publish")
            .confirmed()
            .await
            .expect("confirmed");
    }

    /// Writes `shape`'s history to the store and answers it.
    pub async fn seed(&self, shape: &Shape) -> Vec<StoredEvent> {
        let history = seed::history(shape);
        seed::write(&self.pool, &history, 1000).await.expect("seed");
        history
    }

    pub async fn write(&self, events: &[StoredEvent]) {
        seed::write(&self.pool, events, 1000).await.expect("write");
    }

    /// The stored events of one aggregate, as the relay would publish them.
    pub async fn stored(&self, aggregate_id: &str) -> Vec<EventEnvelope> {
        sqlx::query_as(
            "SELECT position, aggregate_type, aggregate_id, sequence, event_type, event_version,
                    payload, metadata, recorded_at
               FROM events WHERE aggregate_id = $1 ORDER BY sequence",
        )
        .bind(aggregate_id)
        .fetch_all(&self.pool)
        .await
        .unwrap()
    }

    /// One number from the database; an empty answer, or NULL, counts as 0.
    pub async fn count(&self, query: &str) -> i64 {
        testkit::count(&self.pool, query).await
    }

    /// Waits (up to 30 s) until `query` answers `expected`, and asserts it did.
    pub async fn eventually(&self, query: &str, expected: i64) {
        testkit::eventually(&self.pool, query, expected).await
    }

    /// Waits (up to 30 s) until the dead-letter queue holds `expected` events, and answers them.
    pub async fn dead_letters_eventually(&self, expected: usize) -> Vec<bus::DeadLetter> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let letters = bus::dead_letters(&self.bus, 1000).await.unwrap().letters;
            if letters.len() == expected {
                return letters;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} dead letters, expected {expected}: {letters:?}",
                letters.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until every stored event is applied.
    pub async fn fully_projected(&self) {
        let stored = self
            .count("SELECT count(*) FROM events WHERE aggregate_type IN ('User', 'Room')")
            .await;
        self.eventually(
            "SELECT coalesce(sum(last_seq), 0)::bigint FROM projection_checkpoints c
              WHERE EXISTS (SELECT 1 FROM events e WHERE e.aggregate_id = c.aggregate_id)",
            stored,
        )
        .await;
    }
}

/// A registration that is on the bus only.
pub fn user_envelope(name: &str) -> EventEnvelope {
    let event = StoredEvent::user(&UserEvent::UserRegistered {
        user_id: Uuid::new_v4(),
        username: name.into(),
        password_hash: "x".into(),
        registered_at: Utc::now(),
    });
    event.envelope(0)
}

/// A room's first three events: created, its owner joined, a message.
pub fn room_story(room_id: Uuid) -> Vec<StoredEvent> {
    let owner = Uuid::new_v4();
    let now = Utc::now();
    [
        RoomEvent::RoomCreated {
            room_id,
            name: "general".into(),
            is_private: false,
            password_hash: None,
            created_by: owner,
            created_at: now,
            kind: RoomKind::Room,
        },
        RoomEvent::MemberJoined {
            user_id: owner,
            username: "alice".into(),
            role: Role::Owner,
            joined_at: now,
        },
        RoomEvent::MessagePosted(MessagePosted {
            message_id: Uuid::new_v4(),
            user_id: owner,
            username: "alice".into(),
            content: "hello".into(),
            client_msg_id: None,
            posted_at: now,
            is_bot: false,
            reply_to: None,
            mentions: Vec::new(),
        }),
    ]
    .iter()
    .zip(1..)
    .map(|(event, sequence)| StoredEvent::room(room_id, sequence, event))
    .collect()
}

/// A mixed history of about `events` events.
pub fn mixed(events: usize) -> Shape {
    let rooms = (events / 250).max(2);
    let users = (events / 100).max(4);
    Shape {
        users,
        rooms,
        members_per_room: 8.min(users - 1),
        messages: 0,
        changed_messages: 0,
        rooms_with_leavers: rooms / 2,
    }
    .filled_to(events)
}

/// [`mixed`], where one message in ten is then answered, reacted to, and some edited, taken
/// back and deleted.
pub fn changing(events: usize) -> Shape {
    Shape {
        changed_messages: events / 10,
        ..mixed(events)
    }
    .filled_to(events)
}
