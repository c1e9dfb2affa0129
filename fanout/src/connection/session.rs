//! The session of an admitted socket: one `select!` loop, and the catch-up that gives a socket
//! what it missed before it goes on live. Reading the client and delivering the room are
//! independent: the client's sends commit while the loop goes on draining the room's stream.

use std::future::Future;
use std::sync::Arc;

use std::time::Duration;

use auth::{CurrentUser, TokenError};
use axum::body::Bytes;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use domain::RoomEvent;
use futures::future::BoxFuture;
use futures::{SinkExt, StreamExt};
use rand::Rng;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{timeout, Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite;
use uuid::Uuid;

use super::admission::Admission;
use super::sends::{Answer, Answers};
use super::{close, End, DELIVERY_BATCH, MAX_FRAME, TYPING_EVERY, WRITE_STALL};
use crate::backlog::Backlog;
use crate::caps::SocketPermit;
use crate::frames::{self, ClientFrame, Dialect, PresentUser};
use crate::hub::{Delivery, Subscription};
use crate::{store, FanoutError, FanoutState};

pub(super) struct Connection {
    pub(super) state: FanoutState,
    socket: WebSocket,
    pub(super) subscription: Subscription,
    pub(super) user: CurrentUser,
    pub(super) me: PresentUser,
    pub(super) room_id: Uuid,
    pub(super) dialect: Dialect,
    /// The last room sequence this socket has been given (or chose to skip): each sequence
    /// reaches it once, in order.
    pub(super) cursor: i64,
    pub(super) since: Option<i64>,
    pub(super) request_id: Option<String>,
    pub(super) last_heard: Instant,
    pub(super) last_typing: Option<Instant>,
    /// What the client is owed for its frames, in order.
    pub(super) answers: Answers,
    _permit: SocketPermit,
}

/// One turn of the session loop.
enum Step {
    Incoming(Option<Result<Message, axum::Error>>),
    Delivery(Result<Arc<Delivery>, RecvError>),
    Answer(Answer),
    Ping,
    Shutdown,
    /// Something was revoked: is the token still good?
    CheckToken,
    TokenExpired,
}

impl Connection {
    pub(super) fn new(state: FanoutState, socket: WebSocket, admission: Admission) -> Self {
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
            answers: Answers::default(),
            _permit: admission.permit,
        }
    }

    /// The socket, to close once the session ended; the rest of the connection (its room
    /// subscription, its place under the caps) is let go at once.
    pub(super) fn into_socket(self) -> WebSocket {
        self.socket
    }

    pub(super) async fn session(&mut self) -> End {
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
        // Made once, not on every turn of the loop: each would otherwise register with its
        // timer or waiter list anew for every message delivered.
        let shutdown = self.state.shutdown.clone().cancelled_owned();
        let revocations = futures::stream::unfold(
            self.state.tokens.revocations().changes(),
            |mut changes| async move { changes.changed().await.ok().map(|()| ((), changes)) },
        )
        .fuse();
        let expiry = tokio::time::sleep_until(token_expiry(&self.user.claims));
        tokio::pin!(shutdown, revocations, expiry);
        loop {
            let step = tokio::select! {
                // With too many answers owed, the client waits: its frames stay unread.
                incoming = self.socket.recv(), if self.answers.have_room() => {
                    Step::Incoming(incoming)
                }
                delivery = self.subscription.recv() => Step::Delivery(delivery),
                Some(answer) = self.answers.next() => Step::Answer(answer),
                _ = ping.tick() => Step::Ping,
                () = &mut shutdown => Step::Shutdown,
                Some(()) = revocations.next() => Step::CheckToken,
                () = &mut expiry => Step::TokenExpired,
            };
            match step {
                Step::Incoming(incoming) => self.on_incoming(incoming).await?,
                Step::Delivery(Ok(delivery)) => self.deliver_live(delivery).await?,
                Step::Answer(answer) => self.answer(answer).await?,
                Step::Delivery(Err(error)) => return Err(stream_failed(error)),
                Step::Shutdown => return Err(End::restarting()),
                Step::Ping => self.keepalive().await?,
                Step::CheckToken => self.check_token()?,
                Step::TokenExpired => {
                    return Err(End::close(
                        close::UNAUTHORIZED,
                        unauthorized_reason(&TokenError::Expired),
                    ))
                }
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
                );
                Ok(())
            }
            // The socket library answers pings itself; either kind proves the client is there.
            Message::Ping(_) | Message::Pong(_) => Ok(()),
            Message::Close(_) => Err(End::Gone),
        }
    }

    async fn on_text(&mut self, text: Utf8Bytes) -> Result<(), End> {
        if self.dialect == Dialect::V1 {
            // The seed's dialect: every text frame is a message, JSON-looking or not.
            self.post(text.as_str(), None, None);
            return Ok(());
        }
        match ClientFrame::parse(text.as_str()) {
            Ok(ClientFrame::Send {
                content,
                client_msg_id,
                reply_to,
            }) => self.post(&content, client_msg_id.as_deref(), reply_to),
            Ok(ClientFrame::Typing) => {
                let now = Instant::now();
                if self
                    .last_typing
                    .is_none_or(|last| now.duration_since(last) >= TYPING_EVERY)
                {
                    self.last_typing = Some(now);
                    self.subscription.typing(&self.me);
                }
            }
            Ok(ClientFrame::Ping) => self.answers.frame(frames::pong()),
            Ok(ClientFrame::Resume { since }) => {
                self.cursor = self.cursor.min(since);
                return self.catch_up().await;
            }
            Err(detail) => self.refuse("invalid_frame", &detail),
        }
        Ok(())
    }

    /// Gives the socket a delivery of the room's stream, and those the stream already holds
    /// behind it (up to [`DELIVERY_BATCH`]), written together: in a busy room one write carries
    /// many frames instead of one each.
    async fn deliver_live(&mut self, first: Arc<Delivery>) -> Result<(), End> {
        let mut next = Some(first);
        let mut batched = 0;
        while let Some(delivery) = next.take() {
            // Missed some (this socket subscribed while they were under way): the store has
            // them, and this one too.
            if delivery.seq.is_some_and(|seq| seq > self.cursor + 1) {
                self.flush().await?;
                return self.catch_up().await;
            }
            self.deliver(&delivery, true).await?;
            batched += 1;
            if batched < DELIVERY_BATCH {
                next = self.subscription.try_recv().map_err(stream_failed)?;
            }
        }
        self.flush().await
    }

    /// Queues one delivery for the socket, unless it had that room event already; the caller
    /// flushes. A `live` message's time from acceptance to this socket is measured; one read
    /// back from the store is not (its age says how long the client was away).
    async fn deliver(&mut self, delivery: &Delivery, live: bool) -> Result<(), End> {
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
            self.feed(frame).await?;
            let posted_at = delivery.posted_at.filter(|_| live);
            self.state.measures.delivered(posted_at);
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
    ///
    /// Boxed: its reads of the store make a large future, and awaited in place it would make
    /// every socket's session that much larger for as long as it is open, though a session
    /// catches up seldom.
    fn catch_up(&mut self) -> BoxFuture<'_, Result<(), End>> {
        Box::pin(self.read_missed())
    }

    async fn read_missed(&mut self) -> Result<(), End> {
        let room_id = self.room_id;
        let read_failed = move |error: FanoutError| {
            tracing::warn!(%room_id, %error, "catch-up read failed");
            End::unavailable()
        };
        let deleted = store::deleted_after(self.state.hub.log(), self.room_id, self.cursor)
            .await
            .map_err(read_failed)?;
        let mut backlog = Backlog::after(self.room_id, self.cursor);
        while !backlog.is_finished() {
            self.subscription.skip_buffered();
            let page = backlog
                .next_page(self.state.hub.log())
                .await
                .map_err(read_failed)?;
            for record in &page {
                let message = match &record.event {
                    RoomEvent::MessagePosted(posted) => Some(posted.message_id),
                    other => other.changed_message(),
                };
                let delivery = match message {
                    Some(id) if deleted.contains(&id) => Delivery::tombstone(record),
                    _ => Delivery::event(record),
                };
                self.deliver(&delivery, false).await?;
            }
            self.flush().await?;
        }
        Ok(())
    }

    /// Ends the session with 4001 once its token was revoked or has expired.
    fn check_token(&self) -> Result<(), End> {
        self.state
            .tokens
            .still_valid(&self.user.claims)
            .map_err(|error| End::close(close::UNAUTHORIZED, unauthorized_reason(&error)))
    }

    async fn keepalive(&mut self) -> Result<(), End> {
        if self.last_heard.elapsed() >= self.state.keepalive.idle_after {
            return Err(End::close(close::GOING_AWAY, "no answer to ping"));
        }
        self.send(Message::Ping(Bytes::new())).await
    }

    pub(super) async fn write(&mut self, frame: Utf8Bytes) -> Result<(), End> {
        self.send(Message::Text(frame)).await
    }

    async fn send(&mut self, message: Message) -> Result<(), End> {
        within_stall(self.socket.send(message)).await
    }

    /// Queues a frame behind those not yet written; [`Connection::flush`] writes them.
    async fn feed(&mut self, frame: Utf8Bytes) -> Result<(), End> {
        within_stall(self.socket.feed(Message::Text(frame))).await
    }

    async fn flush(&mut self) -> Result<(), End> {
        within_stall(self.socket.flush()).await
    }
}

/// A write the client does not take in time means it stopped reading.
async fn within_stall(write: impl Future<Output = Result<(), axum::Error>>) -> Result<(), End> {
    match timeout(WRITE_STALL, write).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(End::Gone),
        Err(_) => Err(End::too_slow()),
    }
}

/// The room's stream failed this socket: it fell too far behind, or the node is stopping.
fn stream_failed(error: RecvError) -> End {
    match error {
        RecvError::Lagged(_) => End::too_slow(),
        RecvError::Closed => End::restarting(),
    }
}

/// When the token expires, as an instant of the runtime's clock.
fn token_expiry(claims: &auth::Claims) -> Instant {
    let left_ms = claims.exp.saturating_mul(1000) - chrono::Utc::now().timestamp_millis();
    Instant::now() + Duration::from_millis(left_ms.max(0) as u64)
}

/// The close frame's reason for a token that no longer counts.
pub(super) fn unauthorized_reason(error: &TokenError) -> &'static str {
    match error {
        TokenError::Expired => "token expired",
        TokenError::Invalid => "invalid token",
        TokenError::Revoked => "token revoked",
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
