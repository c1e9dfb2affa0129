//! Posting messages: the one write path for them, REST and WebSocket alike.

use domain::room::Actor;
use domain::values::{ClientMsgId, InvalidValue, MessageBody};
use domain::{MessagePosted, Room, RoomCommand, RoomEvent};
use eventstore::{EventEnvelope, ExecuteError};
use std::future::Future;

use tokio::sync::oneshot;
use uuid::Uuid;

use crate::sent::earlier_send;
use crate::state::metadata;
use crate::{CommandError, Commands};

/// A message to post, validated.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub body: MessageBody,
    /// The sender's own id for it: posting it again answers the original message.
    pub client_msg_id: Option<ClientMsgId>,
    /// The message of the same room it answers.
    pub reply_to: Option<Uuid>,
}

impl NewMessage {
    pub fn parse(content: &str, client_msg_id: Option<&str>) -> Result<Self, InvalidValue> {
        Ok(Self {
            body: MessageBody::parse(content)?,
            client_msg_id: client_msg_id.map(ClientMsgId::parse).transpose()?,
            reply_to: None,
        })
    }

    /// The same message, answering `reply_to`.
    pub fn replying_to(self, reply_to: Option<Uuid>) -> Self {
        Self { reply_to, ..self }
    }
}

/// A message in its room, from the committed `MessagePosted` event.
#[derive(Debug, Clone, PartialEq)]
pub struct PostedMessage {
    pub room_id: Uuid,
    /// Its position in the room: gapless and ordered.
    pub seq: usize,
    pub message: MessagePosted,
    /// The sender had already posted this `client_msg_id`: this is that message, and nothing
    /// new was recorded.
    pub repeat: bool,
    /// The committed event itself, as the room's stream carries it.
    pub event: RoomEvent,
}

impl Commands {
    /// Posts `message` to the room for `sender`, under the sender's rate limit. It is durable
    /// when this answers; a `client_msg_id` the sender already used in the room within a day
    /// answers the original message.
    pub async fn post_message(
        &self,
        sender: &Actor,
        room_id: Uuid,
        message: NewMessage,
        request_id: Option<String>,
    ) -> Result<PostedMessage, CommandError> {
        self.post_message_in_turn(sender, room_id, message, request_id, SendTurn::first().0)
            .await
    }

    /// [`post_message`](Self::post_message) for a client with several sends under way (a
    /// socket): the checks before queuing (a reply's target) run at once, but each post is
    /// queued for the room only after the one before it in `turn`, so the room decides them in
    /// the order sent.
    pub async fn post_message_in_turn(
        &self,
        sender: &Actor,
        room_id: Uuid,
        message: NewMessage,
        request_id: Option<String>,
        turn: SendTurn,
    ) -> Result<PostedMessage, CommandError> {
        let SendTurn { previous, mine } = turn;
        let limit = if sender.is_bot {
            &self.bot_send_limit
        } else {
            &self.send_limit
        };
        limit.check(&sender.user_id.to_string())?;
        let NewMessage {
            body,
            client_msg_id,
            reply_to,
        } = message;
        if let Some(target) = reply_to {
            self.check_reply_target(room_id, target).await?;
        }
        let mut metadata = metadata(sender, request_id);
        metadata.client_msg_id = client_msg_id.as_ref().map(|id| id.to_string());
        let command = RoomCommand::PostMessage {
            sender: sender.clone(),
            message_id: Uuid::new_v4(),
            body,
            client_msg_id: client_msg_id.clone(),
            reply_to,
            at: eventstore::now(),
        };
        let aggregate_id = room_id.to_string();
        let sender_id = sender.user_id;
        let repeated_id = client_msg_id.clone();
        if let Some(previous) = previous {
            // Dropped or fired alike: the send before this one is queued, or will never be.
            let _ = previous.await;
        }
        let committing = self
            .rooms
            .execute_with(&aggregate_id, command, &metadata, move |room| {
                let id = client_msg_id.as_ref()?;
                room.recent_send(sender_id, id.as_str())
                    .map(|send| send.seq)
            });
        let mut committing = std::pin::pin!(committing);
        // The executor queues the command on its first poll; the next send may go after that.
        let first = std::future::poll_fn(|context| {
            std::task::Poll::Ready(committing.as_mut().poll(context))
        })
        .await;
        drop(mine);
        let committed = match first {
            std::task::Poll::Ready(answer) => answer,
            std::task::Poll::Pending => committing.await,
        };
        let (events, earlier_send) = match (committed, repeated_id) {
            // The room remembers its last sends' ids; the store refuses a repeat of an older one.
            (Err(ExecuteError::Refused(_)), Some(id)) => {
                return self.repeat_of_older_send(room_id, sender_id, &id).await;
            }
            (committed, _) => committed?,
        };
        if let Some(posted) = events.into_iter().next() {
            return Ok(posted_message(room_id, posted, false));
        }
        let seq = earlier_send.expect("a post that records nothing repeats an earlier send");
        self.original(room_id, seq).await
    }

    /// The answer to a send the store refused as a repeat: the message first sent with the id.
    async fn repeat_of_older_send(
        &self,
        room_id: Uuid,
        sender_id: Uuid,
        client_msg_id: &ClientMsgId,
    ) -> Result<PostedMessage, CommandError> {
        match earlier_send(&self.pool, room_id, sender_id, client_msg_id).await? {
            Some(seq) => self.original(room_id, seq).await,
            // Forgotten since it was refused, a day after it was sent: a retry posts it anew.
            None => Err(CommandError::Contended),
        }
    }

    /// The message at `seq` of the room, answered as the repeat of a send.
    async fn original(&self, room_id: Uuid, seq: usize) -> Result<PostedMessage, CommandError> {
        let original = self
            .rooms
            .event(&room_id.to_string(), seq)
            .await?
            .ok_or(CommandError::EventVanished { room_id, seq })?;
        Ok(posted_message(room_id, original, true))
    }
}

fn posted_message(room_id: Uuid, envelope: EventEnvelope<Room>, repeat: bool) -> PostedMessage {
    let RoomEvent::MessagePosted(message) = &envelope.payload else {
        unreachable!("a post records MessagePosted")
    };
    PostedMessage {
        room_id,
        seq: envelope.sequence,
        message: message.clone(),
        repeat,
        event: envelope.payload,
    }
}

/// A send's place among one client's sends: it is queued for the room after `previous` is,
/// and the next one waits for `mine` (sent by being dropped once this send is queued, or has
/// ended without being queued).
#[derive(Debug)]
pub struct SendTurn {
    previous: Option<oneshot::Receiver<()>>,
    mine: oneshot::Sender<()>,
}

impl SendTurn {
    /// The first send of a client; answers it and what the next send waits for.
    pub fn first() -> (Self, oneshot::Receiver<()>) {
        Self::after(None)
    }

    /// A send after the one whose turn ended in `previous`; answers it and what the next waits
    /// for.
    pub fn after(previous: Option<oneshot::Receiver<()>>) -> (Self, oneshot::Receiver<()>) {
        let (mine, next) = oneshot::channel();
        (Self { previous, mine }, next)
    }
}
