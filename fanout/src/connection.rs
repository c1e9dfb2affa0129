//! One socket, served by one task: admission, the catch-up a resume asks for, then a `select!`
//! over the client's frames, the room's stream, the keepalive timer and shutdown.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use api_kit::Chain;
use auth::{CurrentUser, TokenError};
use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use commands::{CommandError, NewMessage};
use domain::room::Actor;
use domain::RoomError;
use rand::Rng;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{timeout, Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite;
use uuid::Uuid;

use crate::backlog::Backlog;
use crate::frames::{self, ClientFrame, Dialect, PresentUser};
use crate::hub::{Delivery, Subscription};
use crate::store::RoomRecord;
use crate::FanoutState;

/// Frames longer than this (text or binary) are refused with Close 1009 and never stored.
pub const MAX_FRAME: usize = 64 * 1024;
/// The socket library's own cap, far above [`MAX_FRAME`]: it drops a connection without a close
/// frame, so frames up to here are read whole and refused by us, politely.
pub const HARD_FRAME_CAP: usize = 1024 * 1024;
/// A write that cannot complete for this long means the client stopped reading.
const WRITE_STALL: Duration = Duration::from_secs(5);
/// How long a closing handshake may take before the connection is simply dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(2);
/// Typing notices from one socket are passed on at most this often.
const TYPING_EVERY: Duration = Duration::from_secs(1);

/// Close codes of the endpoint (docs/websocket.md lists them for clients).
pub mod close {
    pub const GOING_AWAY: u16 = 1001;
    pub const TOO_BIG: u16 = 1009;
    pub const UNAVAILABLE: u16 = 1011;
    pub const RESTARTING: u16 = 1012;
    pub const BAD_REQUEST: u16 = 4000;
    pub const UNAUTHORIZED: u16 = 4001;
    pub const FORBIDDEN: u16 = 4003;
    pub const NOT_FOUND: u16 = 4004;
    pub const TOO_SLOW: u16 = 4008;
}

/// Why a session ends.
#[derive(Debug)]
enum End {
    /// We close, with a code and reason the client can act on.
    Close(u16, Cow<'static, str>),
    /// The client closed, or the connection is gone: nothing more to say.
    Gone,
}

impl End {
    fn close(code: u16, reason: impl Into<Cow<'static, str>>) -> Self {
        Self::Close(code, reason.into())
    }

    fn too_slow() -> Self {
        Self::close(close::TOO_SLOW, "too slow: resume with since")
    }

    fn unavailable() -> Self {
        Self::close(
            close::UNAVAILABLE,
            "temporarily unavailable: resume with since",
        )
    }
}

/// What the upgrade request asked for, parsed but not yet checked against the store.
#[derive(Debug)]
pub struct Request {
    pub room: String,
    pub token: Option<String>,
    pub dialect: Dialect,
    pub since: Option<u64>,
    pub request_id: Option<String>,
}

/// Serves one upgraded socket to its end. A refused socket gets one frame: the close frame.
pub async fn run(state: FanoutState, mut socket: WebSocket, request: Result<Request, String>) {
    let admitted = match request {
        Ok(request) => admit(&state, request).await,
        Err(detail) => Err(End::close(close::BAD_REQUEST, detail)),
    };
    let end = match admitted {
        Ok(admission) => {
            let mut connection = Connection::new(state, socket, admission);
            let end = connection.session().await;
            socket = connection.socket;
            end
        }
        Err(end) => end,
    };
    if let End::Close(code, reason) = end {
        close_politely(&mut socket, code, reason).await;
    }
}

struct Admission {
    user: CurrentUser,
    room_id: Uuid,
    dialect: Dialect,
    subscription: Subscription,
    /// The room's latest sequence when the socket was admitted.
    last_seq: i64,
    since: Option<i64>,
    request_id: Option<String>,
}

/// Token, room and membership, decided from the Room aggregate itself: a socket opened right
/// after a REST join is admitted, whatever the read tables say yet.
async fn admit(state: &FanoutState, request: Request) -> Result<Admission, End> {
    let token = request
        .token
        .ok_or_else(|| End::close(close::UNAUTHORIZED, "missing token"))?;
    let user = CurrentUser::from_token(&state.tokens, &token).map_err(|error| match error {
        TokenError::Expired => End::close(close::UNAUTHORIZED, "token expired"),
        TokenError::Invalid => End::close(close::UNAUTHORIZED, "invalid token"),
    })?;
    let room_id = Uuid::parse_str(&request.room)
        .map_err(|_| End::close(close::NOT_FOUND, RoomError::NotFound.to_string()))?;
    // Subscribed before the aggregate is read: whatever commits after the read arrives live.
    let subscription = state.hub.subscribe(room_id);
    let room = state.commands.load_room(room_id).await.map_err(|error| {
        tracing::warn!(%room_id, cause = %Chain(&error), "cannot read the room to admit a socket");
        End::unavailable()
    })?;
    if room.info().is_none() {
        return Err(End::close(
            close::NOT_FOUND,
            RoomError::NotFound.to_string(),
        ));
    }
    if !room.is_member(user.id) {
        return Err(End::close(
            close::FORBIDDEN,
            RoomError::NotAMember.to_string(),
        ));
    }
    let last_seq = room.last_seq() as i64;
    subscription.seen(last_seq);
    Ok(Admission {
        user,
        room_id,
        dialect: request.dialect,
        subscription,
        last_seq,
        since: request.since.map(|since| (since as i64).min(last_seq)),
        request_id: request.request_id,
    })
}

struct Connection {
    state: FanoutState,
    socket: WebSocket,
    subscription: Subscription,
    user: CurrentUser,
    me: PresentUser,
    room_id: Uuid,
    dialect: Dialect,
    /// The last room sequence this socket has been given (or chose to skip): each sequence
    /// reaches it once, in order.
    cursor: i64,
    since: Option<i64>,
    request_id: Option<String>,
    last_heard: Instant,
    last_typing: Option<Instant>,
}

/// One turn of the session loop.
enum Step {
    Incoming(Option<Result<Message, axum::Error>>),
    Delivery(Result<Arc<Delivery>, RecvError>),
    Ping,
    Shutdown,
}

impl Connection {
    fn new(state: FanoutState, socket: WebSocket, admission: Admission) -> Self {
        let me = PresentUser {
            user_id: admission.user.id,
            username: admission.user.username.clone(),
        };
        Self {
            state,
            socket,
            subscription: admission.subscription,
            user: admission.user,
            me,
            room_id: admission.room_id,
            dialect: admission.dialect,
            cursor: admission.since.unwrap_or(admission.last_seq),
            since: admission.since,
            request_id: admission.request_id,
            last_heard: Instant::now(),
            last_typing: None,
        }
    }

    async fn session(&mut self) -> End {
        match self.serve().await {
            Ok(never) => match never {},
            Err(end) => end,
        }
    }

    async fn serve(&mut self) -> Result<std::convert::Infallible, End> {
        if self.since.is_some() {
            self.catch_up().await?;
        }
        let everyone = self.subscription.announce(self.me.clone());
        if self.dialect == Dialect::V2 {
            self.write(frames::presence(self.room_id, &everyone))
                .await?;
        }
        // Spread the pings of sockets that opened together.
        let every = self.state.keepalive.ping_every;
        let first_ping = every.mul_f64(rand::rng().random_range(0.5..1.5));
        let mut ping = tokio::time::interval_at(Instant::now() + first_ping, every);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let shutdown = self.state.shutdown.clone();
        loop {
            let step = tokio::select! {
                incoming = self.socket.recv() => Step::Incoming(incoming),
                delivery = self.subscription.recv() => Step::Delivery(delivery),
                _ = ping.tick() => Step::Ping,
                () = shutdown.cancelled() => Step::Shutdown,
            };
            match step {
                Step::Incoming(incoming) => self.on_incoming(incoming).await?,
                // Missed some (this socket subscribed while they were under way): the store has
                // them, and this one too.
                Step::Delivery(Ok(delivery))
                    if delivery.seq.is_some_and(|seq| seq > self.cursor + 1) =>
                {
                    self.catch_up().await?
                }
                Step::Delivery(Ok(delivery)) => self.deliver(&delivery).await?,
                Step::Delivery(Err(RecvError::Lagged(_))) => return Err(End::too_slow()),
                Step::Delivery(Err(RecvError::Closed)) | Step::Shutdown => {
                    return Err(End::close(
                        close::RESTARTING,
                        "server restarting: resume with since",
                    ))
                }
                Step::Ping => self.keepalive().await?,
            }
        }
    }

    async fn on_incoming(
        &mut self,
        incoming: Option<Result<Message, axum::Error>>,
    ) -> Result<(), End> {
        let message = match incoming {
            None => return Err(End::Gone),
            Some(Err(error)) => return Err(read_failure(error)),
            Some(Ok(message)) => message,
        };
        self.last_heard = Instant::now();
        match message {
            Message::Text(text) if text.len() > MAX_FRAME => Err(too_big()),
            Message::Binary(data) if data.len() > MAX_FRAME => Err(too_big()),
            Message::Text(text) => self.on_text(text).await,
            Message::Binary(_) => {
                self.refuse(
                    "unsupported_frame",
                    "Binary frames are not supported: send text",
                    None,
                    None,
                )
                .await
            }
            // The socket library answers pings itself; either kind proves the client is there.
            Message::Ping(_) | Message::Pong(_) => Ok(()),
            Message::Close(_) => Err(End::Gone),
        }
    }

    async fn on_text(&mut self, text: Utf8Bytes) -> Result<(), End> {
        if self.dialect == Dialect::V1 {
            // The seed's dialect: every text frame is a message, JSON-looking or not.
            return Box::pin(self.post(text.as_str(), None)).await;
        }
        match ClientFrame::parse(text.as_str()) {
            Ok(ClientFrame::Send {
                content,
                client_msg_id,
            }) => Box::pin(self.post(&content, client_msg_id.as_deref())).await,
            Ok(ClientFrame::Typing) => {
                let now = Instant::now();
                if self
                    .last_typing
                    .is_none_or(|last| now.duration_since(last) >= TYPING_EVERY)
                {
                    self.last_typing = Some(now);
                    self.subscription.typing(&self.me);
                }
                Ok(())
            }
            Ok(ClientFrame::Ping) => self.write(frames::pong()).await,
            Ok(ClientFrame::Resume { since }) => {
                self.cursor = self.cursor.min(since);
                self.catch_up().await
            }
            Err(detail) => self.refuse("invalid_frame", &detail, None, None).await,
        }
    }

    /// Posts through the same command path as `POST /rooms/{id}/messages`: durable before anyone
    /// sees it, idempotent by `client_msg_id`, under the same per-user rate limit.
    async fn post(&mut self, content: &str, client_msg_id: Option<&str>) -> Result<(), End> {
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
    async fn refuse(
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

    /// Gives the socket one delivery, unless it had that room event already.
    async fn deliver(&mut self, delivery: &Delivery) -> Result<(), End> {
        if let Some(seq) = delivery.seq {
            if seq <= self.cursor {
                return Ok(());
            }
            self.cursor = seq;
        }
        let frame = match self.dialect {
            Dialect::V1 => delivery.v1.clone(),
            Dialect::V2 if delivery.origin == Some(self.subscription.id()) => None,
            Dialect::V2 => delivery.v2.clone(),
        };
        if let Some(frame) = frame {
            self.write(frame).await?;
        }
        if delivery.departed == Some(self.user.id) {
            return Err(End::close(
                close::FORBIDDEN,
                "You are no longer a member of this room",
            ));
        }
        Ok(())
    }

    /// Gives the socket everything after its cursor from the store, then hands over to the live
    /// stream. Whatever the stream held before each read is skipped (that read covers it); what
    /// arrives after the last one is newer, and follows in order.
    async fn catch_up(&mut self) -> Result<(), End> {
        let mut backlog = Backlog::after(self.room_id, self.cursor);
        while !backlog.is_finished() {
            self.subscription.skip_buffered();
            let page = backlog
                .next_page(self.state.hub.pool())
                .await
                .map_err(|error| {
                    tracing::warn!(room_id = %self.room_id, %error, "catch-up read failed");
                    End::unavailable()
                })?;
            for record in &page {
                self.deliver(&Delivery::event(record)).await?;
            }
        }
        Ok(())
    }

    async fn keepalive(&mut self) -> Result<(), End> {
        if self.last_heard.elapsed() >= self.state.keepalive.idle_after {
            return Err(End::close(close::GOING_AWAY, "no answer to ping"));
        }
        self.send(Message::Ping(Bytes::new())).await
    }

    async fn write(&mut self, frame: Utf8Bytes) -> Result<(), End> {
        self.send(Message::Text(frame)).await
    }

    async fn send(&mut self, message: Message) -> Result<(), End> {
        match timeout(WRITE_STALL, self.socket.send(message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(End::Gone),
            Err(_) => Err(End::too_slow()),
        }
    }
}

fn too_big() -> End {
    End::close(close::TOO_BIG, "frame over 64 KiB")
}

/// A read error ends the session; one over the socket library's own cap still gets our 1009.
fn read_failure(error: axum::Error) -> End {
    let too_long = error
        .into_inner()
        .downcast::<tungstenite::Error>()
        .is_ok_and(|error| matches!(*error, tungstenite::Error::Capacity(_)));
    if too_long {
        too_big()
    } else {
        End::Gone
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

/// Sends the close frame and waits (briefly) for the client's answer, so that the frame is not
/// lost to a connection reset; a client that does not read is simply dropped.
async fn close_politely(socket: &mut WebSocket, code: u16, reason: Cow<'static, str>) {
    let frame = CloseFrame {
        code,
        reason: Utf8Bytes::from(reason.into_owned()),
    };
    if let Ok(Ok(())) = timeout(CLOSE_GRACE, socket.send(Message::Close(Some(frame)))).await {
        let _ = timeout(CLOSE_GRACE, async {
            while let Some(Ok(_)) = socket.recv().await {}
        })
        .await;
    }
}
