use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use lapin::options::{QueueBindOptions, QueueDeclareOptions};
use lapin::types::{FieldTable, ShortString};
use lapin::{Channel, Connection, ConnectionProperties, Event};
use tokio::sync::watch;

use crate::{BusConfig, BusError, Topology};

/// How long one attempt to reach the broker, or one answer from it, may take. A broker behind a
/// dead link would otherwise leave a caller waiting for TCP to give up.
pub(crate) const ANSWER_TIMEOUT: Duration = Duration::from_secs(5);

/// Awaits `future`, failing with [`BusError::Timeout`] past [`ANSWER_TIMEOUT`].
pub(crate) async fn in_time<T>(
    future: impl Future<Output = Result<T, lapin::Error>>,
) -> Result<T, BusError> {
    tokio::time::timeout(ANSWER_TIMEOUT, future)
        .await
        .map_err(|_| BusError::Timeout(ANSWER_TIMEOUT))?
        .map_err(BusError::from)
}

/// A connection with the system's topology declared on it.
///
/// Reconnection is ours rather than lapin's `enable_auto_recover`: every user of the bus drops
/// the whole connection on any error and dials again with backoff. That one path covers a
/// broker that is down at start, one that comes back after lapin's retries ran out, and the
/// fan-out node's server-named queue, whose new name after a reconnect must be bound again; and
/// each user learns of the reconnect (the node must gap-fill, the publisher must resend).
pub(crate) struct Link {
    pub(crate) connection: Connection,
    pub(crate) channel: Channel,
    /// The connection's failure, once it failed; listened for from the start, so that none is
    /// missed.
    failure: watch::Receiver<Option<lapin::Error>>,
}

impl Link {
    pub(crate) async fn open(config: &BusConfig, purpose: &str) -> Result<Self, BusError> {
        let properties = ConnectionProperties::default()
            .with_connection_name(format!("{} {purpose}", config.prefix).into());
        let connection = in_time(Connection::connect(&config.amqp_url, properties)).await?;
        let failure = watch_for_failure(&connection);
        let channel = in_time(connection.create_channel()).await?;
        Topology::declare(&connection, &channel, config).await?;
        Ok(Self {
            connection,
            channel,
            failure,
        })
    }

    /// Answers once the connection failed. A user waiting for something else (a delivery, an
    /// acknowledgement the broker will never see) races it against this, so a lost broker is
    /// noticed at once rather than when that wait times out.
    pub(crate) async fn failed(&mut self) -> BusError {
        match self.failure.wait_for(Option::is_some).await {
            Ok(failure) => BusError::Amqp(failure.clone().expect("waited for it")),
            Err(_) => BusError::ConnectionClosed,
        }
    }

    /// A queue of this connection's own (exclusive, named by the broker, deleted with the
    /// connection) bound to `exchange` with `routing_key`: what a listener that only wants what
    /// is routed while it is connected reads from. Answers the queue's name.
    pub(crate) async fn own_queue(
        &self,
        exchange: &str,
        routing_keys: &[&str],
    ) -> Result<ShortString, BusError> {
        let queue = in_time(self.channel.queue_declare(
            "".into(),
            QueueDeclareOptions::exclusive().auto_delete(),
            FieldTable::default(),
        ))
        .await?;
        for routing_key in routing_keys {
            in_time(self.channel.queue_bind(
                queue.name().clone(),
                exchange.into(),
                (*routing_key).into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            ))
            .await?;
        }
        Ok(queue.name().clone())
    }

    pub(crate) async fn close(self) {
        // A link is closed because it failed, or at shutdown: either way the answer is moot.
        let _ = tokio::time::timeout(
            Duration::from_millis(500),
            self.connection.close(200, "closing".into()),
        )
        .await;
    }
}

/// The first failure of `connection`, published as it happens. The listening task ends with the
/// connection's events, when the connection is gone.
fn watch_for_failure(connection: &Connection) -> watch::Receiver<Option<lapin::Error>> {
    let (failed, failure) = watch::channel(None);
    let mut events = connection.events_listener();
    tokio::spawn(async move {
        while let Some(event) = events.next().await {
            if let Event::Error(error) = event {
                failed.send_replace(Some(error));
                return;
            }
        }
    });
    failure
}
