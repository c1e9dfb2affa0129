//! One socket, served by one task: admission (`admission.rs`), the catch-up a resume asks for,
//! then a `select!` over the client's frames, the room's stream, the keepalive timer and shutdown
//! (`session.rs`); the client's sends go through the write path's use case, several under way at
//! once, answered in order (`sends.rs`).

mod admission;
mod sends;
mod session;

use std::borrow::Cow;
use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures::FutureExt;
use tokio::time::timeout;

use crate::frames::Dialect;
use crate::FanoutState;
use admission::{admit, Admission};
use session::Connection;

pub use sends::MAX_SENDS_IN_FLIGHT;

/// Frames longer than this (text or binary) are refused with Close 1009 and never stored.
pub const MAX_FRAME: usize = 64 * 1024;
/// The socket library's own cap, far above [`MAX_FRAME`]: it drops a connection without a close
/// frame, so frames up to here are read whole and refused by us, politely.
pub const HARD_FRAME_CAP: usize = 1024 * 1024;
/// A write that cannot complete for this long means the client stopped reading.
const WRITE_STALL: Duration = Duration::from_secs(5);
/// How long a closing handshake may take before the connection is simply dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(2);
/// Deliveries the room's stream already holds for a socket are written together, this many
/// at most, so one busy socket gives the others on its worker their turn.
const DELIVERY_BATCH: usize = 64;
/// Typing notices from one socket are passed on at most this often.
const TYPING_EVERY: Duration = Duration::from_secs(1);

/// Close codes of the endpoint (docs/websocket.md lists them for clients).
pub mod close {
    pub const GOING_AWAY: u16 = 1001;
    pub const TOO_BIG: u16 = 1009;
    pub const UNAVAILABLE: u16 = 1011;
    pub const RESTARTING: u16 = 1012;
    pub const TRY_AGAIN_LATER: u16 = 1013;
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

    fn restarting() -> Self {
        Self::close(close::RESTARTING, "server restarting: resume with since")
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
    pub credential: Credential,
    pub dialect: Dialect,
    pub since: Option<i64>,
    pub request_id: Option<String>,
}

/// How the socket proves who opens it.
#[derive(Debug, PartialEq, Eq)]
pub enum Credential {
    None,
    /// An access token in the URL, as the seed's client sends it.
    Token(String),
    /// A single-use ticket from `POST /auth/ws-ticket`.
    Ticket(String),
}

/// Whether a socket is admitted, decided before its handshake is answered: an admitted socket is
/// already subscribed to its room, at the sequence the room had when it was admitted, so nothing
/// committed after the client saw its handshake complete can pass it by. A refusal still
/// completes the handshake and is told in the close frame, which is what clients understand.
///
/// The admission is boxed: the upgrade's task keeps what it was given for as long as the socket
/// is open, and the admission moves on into the connection.
pub struct Verdict(Result<Box<Admission>, End>);

/// Decides whether the client at `address` may open the socket it asked for.
pub async fn decide(
    state: &FanoutState,
    request: Result<Request, String>,
    address: IpAddr,
) -> Verdict {
    Verdict(match request {
        Ok(request) => admit(state, request, address).await.map(Box::new),
        Err(detail) => Err(End::close(close::BAD_REQUEST, detail)),
    })
}

/// Serves one upgraded socket to its end. A refused socket gets one frame: the close frame.
///
/// Not an `async fn`: one keeps its arguments for as long as it runs, beside the connection they
/// were moved into, and that made every open socket nearly a kilobyte larger. The connection is
/// built first, and the future holds it once.
pub fn run(
    state: FanoutState,
    socket: WebSocket,
    Verdict(admitted): Verdict,
) -> impl Future<Output = ()> + Send {
    match admitted {
        Ok(admission) => serve(Connection::new(state, socket, *admission)).left_future(),
        Err(end) => close_with(socket, end).right_future(),
    }
}

async fn serve(mut connection: Connection) {
    let end = connection.session().await;
    close_with(connection.into_socket(), end).await;
}

async fn close_with(mut socket: WebSocket, end: End) {
    if let End::Close(code, reason) = end {
        close_politely(&mut socket, code, reason).await;
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
