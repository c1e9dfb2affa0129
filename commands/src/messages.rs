//! Posting messages: the one write path for them, REST and WebSocket alike.

use chrono::{DateTime, Utc};
use domain::room::Actor;
use domain::values::{ClientMsgId, InvalidValue, MessageBody};
use domain::{Room, RoomCommand, RoomEvent};
use eventstore::EventEnvelope;
use uuid::Uuid;

use crate::state::metadata;
use crate::{sent, CommandError, Commands};

/// A message to post, validated.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub body: MessageBody,
    /// The sender's own id for it: posting it again answers the original message.
    pub client_msg_id: Option<ClientMsgId>,
}

impl NewMessage {
    pub fn parse(content: &str, client_msg_id: Option<&str>) -> Result<Self, InvalidValue> {
        Ok(Self {
            body: MessageBody::parse(content)?,
            client_msg_id: client_msg_id.map(ClientMsgId::parse).transpose()?,
        })
    }
}

/// A message in its room, from the committed `MessagePosted` event.
#[derive(Debug, Clone, PartialEq)]
pub struct PostedMessage {
    pub room_id: Uuid,
    /// Its position in the room: gapless and ordered.
    pub seq: usize,
    pub message_id: Uuid,
    pub user_id: Uuid,
    pub username: String,
    pub content: String,
    pub client_msg_id: Option<String>,
    pub posted_at: DateTime<Utc>,
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
        self.send_limit.check(&sender.user_id.to_string())?;
        let NewMessage {
            body,
            client_msg_id,
        } = message;
        if let Some(id) = &client_msg_id {
            let earlier = sent::earlier_send(&self.pool, room_id, sender.user_id, id.as_str());
            if let Some(seq) = earlier.await? {
                return self.original(room_id, seq).await;
            }
        }
        let mut metadata = metadata(sender, request_id);
        metadata.client_msg_id = client_msg_id.as_ref().map(|id| id.to_string());
        let command = RoomCommand::PostMessage {
            sender: sender.clone(),
            message_id: Uuid::new_v4(),
            body,
            client_msg_id: client_msg_id.clone(),
            at: eventstore::now(),
        };
        let aggregate_id = room_id.to_string();
        let sender_id = sender.user_id;
        // A send still in flight when its retry was looked up above is not in the table yet;
        // the room's own window of recent ids catches it.
        let (events, earlier_send) = self
            .rooms
            .execute_with(&aggregate_id, command, &metadata, move |room| {
                let id = client_msg_id.as_ref()?;
                room.recent_send(sender_id, id.as_str())
                    .map(|send| send.seq)
            })
            .await?;
        if let Some(posted) = events.into_iter().next() {
            return Ok(posted_message(room_id, posted, false));
        }
        let seq = earlier_send.expect("a post that records nothing repeats an earlier send");
        self.original(room_id, seq).await
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
    let RoomEvent::MessagePosted {
        message_id,
        user_id,
        username,
        content,
        client_msg_id,
        posted_at,
    } = &envelope.payload
    else {
        unreachable!("a post records MessagePosted")
    };
    PostedMessage {
        room_id,
        seq: envelope.sequence,
        message_id: *message_id,
        user_id: *user_id,
        username: username.clone(),
        content: content.clone(),
        client_msg_id: client_msg_id.clone(),
        posted_at: *posted_at,
        repeat,
        event: envelope.payload,
    }
}
