//! A socket's sends: the same use case as `POST /rooms/{id}/messages`, answered in the socket's
//! dialect.

use api_kit::Chain;
use commands::{CommandError, NewMessage};
use domain::room::Actor;

use super::session::Connection;
use super::End;
use crate::frames::{self, Dialect};
use crate::store::RoomRecord;

impl Connection {
    /// Posts through the same command path as `POST /rooms/{id}/messages`: durable before anyone
    /// sees it, idempotent by `client_msg_id`, under the same per-user rate limit.
    pub(super) async fn post(
        &mut self,
        content: &str,
        client_msg_id: Option<&str>,
    ) -> Result<(), End> {
        let sender = Actor {
            user_id: self.user.id,
            username: self.user.username.clone(),
        };
        let posted = match NewMessage::parse(content, client_msg_id) {
            Ok(message) => {
                let request_id = self.request_id.clone();
                self.state
                    .commands
                    .post_message(&sender, self.room_id, message, request_id)
                    .await
            }
            Err(invalid) => Err(CommandError::from(invalid)),
        };
        match posted {
            Ok(message) => {
                if !message.repeat {
                    // Committed, so this node's sockets of the room may see it now rather than
                    // after the relay and the broker; the broker's copy is then a duplicate.
                    self.state.hub.dispatch(&RoomRecord {
                        room_id: message.room_id,
                        seq: message.seq as i64,
                        event: message.event,
                    });
                }
                if self.dialect == Dialect::V1 {
                    // v1 clients learn of their message when it comes back on the stream.
                    return Ok(());
                }
                self.write(frames::ack(
                    message.message_id,
                    message.seq as u64,
                    message.client_msg_id.as_deref(),
                ))
                .await
            }
            Err(error) => {
                let (detail, retry_after) = refusal(&error);
                self.refuse(error.code(), &detail, client_msg_id, retry_after)
                    .await
            }
        }
    }

    /// An error frame (v2) or a system notice (v1, whose client shows nothing else).
    pub(super) async fn refuse(
        &mut self,
        code: &str,
        detail: &str,
        client_msg_id: Option<&str>,
        retry_after: Option<u64>,
    ) -> Result<(), End> {
        let frame = match self.dialect {
            Dialect::V1 => frames::system(&format!("Not sent: {detail}")),
            Dialect::V2 => frames::error(code, detail, client_msg_id, retry_after),
        };
        self.write(frame).await
    }
}

/// The detail and retry delay of a refused send; a fault is logged here, with its causes.
fn refusal(error: &CommandError) -> (String, Option<u64>) {
    match error {
        CommandError::RateLimited(limited) => {
            let seconds = limited.retry_after.as_secs_f64().ceil().max(1.0) as u64;
            (
                format!("Too many messages; retry in {seconds} s"),
                Some(seconds),
            )
        }
        CommandError::StoreUnreachable(_) | CommandError::Contended => {
            tracing::error!(cause = %Chain(error), "a WebSocket send failed");
            (
                "The service is temporarily unavailable; please retry".into(),
                None,
            )
        }
        CommandError::StoreFault(_) | CommandError::EventVanished { .. } => {
            tracing::error!(cause = %Chain(error), "a WebSocket send failed");
            ("Internal error; it has been logged".into(), None)
        }
        _ => (error.to_string(), None),
    }
}
