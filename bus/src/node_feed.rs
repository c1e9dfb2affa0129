use futures::{FutureExt, StreamExt};
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions};
use lapin::types::FieldTable;
use lapin::Consumer;
use tokio::sync::mpsc;

use crate::backoff::Backoff;
use crate::connection::{in_time, Link};
use crate::{BusConfig, BusError, EventEnvelope};

/// How many events may wait for a slow node before the feed stops reading from the broker.
const FEED_CAPACITY: usize = 1024;

/// How many events the broker sends ahead of the node's acknowledgements: with the events
/// waiting in the feed, what a node holds in memory for the bus is bounded by twice the feed's
/// capacity; the rest waits in the node's queue on the broker.
const PREFETCH: u16 = FEED_CAPACITY as u16;

/// The most events one acknowledgement covers, well within [`PREFETCH`] so that the broker
/// never waits for it.
const ACKNOWLEDGE_EVERY: usize = 256;

/// What a node's sockets are told of: room events, and read positions, which reach a room's
/// sockets without being room events.
const NODE_ROUTING_KEYS: &[&str] = &["Room.#", "ReadPositions.#"];

/// What a fan-out node hears from the bus.
#[derive(Debug)]
pub enum NodeFeed {
    /// A room event or a read position's move, as it was committed.
    Event(EventEnvelope),
    /// The broker connection was lost and is back. Whatever was routed meanwhile is lost with
    /// the old queue: fill the gap from the event store before relying on further events.
    Reconnected,
}

/// Subscribes this node to every room event and every read position's move.
///
/// Each call gets a queue of its own (exclusive, deleted with the connection, named by the
/// broker) bound to the events exchange with `Room.#` and `ReadPositions.#`, consumed with acknowledgements and a
/// prefetch limit, so a node that falls behind leaves the backlog on the broker rather than in
/// an unbounded buffer of its own. An event is acknowledged once it is in the feed; a node's
/// feed is live only, gaps are filled from the store. The queue is bound before this
/// answers, so everything committed afterwards arrives. It reconnects with backoff until the
/// receiver is dropped, and says [`NodeFeed::Reconnected`] each time before further events.
pub async fn node_feed(config: &BusConfig) -> Result<mpsc::Receiver<NodeFeed>, BusError> {
    let (sender, receiver) = mpsc::channel(FEED_CAPACITY);
    let subscription = Subscription::open(config).await?;
    tokio::spawn(pump(config.clone(), subscription, sender));
    Ok(receiver)
}

struct Subscription {
    link: Link,
    consumer: Consumer,
}

impl Subscription {
    async fn open(config: &BusConfig) -> Result<Self, BusError> {
        let link = Link::open(config, "fan-out").await?;
        let queue = link
            .own_queue(&config.events_exchange(), NODE_ROUTING_KEYS)
            .await?;
        in_time(link.channel.basic_qos(PREFETCH, BasicQosOptions::default())).await?;
        let consumer = in_time(link.channel.basic_consume(
            queue,
            "".into(),
            BasicConsumeOptions {
                exclusive: true,
                ..BasicConsumeOptions::default()
            },
            FieldTable::default(),
        ))
        .await?;
        Ok(Self { link, consumer })
    }
}

async fn pump(config: BusConfig, mut subscription: Subscription, sender: mpsc::Sender<NodeFeed>) {
    let mut backoff = Backoff::default();
    loop {
        let Subscription { link, consumer } = &mut subscription;
        let lost = tokio::select! {
            _ = sender.closed() => None,
            lost = forward(consumer, &sender) => lost,
            failed = link.failed() => Some(failed.to_string()),
        };
        subscription.link.close().await;
        let Some(error) = lost else { return };
        tracing::warn!(prefix = config.prefix, %error, "fan-out feed lost the broker; reconnecting");
        let mut failure = None;
        subscription = loop {
            tokio::select! {
                _ = sender.closed() => return,
                _ = backoff.wait(failure.as_ref()) => {}
            }
            match Subscription::open(&config).await {
                Ok(subscription) => break subscription,
                Err(error) => {
                    tracing::warn!(%error, "fan-out feed cannot reach the broker");
                    failure = Some(error);
                }
            }
        };
        backoff.reset();
        tracing::info!(prefix = config.prefix, "fan-out feed reconnected");
        if sender.send(NodeFeed::Reconnected).await.is_err() {
            subscription.link.close().await;
            return;
        }
    }
}

/// Passes events on until the connection fails (answering why) or the receiver is gone (`None`).
///
/// What has already arrived is passed on before one acknowledgement covers it all: an
/// acknowledgement each woke the connection's thread once per event, which cost a node with no
/// sockets as much as a fifth of a post's CPU.
async fn forward(consumer: &mut Consumer, sender: &mpsc::Sender<NodeFeed>) -> Option<String> {
    loop {
        let mut arrived = consumer.next().await;
        let mut passed = 0;
        let last = loop {
            let delivery = match arrived {
                Some(Ok(delivery)) => delivery,
                Some(Err(error)) => return Some(error.to_string()),
                None => return Some("the consumer was cancelled".to_owned()),
            };
            match serde_json::from_slice::<EventEnvelope>(&delivery.data) {
                Ok(envelope) => {
                    if sender.send(NodeFeed::Event(envelope)).await.is_err() {
                        return None;
                    }
                }
                Err(error) => tracing::warn!(%error, "skipping a message that is not an event"),
            }
            passed += 1;
            if passed == ACKNOWLEDGE_EVERY {
                break delivery;
            }
            match consumer.next().now_or_never() {
                Some(more) => arrived = more,
                None => break delivery,
            }
        };
        if let Err(error) = in_time(last.ack(BasicAckOptions { multiple: true })).await {
            return Some(error.to_string());
        }
    }
}
