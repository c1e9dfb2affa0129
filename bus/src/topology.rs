use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicGetOptions, BasicPublishOptions, ConfirmSelectOptions,
    ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions, QueueDeclareOptions,
    QueueDeleteOptions,
};
use lapin::protocol::{AMQPErrorKind, AMQPSoftError};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection, ExchangeKind};

use crate::connection::{in_time, Link};
use crate::{BusConfig, BusError, EventEnvelope, RETRY_HEADER};

/// The header that carries why the projector could not apply a dead-lettered event.
pub const ERROR_HEADER: &str = "x-chat-error";

/// The exchanges and queues of one system, all named after its prefix.
#[derive(Debug)]
pub struct Topology;

impl Topology {
    /// Declares everything, idempotently: every role that uses the broker does so at start-up,
    /// so no start order between them matters and no event is routed into the void.
    pub async fn declare(
        connection: &Connection,
        channel: &Channel,
        config: &BusConfig,
    ) -> Result<(), BusError> {
        let durable_exchange = ExchangeDeclareOptions {
            durable: true,
            ..ExchangeDeclareOptions::default()
        };
        let events = config.events_exchange();
        let dead_letters = config.dead_letter_queue();
        let projector = config.projector_queue();
        in_time(channel.exchange_declare(
            events.as_str().into(),
            ExchangeKind::Topic,
            durable_exchange,
            FieldTable::default(),
        ))
        .await?;
        in_time(channel.exchange_declare(
            dead_letters.as_str().into(),
            ExchangeKind::Fanout,
            durable_exchange,
            FieldTable::default(),
        ))
        .await?;
        declare_dead_letter_queue(connection, config).await?;
        in_time(channel.queue_bind(
            dead_letters.as_str().into(),
            dead_letters.as_str().into(),
            "".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        ))
        .await?;
        // A message the projector rejects outright (it never does on purpose) still lands in
        // the dead-letter queue rather than being dropped.
        let mut arguments = FieldTable::default();
        arguments.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString(dead_letters.as_str().into()),
        );
        in_time(channel.queue_declare(
            projector.as_str().into(),
            QueueDeclareOptions::durable(),
            arguments,
        ))
        .await?;
        in_time(channel.queue_bind(
            projector.as_str().into(),
            events.as_str().into(),
            "#".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        ))
        .await?;
        let webhooks = config.webhooks_queue();
        in_time(channel.queue_declare(
            webhooks.as_str().into(),
            QueueDeclareOptions::durable(),
            FieldTable::default(),
        ))
        .await?;
        // Changes of webhooks always; a room's events only once it has a webhook (the worker
        // binds `Room.<id>.#` then), so rooms without one cost the worker nothing. Earlier
        // versions bound every room's events: that binding goes.
        in_time(channel.queue_bind(
            webhooks.as_str().into(),
            events.as_str().into(),
            "RoomWebhooks.#".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        ))
        .await?;
        in_time(channel.queue_unbind(
            webhooks.as_str().into(),
            events.as_str().into(),
            "Room.#".into(),
            FieldTable::default(),
        ))
        .await?;
        Ok(())
    }

    /// Deletes every exchange and queue of `config`'s prefix, with whatever they hold: for
    /// systems that are gone for good, such as a finished test's.
    pub async fn delete(config: &BusConfig) -> Result<(), BusError> {
        let connection =
            lapin::Connection::connect(&config.amqp_url, lapin::ConnectionProperties::default());
        let connection = in_time(connection).await?;
        let channel = in_time(connection.create_channel()).await?;
        for queue in [
            config.projector_queue(),
            config.webhooks_queue(),
            config.dead_letter_queue(),
        ] {
            in_time(channel.queue_delete(queue.into(), QueueDeleteOptions::default())).await?;
        }
        for exchange in [config.events_exchange(), config.dead_letter_queue()] {
            in_time(channel.exchange_delete(exchange.into(), ExchangeDeleteOptions::default()))
                .await?;
        }
        let _ = in_time(connection.close(200, "deleted".into())).await;
        Ok(())
    }
}

/// Declares the dead-letter queue with its length limit. Past the limit the oldest letter is
/// dropped (`drop-head`) rather than the new one refused: a refusal would stop the projector at
/// its next event it cannot apply, while a dropped letter loses only the note (the event stays in
/// the store, and `chat verify` shows what the tables lack).
///
/// A queue declared with other arguments (by a version without the limit, or with another
/// limit) makes the broker refuse the declaration and close the channel; so it is declared on a
/// channel of its own, and such a queue is used as it is, with a warning.
async fn declare_dead_letter_queue(
    connection: &Connection,
    config: &BusConfig,
) -> Result<(), BusError> {
    let queue = config.dead_letter_queue();
    let mut arguments = FieldTable::default();
    if config.dead_letter_limit > 0 {
        arguments.insert(
            "x-max-length".into(),
            AMQPValue::LongLongInt(i64::from(config.dead_letter_limit)),
        );
        arguments.insert(
            "x-overflow".into(),
            AMQPValue::LongString("drop-head".into()),
        );
    }
    let channel = in_time(connection.create_channel()).await?;
    let declared = in_time(channel.queue_declare(
        queue.as_str().into(),
        QueueDeclareOptions::durable(),
        arguments,
    ))
    .await;
    match declared {
        Ok(_) => {
            let _ = in_time(channel.close(200, "declared".into())).await;
            Ok(())
        }
        Err(BusError::Amqp(error)) if declared_otherwise(&error) => {
            tracing::warn!(
                queue,
                "the dead-letter queue keeps the limits it was declared with; delete it (after \
                 `chat dlq list`) to apply CHAT_DLQ_MAX_LENGTH"
            );
            Ok(())
        }
        Err(error) => Err(error),
    }
}

