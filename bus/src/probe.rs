//! Whether the broker answers, for a process's readiness, and how many events wait in the
//! dead-letter queue, for its metrics: one connection of its own, dialled again after any
//! failure, so a look costs a round trip, not a connection.

use lapin::{Channel, Connection, ConnectionProperties};
use tokio::sync::Mutex;

use crate::connection::in_time;
use crate::topology::waiting;
use crate::{BusConfig, BusError};

pub struct BrokerProbe {
    config: BusConfig,
    link: Mutex<Option<(Connection, Channel)>>,
}

impl BrokerProbe {
    /// Dials nothing yet: the first look does.
    pub fn new(config: BusConfig) -> Self {
        Self {
            config,
            link: Mutex::new(None),
        }
    }

    /// Answers once the broker has answered a request on this process's probe connection.
    pub async fn check(&self) -> Result<(), BusError> {
        let mut link = self.link.lock().await;
        let answer = async {
            let (connection, _) = self.connected(&mut link).await?;
            // Opening and closing a channel is a round trip that needs no queue or exchange.
            let channel = in_time(connection.create_channel()).await?;
            in_time(channel.close(200, "probed".into())).await
        }
        .await;
        forget_on_failure(&mut link, answer).await
    }

    /// How many events wait in the dead-letter queue.
    pub async fn dead_letters_waiting(&self) -> Result<u32, BusError> {
        let mut link = self.link.lock().await;
        let answer = async {
            let (_, channel) = self.connected(&mut link).await?;
            waiting(channel, &self.config.dead_letter_queue()).await
        }
        .await;
        forget_on_failure(&mut link, answer).await
    }

    /// The probe's connection, dialled first when there is none or it failed.
    async fn connected<'a>(
        &self,
        link: &'a mut Option<(Connection, Channel)>,
    ) -> Result<&'a (Connection, Channel), BusError> {
        let usable = link.as_ref().is_some_and(|(connection, channel)| {
            connection.status().connected() && channel.status().connected()
        });
        if !usable {
            close(link.take()).await;
            *link = Some(self.dial().await?);
        }
        Ok(link.as_ref().expect("just dialled"))
    }

    async fn dial(&self) -> Result<(Connection, Channel), BusError> {
        let properties = ConnectionProperties::default()
            .with_connection_name(format!("{} probe", self.config.prefix).into());
        let connection = in_time(Connection::connect(&self.config.amqp_url, properties)).await?;
        let channel = in_time(connection.create_channel()).await?;
        Ok((connection, channel))
    }
}

/// After a failed look the connection is dropped, so the next look dials again.
async fn forget_on_failure<T>(
    link: &mut Option<(Connection, Channel)>,
    answer: Result<T, BusError>,
) -> Result<T, BusError> {
    if answer.is_err() {
        close(link.take()).await;
    }
    answer
}

async fn close(link: Option<(Connection, Channel)>) {
    if let Some((connection, _)) = link {
        // It is dropped because it failed: how the close goes is moot.
        let _ = tokio::time::timeout(
            std::time::Duration::from_millis(500),
            connection.close(200, "probe closing".into()),
        )
        .await;
    }
}
