//! What the gateway counts: the sockets open on the node, the frames written to them, and how
//! long a message took from its acceptance to a socket.

use chrono::{DateTime, Utc};
use metrics::{Counter, Histogram};

pub const WS_CONNECTIONS: &str = "chat_ws_connections";
pub const WS_DELIVERIES: &str = "chat_ws_deliveries_total";
pub const SEND_TO_DELIVER: &str = "chat_send_to_deliver_seconds";

/// Registers the gateway's metrics' help texts with the installed recorder.
pub fn describe_metrics() {
    metrics::describe_gauge!(WS_CONNECTIONS, "WebSockets open on this node");
    metrics::describe_counter!(
        WS_DELIVERIES,
        "Frames of room events and notices written to this node's sockets"
    );
    metrics::describe_histogram!(
        SEND_TO_DELIVER,
        metrics::Unit::Seconds,
        "From a message's acceptance (its posted_at) to its frame written to a live socket"
    );
}

/// The handles a socket records through, taken once: looking a metric up for every frame would
/// cost more than the rest of its bookkeeping.
#[derive(Clone)]
pub(crate) struct Measures {
    deliveries: Counter,
    send_to_deliver: Histogram,
}

impl Measures {
    pub(crate) fn new() -> Self {
        Self {
            deliveries: metrics::counter!(WS_DELIVERIES),
            send_to_deliver: metrics::histogram!(SEND_TO_DELIVER),
        }
    }

    /// A frame was written to a socket; `posted_at` when it is a live message.
    pub(crate) fn delivered(&self, posted_at: Option<DateTime<Utc>>) {
        self.deliveries.increment(1);
        if let Some(posted_at) = posted_at {
            let took = (Utc::now() - posted_at).to_std().unwrap_or_default();
            self.send_to_deliver.record(took.as_secs_f64());
        }
    }
}
