//! How a long-running process stops: on SIGTERM (what Docker, systemd and Kubernetes send) or
//! SIGINT (Ctrl-C), in an order that loses nothing a client was told succeeded.
//!
//! 1. The HTTP server stops accepting; requests under way are answered (a command in flight
//!    commits and is acknowledged); every socket is closed with 1012 so its client resumes
//!    elsewhere; read positions held to be coalesced are committed.
//! 2. Then the workers stop: the relay waits for the confirms of the batches it published, so
//!    the next relay does not publish them again; the projector stops (a batch it had not
//!    acknowledged comes again to the next one, which skips what was applied).
//!
//! The whole stop is bounded by [`GRACE`], under the 10 s an orchestrator waits before killing.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long stopping may take after the signal before the process exits anyway.
pub const GRACE: Duration = Duration::from_secs(9);

/// What the serving part of a process stops with.
#[derive(Debug, Clone, Default)]
pub struct Lifecycle {
    /// Cancelled when the process is told to stop: the HTTP server, the sockets and the
    /// gateway's bus consumers stop on it.
    pub shutdown: CancellationToken,
    /// The WebSocket sessions. An upgraded connection leaves the HTTP server, which therefore
    /// does not wait for it: the process waits here until each has sent its close frame. The
    /// commit of held read positions waits here too.
    pub sockets: TaskTracker,
}

impl Lifecycle {
    /// Waits until every socket has closed, once `shutdown` was cancelled.
    pub async fn sockets_closed(&self) {
        self.sockets.close();
        self.sockets.wait().await;
    }
}

/// Completes when the process receives SIGTERM or SIGINT.
pub(crate) async fn stop_signal() {
    let terminate = async {
        #[cfg(unix)]
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
                return;
            }
            Err(error) => tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C stops"),
        }
        std::future::pending::<()>().await
    };
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C; only SIGTERM stops");
            std::future::pending::<()>().await
        }
    };
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
