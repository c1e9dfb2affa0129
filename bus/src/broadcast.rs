//! Ephemeral messages between the processes of one system, such as the fan-out nodes telling
//! each other who is connected.
//!
//! A topic is a fanout exchange `<prefix>.<topic>` (deleted with its last listener); each process
//! hears it through a queue of its own (exclusive, named by the broker), without
//! acknowledgements. Nothing is stored: a process hears only what is said while it is
//! connected, so the users of a topic repair what they miss by saying their state again now and
//! then.

use futures::StreamExt;
use lapin::options::{BasicConsumeOptions, BasicPublishOptions, ExchangeDeclareOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Consumer, ExchangeKind};

use crate::backoff::Backoff;
use crate::connection::{in_time, Link};
use crate::{BusConfig, BusError};

/// This process's place on one topic: what it says reaches every process on the topic, itself
/// included.
pub struct Broadcast {
    config: BusConfig,
    topic: String,
    exchange: String,
    joined: Joined,
    backoff: Backoff,
}

struct Joined {
    link: Link,
    consumer: Consumer,
}

impl Broadcast {
    /// Joins `<prefix>.<topic>`; whatever is said on it from the moment this answers is heard.
    pub async fn join(config: &BusConfig, topic: &str) -> Result<Self, BusError> {
        let joined = Joined::open(config, topic).await?;
        Ok(Self {
            config: config.clone(),
            topic: topic.to_owned(),
            exchange: exchange(config, topic),
            joined,
            backoff: Backoff::default(),
        })
    }

    /// Says `body` to every process on the topic. An error means the link is lost: [`reconnect`].
    ///
    /// [`reconnect`]: Broadcast::reconnect
    pub async fn say(&self, body: &[u8]) -> Result<(), BusError> {
        in_time(self.joined.link.channel.basic_publish(
            self.exchange.as_str().into(),
            "".into(),
            BasicPublishOptions::default(),
            body,
            BasicProperties::default(),
        ))
        .await?;
        Ok(())
    }

    /// The next message said on the topic. An error means the link is lost: [`reconnect`].
    ///
    /// [`reconnect`]: Broadcast::reconnect
    pub async fn hear(&mut self) -> Result<Vec<u8>, BusError> {
        match self.joined.consumer.next().await {
            Some(delivery) => Ok(delivery?.data),
            None => Err(BusError::ConsumerCancelled),
        }
    }

    /// Drops the lost link and dials again, with backoff, until the broker answers. Whatever was
    /// said meanwhile is not heard. Dropping the future leaves nothing open.
    pub async fn reconnect(self) -> Self {
        let Self {
            config,
            topic,
            exchange,
            joined,
            mut backoff,
        } = self;
        joined.link.close().await;
        let mut failure = None;
        loop {
            backoff.wait(failure.as_ref()).await;
            match Joined::open(&config, &topic).await {
                Ok(joined) => {
                    backoff.reset();
                    tracing::info!(topic, "broadcast reconnected");
                    return Self {
                        config,
                        topic,
                        exchange,
                        joined,
                        backoff,
                    };
                }
                Err(error) => {
                    tracing::warn!(topic, %error, "broadcast cannot reach the broker");
                    failure = Some(error);
                }
            }
        }
    }

    /// Leaves the topic, closing the connection.
    pub async fn close(self) {
        self.joined.link.close().await;
    }
}

impl Joined {
    async fn open(config: &BusConfig, topic: &str) -> Result<Self, BusError> {
        let link = Link::open(config, topic).await?;
        let exchange = exchange(config, topic);
        let options = ExchangeDeclareOptions {
            auto_delete: true,
            ..ExchangeDeclareOptions::default()
        };
        in_time(link.channel.exchange_declare(
            exchange.as_str().into(),
            ExchangeKind::Fanout,
            options,
            FieldTable::default(),
        ))
        .await?;
        let queue = link.own_queue(&exchange, &[""]).await?;
        let consumer = in_time(link.channel.basic_consume(
            queue,
            "".into(),
            BasicConsumeOptions {
                no_ack: true,
                exclusive: true,
                ..BasicConsumeOptions::default()
            },
            FieldTable::default(),
        ))
        .await?;
        Ok(Self { link, consumer })
    }
}

fn exchange(config: &BusConfig, topic: &str) -> String {
    format!("{}.{topic}", config.prefix)
}
