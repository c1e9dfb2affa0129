//! Events the broker routed nowhere or dropped are projected anyway, without a restart: the
//! projector catches up from the store after every reconnect, and at a regular interval.

use std::time::Duration;

use lapin::options::QueueDeleteOptions;
use lapin::types::FieldTable;
use lapin::{Channel, Connection, ConnectionProperties};
use projector::ProjectorSettings;
use tokio::task::JoinHandle;
use uuid::Uuid;

use crate::helpers::{room_story, System};

#[tokio::test]
async fn events_routed_while_the_projectors_queue_was_unbound_are_projected_after_it_reconnects() {
    let system = System::new().await;
    // Only a reconnect can explain a catch-up within the test.
    let _projector = system
        .start_live_projector_with(ProjectorSettings {
            catch_up_interval: Duration::from_secs(3600),
            ..ProjectorSettings::default()
        })
        .await;
    let _relay = relay_connected(&system).await;
    let broker = Broker::open(&system).await;
    broker.unbind_projector().await;
    system.write(&room_story(Uuid::new_v4())).await;
    system.eventually("SELECT count(*) FROM outbox", 0).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(system.count("SELECT count(*) FROM messages").await, 1);

    // The queue goes (as with a broker that lost it): the projector's consumer is cancelled,
    // and it reconnects to a new one.
    broker.delete_projector_queue().await;

    system.eventually("SELECT count(*) FROM messages", 2).await;
}

#[tokio::test]
async fn events_the_broker_dropped_without_a_reconnect_are_projected_at_the_next_regular_look() {
    let system = System::new().await;
    let _projector = system
        .start_live_projector_with(ProjectorSettings {
            catch_up_interval: Duration::from_secs(1),
            ..ProjectorSettings::default()
        })
        .await;
    let _relay = relay_connected(&system).await;
    let broker = Broker::open(&system).await;
    broker.unbind_projector().await;
    system.write(&room_story(Uuid::new_v4())).await;
    system.eventually("SELECT count(*) FROM outbox", 0).await;

    system.eventually("SELECT count(*) FROM messages", 2).await;
}

/// Starts the relay and waits until it has published (and projected) a first room: its link,
/// which declares the topology and so binds the projector's queue again, is open.
async fn relay_connected(system: &System) -> JoinHandle<()> {
    let relay = system.start_relay();
    system.write(&room_story(Uuid::new_v4())).await;
    system.eventually("SELECT count(*) FROM messages", 1).await;
    relay
}

/// The test's own connection to RabbitMQ, to take the projector's queue away behind its back.
struct Broker {
    _connection: Connection,
    channel: Channel,
    queue: String,
    exchange: String,
}

impl Broker {
    async fn open(system: &System) -> Self {
        let connection = Connection::connect(testkit::AMQP_URL, ConnectionProperties::default())
            .await
            .expect("connect to RabbitMQ");
        let channel = connection.create_channel().await.expect("a channel");
        Self {
            _connection: connection,
            channel,
            queue: system.bus.projector_queue(),
            exchange: system.bus.events_exchange(),
        }
    }

    /// From now on the projector's queue gets no event.
    async fn unbind_projector(&self) {
        self.channel
            .queue_unbind(
                self.queue.as_str().into(),
                self.exchange.as_str().into(),
                "#".into(),
                FieldTable::default(),
            )
            .await
            .expect("unbind the projector's queue");
    }

    async fn delete_projector_queue(&self) {
        self.channel
            .queue_delete(self.queue.as_str().into(), QueueDeleteOptions::default())
            .await
            .expect("delete the projector's queue");
    }
}
