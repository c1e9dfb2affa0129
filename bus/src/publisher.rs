use std::future::Future;

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::{BasicProperties, PublisherConfirm};

use crate::connection::{in_time, Link};
use eventstore::OutboxEvent;

use crate::{BusConfig, BusError};

/// Where the relay sends events: RabbitMQ, or later an in-process bus.
pub trait Publish: Send {
    /// Publishes `batch` in order, answering what to await for the bus to take responsibility
    /// for every event in it; more batches may be published meanwhile. On an error some may
    /// have been delivered anyway: the caller sends the whole batch again, and consumers dedupe.
    fn publish(
        &mut self,
        batch: &[OutboxEvent],
    ) -> impl Future<Output = Result<Confirms, BusError>> + Send;
}

/// The bus's confirmations of a published batch, still to come.
#[derive(Debug, Default)]
pub struct Confirms {
    pending: Vec<(i64, PublisherConfirm)>,
}

impl Confirms {
    /// Waits until every event of the batch is confirmed; an error if one was refused or the
    /// connection went away first.
    pub async fn confirmed(self) -> Result<(), BusError> {
        for (position, confirm) in self.pending {
            if !in_time(confirm).await?.is_ack() {
                return Err(BusError::Nacked(format!("at position {position}")));
            }
        }
        Ok(())
    }
}

/// Publishes to the system's topic exchange with publisher confirms.
///
/// It connects on first use and again after any failure, so a process starts (and keeps its
/// events safe in the outbox) while the broker is away.
pub struct AmqpPublisher {
    config: BusConfig,
    link: Option<Link>,
}

impl AmqpPublisher {
    pub fn new(config: BusConfig) -> Self {
        Self { config, link: None }
    }

    async fn link(&mut self) -> Result<&Link, BusError> {
        if self.link.is_none() {
            let link = Link::open(&self.config, "publisher").await?;
            in_time(link.channel.confirm_select(ConfirmSelectOptions::default())).await?;
            self.link = Some(link);
        }
        Ok(self.link.as_ref().expect("just opened"))
    }

    async fn try_publish(&mut self, batch: &[OutboxEvent]) -> Result<Confirms, BusError> {
        let exchange = self.config.events_exchange();
        let link = self.link().await?;
        // The whole batch goes out before any confirm is awaited: awaiting each confirm before
        // the next publish caps throughput at a round trip per event.
        let mut pending = Vec::with_capacity(batch.len());
        for event in batch {
            let properties = BasicProperties::default()
                .with_content_type("application/json".into())
                .with_delivery_mode(2)
                .with_message_id(event.position.to_string().into())
                .with_type(event.event_type.as_str().into());
            let confirm = in_time(link.channel.basic_publish(
                exchange.as_str().into(),
                event.routing_key.as_str().into(),
                BasicPublishOptions::default(),
                &event.envelope,
                properties,
            ))
            .await?;
            pending.push((event.position, confirm));
        }
        Ok(Confirms { pending })
    }
}

impl Publish for AmqpPublisher {
    async fn publish(&mut self, batch: &[OutboxEvent]) -> Result<Confirms, BusError> {
        let result = self.try_publish(batch).await;
        if result.is_err() {
            if let Some(link) = self.link.take() {
                link.close().await;
            }
        }
        result
    }
}
