use std::future::Future;

use futures::{FutureExt, StreamExt};
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, QueueBindOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Consumer};

use crate::backoff::Backoff;
use crate::connection::{in_time, Link};
use crate::{BusConfig, BusError, ERROR_HEADER};

/// Marks an event sent again by `chat dlq retry`.
pub const RETRY_HEADER: &str = "x-chat-retry";

/// One message taken from a queue and not yet acknowledged.
#[derive(Debug)]
pub struct Delivery {
    pub body: Vec<u8>,
    pub routing_key: String,
    /// Sent again from the dead-letter queue by `chat dlq retry`.
    pub retried: bool,
    tag: u64,
    /// Which connection delivered it: a tag means nothing on another one.
    link: u64,
}

/// What a feed hands the projector next.
#[derive(Debug)]
pub enum Intake {
    /// Deliveries in the order they came; never empty.
    Deliveries(Vec<Delivery>),
    /// The broker connection was lost and is back. What was routed while the queue was gone
    /// (deleted, or lost with a broker that keeps no volume) never comes: the store has it.
    Reconnected,
}

/// A queue of events consumed with manual acknowledgement: what the projector reads from.
pub trait Feed: Send {
    /// Waits for at least one delivery, then takes every one already waiting, up to `max`.
    /// Under load that makes big batches; when idle, each event goes on alone at once. After a
    /// reconnect it first answers [`Intake::Reconnected`], once.
    fn next_batch(&mut self, max: usize) -> impl Future<Output = Intake> + Send;

    /// Acknowledges `last` and every delivery before it. Deliveries of a connection that has
    /// since been lost are not acknowledged: the broker delivers them again.
    fn ack_through(&mut self, last: &Delivery) -> impl Future<Output = ()> + Send;

    /// Sends an event that cannot be applied to the dead-letter queue, with the reason, and
    /// answers once the broker holds it.
    fn dead_letter(
        &mut self,
        body: &[u8],
        routing_key: &str,
        reason: &str,
    ) -> impl Future<Output = Result<(), BusError>> + Send;
}

/// A durable RabbitMQ queue with bounded prefetch, reconnecting with backoff whenever the broker
/// goes away; what was delivered but not acknowledged then comes again.
pub struct AmqpFeed {
    config: BusConfig,
    queue: String,
    /// Who consumes, as the broker's connection list shows it.
    consumer: &'static str,
    prefetch: u16,
    live: Option<Live>,
    links_opened: u64,
    /// A connection after the first was opened and the consumer has not been told yet.
    reconnected: bool,
    backoff: Backoff,
}

struct Live {
    link: Link,
    consumer: Consumer,
    /// A second channel, in confirm mode, for dead letters.
    dead_letters: Channel,
}

impl AmqpFeed {
    /// The projector's queue; at most `prefetch` events are in flight to this consumer.
    pub fn projector(config: BusConfig, prefetch: u16) -> Self {
        Self::on(config.projector_queue(), "projector", config, prefetch)
    }

    /// The webhook delivery worker's queue, of room events and changes of rooms' webhooks.
    pub fn webhooks(config: BusConfig, prefetch: u16) -> Self {
        Self::on(config.webhooks_queue(), "webhooks", config, prefetch)
    }

    /// Routes the events whose routing key matches `pattern` to this feed's queue too (`true`),
    /// or no longer (`false`). The binding is the broker's, shared by every consumer of the
    /// queue, and outlives this connection.
    pub async fn route(&mut self, pattern: &str, wanted: bool) -> Result<(), BusError> {
        let (queue, exchange) = (self.queue.clone(), self.config.events_exchange());
        let channel = self.live().await.link.channel.clone();
        let routed = if wanted {
            in_time(channel.queue_bind(
                queue.as_str().into(),
                exchange.as_str().into(),
                pattern.into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            ))
            .await
        } else {
            in_time(channel.queue_unbind(
                queue.as_str().into(),
                exchange.as_str().into(),
                pattern.into(),
                FieldTable::default(),
            ))
            .await
        };
        if let Err(error) = &routed {
            self.drop_live(error).await;
        }
        routed
    }

    fn on(queue: String, consumer: &'static str, config: BusConfig, prefetch: u16) -> Self {
        Self {
            queue,
            consumer,
            config,
            prefetch,
            live: None,
            links_opened: 0,
            reconnected: false,
            backoff: Backoff::default(),
        }
    }

