//! The WebSocket gateway. Each node consumes the bus once and dispatches in process to the
//! sockets of each room ([`Hub`]); each socket is served by one task; sends go through the same
//! command path as the REST API, so a message is durable before anyone sees it. Nodes tell each
//! other who is connected and typing (the mesh), so presence spans them all.
//!
//! The two dialects, resume, limits and close codes are described for clients in
//! `docs/websocket.md` and in the endpoint's OpenAPI description.

mod backlog;
mod caps;
mod client_frames;
mod connection;
mod endpoint;
mod error;
mod frames;
mod hub;
mod measures;
mod mesh;
mod node;
mod presence;
#[cfg(test)]
mod properties;
mod store;

pub use caps::SocketCaps;
pub use connection::{close, HARD_FRAME_CAP, MAX_FRAME, MAX_SENDS_IN_FLIGHT};
pub use error::FanoutError;
pub use hub::Hub;
pub use measures::{describe_metrics, SEND_TO_DELIVER, WS_CONNECTIONS, WS_DELIVERIES};
pub use mesh::start as start_mesh;
pub use node::start as start_node;
pub use store::RoomRecord;

use std::sync::Arc;
use std::time::Duration;

use auth::Tokens;
use caps::OpenSockets;
use commands::Commands;
use measures::Measures;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use utoipa_axum::{router::OpenApiRouter, routes};

/// How many frames a socket may fall behind its room before it is closed with 4008.
pub const DEFAULT_LAG_ALLOWANCE: usize = 1024;

/// The keepalive of every socket.
#[derive(Debug, Clone, Copy)]
pub struct Keepalive {
    /// How often the server pings a socket.
    pub ping_every: Duration,
    /// A socket that answers nothing (no pong, no frame) for this long is closed with 1001. One
    /// that answers pings but sends nothing stays open.
    pub idle_after: Duration,
}

impl Default for Keepalive {
    fn default() -> Self {
        Self {
            ping_every: Duration::from_secs(10),
            idle_after: Duration::from_secs(30),
        }
    }
}

/// What the endpoint needs: the node's hub, the command path for sends, the keepalive, the caps
/// on open sockets, a signal that closes every socket (with 1012, so clients resume elsewhere)
/// when the node stops, and the tracker every socket's session runs on, so the process can wait
/// for their close frames before it exits.
#[derive(Clone)]
pub struct FanoutState {
    hub: Hub,
    commands: Commands,
    tokens: Arc<Tokens>,
    keepalive: Keepalive,
    open: OpenSockets,
    measures: Measures,
    shutdown: CancellationToken,
    sockets: TaskTracker,
}

impl FanoutState {
    pub fn new(
        hub: Hub,
        commands: Commands,
        keepalive: Keepalive,
        shutdown: CancellationToken,
        sockets: TaskTracker,
    ) -> Self {
        let tokens = commands.tokens().clone();
        Self {
            hub,
            commands,
            tokens,
            keepalive,
            open: OpenSockets::new(SocketCaps::default()),
            measures: Measures::new(),
            shutdown,
            sockets,
        }
    }

    /// The same state with other caps on open sockets than [`SocketCaps::default`].
    pub fn with_caps(self, caps: SocketCaps) -> Self {
        Self {
            open: OpenSockets::new(caps),
            ..self
        }
    }
}

/// The WebSocket endpoint with its OpenAPI description; the caller supplies the state.
pub fn routes() -> OpenApiRouter<FanoutState> {
    OpenApiRouter::new().routes(routes!(endpoint::connect))
}