fn declared_otherwise(error: &lapin::Error) -> bool {
    matches!(
        error.kind(),
        lapin::ErrorKind::ProtocolError(error)
            if matches!(error.kind(), AMQPErrorKind::Soft(AMQPSoftError::PRECONDITIONFAILED))
    )
}

/// An event the projector could not apply.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub routing_key: String,
    /// Why it was dead-lettered.
    pub reason: String,
    /// The envelope, when the body is one.
    pub envelope: Option<EventEnvelope>,
}

/// The oldest events of the dead-letter queue, and how many wait in all.
#[derive(Debug, Clone)]
pub struct DeadLetterPage {
    /// Oldest first.
    pub letters: Vec<DeadLetter>,
    /// Every event in the queue, those in `letters` included.
    pub waiting: u32,
}

/// Up to `limit` of the events waiting in the dead-letter queue, oldest first. They stay there:
/// a queue of any length is read a page at a time.
pub async fn dead_letters(config: &BusConfig, limit: usize) -> Result<DeadLetterPage, BusError> {
    let link = Link::open(config, "dlq list").await?;
    let queue = config.dead_letter_queue();
    let waiting = waiting(&link.channel, &queue).await?;
    let mut letters = Vec::new();
    // Taken without acknowledging: closing the connection puts every one of them back.
    while letters.len() < limit {
        let Some(delivery) = take_one(&link.channel, &queue).await? else {
            break;
        };
        letters.push(DeadLetter {
            routing_key: delivery.routing_key.to_string(),
            reason: reason(&delivery.properties),
            envelope: serde_json::from_slice(&delivery.data).ok(),
        });
    }
    link.close().await;
    Ok(DeadLetterPage { letters, waiting })
}

/// The next message of `queue`, taken without acknowledging it yet; `None` when it is empty.
async fn take_one(channel: &Channel, queue: &str) -> Result<Option<Delivery>, BusError> {
    let message = in_time(channel.basic_get(queue.into(), BasicGetOptions::default())).await?;
    Ok(message.map(|message| message.delivery))
}

/// How many messages `queue` holds (those delivered and not acknowledged aside).
pub(crate) async fn waiting(channel: &Channel, queue: &str) -> Result<u32, BusError> {
    let declared = in_time(channel.queue_declare(
        queue.into(),
        QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        },
        FieldTable::default(),
    ))
    .await?;
    Ok(declared.message_count())
}

/// Moves every dead-lettered event back to the projector's queue, marked as a retry so the
/// projector applies it even though it has moved past it. Answers how many were moved.
pub async fn retry_dead_letters(config: &BusConfig) -> Result<usize, BusError> {
    let link = Link::open(config, "dlq retry").await?;
    let queue = config.dead_letter_queue();
    in_time(link.channel.confirm_select(ConfirmSelectOptions::default())).await?;
    // Only those waiting now: one that fails again comes back and must not be retried forever.
    let waiting = waiting(&link.channel, &queue).await?;
    let mut moved = 0;
    for _ in 0..waiting {
        let Some(delivery) = take_one(&link.channel, &queue).await? else {
            break;
        };
        let mut headers = delivery.properties.headers().clone().unwrap_or_default();
        headers.insert(RETRY_HEADER.into(), AMQPValue::Boolean(true));
        let confirm = in_time(link.channel.basic_publish(
            "".into(),
            config.projector_queue().as_str().into(),
            BasicPublishOptions::default(),
            &delivery.data,
            delivery.properties.clone().with_headers(headers),
        ))
        .await?;
        if !in_time(confirm).await?.is_ack() {
            return Err(BusError::Nacked(delivery.routing_key.to_string()));
        }
        in_time(
            link.channel
                .basic_ack(delivery.delivery_tag, BasicAckOptions::default()),
        )
        .await?;
        moved += 1;
    }
    link.close().await;
    Ok(moved)
}

fn reason(properties: &BasicProperties) -> String {
    match properties
        .headers()
        .as_ref()
        .and_then(|headers| headers.inner().get(ERROR_HEADER))
    {
        Some(AMQPValue::LongString(reason)) => reason.to_string(),
        Some(other) => format!("{other:?}"),
        None => "rejected without a reason".to_owned(),
    }
}