    async fn open(&self) -> Result<Live, BusError> {
        let link = Link::open(&self.config, self.consumer).await?;
        in_time(
            link.channel
                .basic_qos(self.prefetch, BasicQosOptions::default()),
        )
        .await?;
        let consumer = in_time(link.channel.basic_consume(
            self.queue.as_str().into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        ))
        .await?;
        let dead_letters = in_time(link.connection.create_channel()).await?;
        in_time(dead_letters.confirm_select(ConfirmSelectOptions::default())).await?;
        Ok(Live {
            link,
            consumer,
            dead_letters,
        })
    }

    /// The live connection, dialling (again and again, with backoff) until there is one.
    async fn live(&mut self) -> &mut Live {
        while self.live.is_none() {
            match self.open().await {
                Ok(live) => {
                    self.links_opened += 1;
                    self.reconnected = self.links_opened > 1;
                    self.backoff.reset();
                    tracing::info!(queue = self.queue, "consuming");
                    self.live = Some(live);
                }
                Err(error) => {
                    tracing::warn!(queue = self.queue, %error, "cannot reach the broker; retrying");
                    self.backoff.wait(Some(&error)).await;
                }
            }
        }
        self.live.as_mut().expect("connected above")
    }

    async fn drop_live(&mut self, error: &(dyn std::fmt::Display + Sync)) {
        tracing::warn!(queue = self.queue, %error, "lost the broker; reconnecting");
        if let Some(live) = self.live.take() {
            live.link.close().await;
        }
    }

    fn delivery(&self, delivery: lapin::message::Delivery) -> Delivery {
        let retried = delivery
            .properties
            .headers()
            .as_ref()
            .is_some_and(|headers| headers.contains_key(RETRY_HEADER));
        Delivery {
            body: delivery.data,
            routing_key: delivery.routing_key.to_string(),
            retried,
            tag: delivery.delivery_tag,
            link: self.links_opened,
        }
    }
}

impl Feed for AmqpFeed {
    async fn next_batch(&mut self, max: usize) -> Intake {
        let mut taken = Vec::new();
        loop {
            self.live().await;
            if std::mem::take(&mut self.reconnected) {
                return Intake::Reconnected;
            }
            let first = self.live().await.consumer.next().await;
            let mut lost = match first {
                Some(Ok(delivery)) => {
                    taken.push(self.delivery(delivery));
                    None
                }
                Some(Err(error)) => Some(error.to_string()),
                None => Some("the consumer was cancelled".to_owned()),
            };
            while lost.is_none() && taken.len() < max {
                let Some(live) = self.live.as_mut() else {
                    break;
                };
                match live.consumer.next().now_or_never() {
                    Some(Some(Ok(delivery))) => taken.push(self.delivery(delivery)),
                    Some(Some(Err(error))) => lost = Some(error.to_string()),
                    Some(None) => lost = Some("the consumer was cancelled".to_owned()),
                    None => break,
                }
            }
            if let Some(error) = lost {
                self.drop_live(&error).await;
            }
            if !taken.is_empty() {
                return Intake::Deliveries(taken);
            }
        }
    }

    async fn ack_through(&mut self, last: &Delivery) {
        if last.link != self.links_opened {
            return;
        }
        let Some(live) = self.live.as_ref() else {
            return;
        };
        let acked = in_time(
            live.link
                .channel
                .basic_ack(last.tag, BasicAckOptions { multiple: true }),
        )
        .await;
        if let Err(error) = acked {
            self.drop_live(&error).await;
        }
    }

    async fn dead_letter(
        &mut self,
        body: &[u8],
        routing_key: &str,
        reason: &str,
    ) -> Result<(), BusError> {
        let exchange = self.config.dead_letter_queue();
        let mut headers = FieldTable::default();
        headers.insert(ERROR_HEADER.into(), AMQPValue::LongString(reason.into()));
        let properties = BasicProperties::default()
            .with_content_type("application/json".into())
            .with_delivery_mode(2)
            .with_headers(headers);
        let channel = self.live().await.dead_letters.clone();
        let published = async {
            let confirm = in_time(channel.basic_publish(
                exchange.as_str().into(),
                routing_key.into(),
                BasicPublishOptions::default(),
                body,
                properties,
            ))
            .await?;
            if in_time(confirm).await?.is_ack() {
                Ok(())
            } else {
                Err(BusError::Nacked(routing_key.to_owned()))
            }
        }
        .await;
        if let Err(error) = &published {
            self.drop_live(error).await;
        }
        published
    }
}
