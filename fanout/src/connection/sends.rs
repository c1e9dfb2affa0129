//! A socket's sends: the same use case as `POST /rooms/{id}/messages`, answered in the socket's
//! dialect. Several are under way at once, so the room's worker commits them together (group
//! commit) while the session goes on delivering the room's stream; they are decided and answered
//! in the order the client sent them.

use std::future::{self, Future};

use api_kit::Chain;
use axum::extract::ws::Utf8Bytes;
use commands::{CommandError, NewMessage, PostedMessage, SendTurn};
use domain::room::Actor;
use futures::future::BoxFuture;
use futures::stream::FuturesOrdered;
use futures::{FutureExt, StreamExt};

use super::session::Connection;
use super::End;
use crate::frames::{self, Dialect};
use crate::store::RoomRecord;

/// Frames of one socket answered or being answered at once; at this many the session reads no
/// more of the socket until the oldest is answered.
pub const MAX_SENDS_IN_FLIGHT: usize = 64;

/// What a socket owes its client for the frames it read: sends being committed, and refusals
/// and pongs behind them, answered in the order the frames came.
#[derive(Default)]
pub(super) struct Answers {
    pending: FuturesOrdered<BoxFuture<'static, Answer>>,
    /// What the next send waits for before it is queued for the room: the last send's turn.
    last_turn: Option<tokio::sync::oneshot::Receiver<()>>,
}

pub(super) enum Answer {
    /// A send, committed or refused (boxed: a committed message is large beside a frame).
    Posted {
        outcome: Box<Result<PostedMessage, CommandError>>,
        client_msg_id: Option<String>,
    },
    /// A frame ready at once, sent once the answers before it are.
    Frame(Utf8Bytes),
}

impl Answers {
    /// Whether the session may read another frame of the client.
    pub(super) fn have_room(&self) -> bool {
        self.pending.len() < MAX_SENDS_IN_FLIGHT
    }

    /// The oldest answer, once it is ready; `None` when nothing is owed.
    pub(super) async fn next(&mut self) -> Option<Answer> {
        self.pending.next().await
    }

    /// Starts a send. Its first poll, here, queues the command for the room's worker (the
    /// executor queues on its first poll, before it awaits anything), so the room decides this
    /// socket's sends in the order they came, whatever order their answers are polled in later.
    fn start(&mut self, send: impl Future<Output = Answer> + Send + 'static) {
        let mut send = send.boxed();
        match (&mut send).now_or_never() {
            Some(answer) => self.pending.push_back(future::ready(answer).boxed()),
            None => self.pending.push_back(send),
        }
    }

    pub(super) fn frame(&mut self, frame: Utf8Bytes) {
        self.pending
            .push_back(future::ready(Answer::Frame(frame)).boxed());
    }
}

impl Connection {
    /// Posts through the same command path as `POST /rooms/{id}/messages`: durable before anyone
    /// sees it, idempotent by `client_msg_id`, under the same per-user rate limit. The answer
    /// comes later, through [`Connection::answer`].
    pub(super) fn post(
        &mut self,
        content: &str,
        client_msg_id: Option<&str>,
        reply_to: Option<uuid::Uuid>,
    ) {
        let sender = Actor {
            user_id: self.user.id,
            username: self.user.username.clone(),
            is_bot: self.user.is_bot,
        };
        let message =
            NewMessage::parse(content, client_msg_id).map(|message| message.replying_to(reply_to));
        let commands = self.state.commands.clone();
        let (room_id, request_id) = (self.room_id, self.request_id.clone());
        let client_msg_id = client_msg_id.map(str::to_owned);
        let (turn, next) = SendTurn::after(self.answers.last_turn.take());
        self.answers.last_turn = Some(next);
        self.answers.start(async move {
            let outcome = match message {
                Ok(message) => {
                    commands
                        .post_message_in_turn(&sender, room_id, message, request_id, turn)
                        .await
                }
                Err(invalid) => Err(CommandError::from(invalid)),
            };
            Answer::Posted {
                outcome: Box::new(outcome),
                client_msg_id,
            }
        });
    }

    /// Gives the client one answer to its frames.
    pub(super) async fn answer(&mut self, answer: Answer) -> Result<(), End> {
        let (outcome, client_msg_id) = match answer {
            Answer::Frame(frame) => return self.write(frame).await,
            Answer::Posted {
                outcome,
                client_msg_id,
            } => (outcome, client_msg_id),
        };
        match *outcome {
            Ok(posted) => {
                if !posted.repeat {
                    // Committed, so this node's sockets of the room may see it now rather than
                    // after the relay and the broker; the broker's copy is then a duplicate.
                    self.state.hub.dispatch(&RoomRecord {
                        room_id: posted.room_id,
                        seq: posted.seq as i64,
                        event: posted.event,
                    });
                }
                if self.dialect == Dialect::V1 {
                    // v1 clients learn of their message when it comes back on the stream.
                    return Ok(());
                }
                self.write(frames::ack(
                    posted.message.message_id,
                    posted.seq as u64,
                    posted.message.client_msg_id.as_deref(),
                ))
                .await
            }
            Err(error) => {
                let (detail, retry_after) = refusal(&error);
                let frame =
                    self.refusal(error.code(), &detail, client_msg_id.as_deref(), retry_after);
                self.write(frame).await
            }
        }
    }

    /// Refuses a frame, after the answers owed before it.
    pub(super) fn refuse(&mut self, code: &str, detail: &str) {
        let frame = self.refusal(code, detail, None, None);
        self.answers.frame(frame);
    }

    /// An error frame (v2) or a system notice (v1, whose client shows nothing else).
    fn refusal(
        &self,
        code: &str,
        detail: &str,
        client_msg_id: Option<&str>,
        retry_after: Option<u64>,
    ) -> Utf8Bytes {
        match self.dialect {
            Dialect::V1 => frames::system(&format!("Not sent: {detail}")),
            Dialect::V2 => frames::error(code, detail, client_msg_id, retry_after),
        }
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
