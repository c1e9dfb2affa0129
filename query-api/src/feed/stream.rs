//! One follower's Server-Sent Events: each visible event as `id:` (its position), `event:` (its
//! type) and `data:` (as the audit API shows it), in position order; a comment every 15 s; the
//! end within a second of the token's revocation or expiry, or at the server's shutdown.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth::{CurrentUser, Tokens};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::scope::Scope;
use super::tail::Tail;
use super::FeedItem;

/// How often an idle stream sends a comment line, so proxies and clients know it is alive.
const KEEPALIVE: Duration = Duration::from_secs(15);

/// Open streams per user on this server, under a cap.
#[derive(Clone, Default)]
pub struct StreamCounts {
    open: Arc<Mutex<HashMap<Uuid, usize>>>,
    max: usize,
}

/// A stream's place under the cap, given back when the stream ends.
pub(crate) struct StreamPermit {
    counts: StreamCounts,
    user: Uuid,
}

impl StreamCounts {
    /// At most `max` streams per user; 0 = no cap.
    pub fn new(max: usize) -> Self {
        Self {
            open: Arc::default(),
            max,
        }
    }

    pub(crate) fn take(&self, user: Uuid) -> Option<StreamPermit> {
        let mut open = self.open.lock().expect("stream counts poisoned");
        let count = open.entry(user).or_default();
        if self.max > 0 && *count >= self.max {
            return None;
        }
        *count += 1;
        Some(StreamPermit {
            counts: self.clone(),
            user,
        })
    }
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut open = self.counts.open.lock().expect("stream counts poisoned");
        if let Some(count) = open.get_mut(&self.user) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.user);
            }
        }
    }
}

/// Everything one stream holds while it runs.
pub(crate) struct Follower {
    pub(crate) tail: Tail,
    pub(crate) tokens: Arc<Tokens>,
    pub(crate) user: CurrentUser,
    pub(crate) scope: Scope,
    pub(crate) cursor: i64,
    pub(crate) shutdown: CancellationToken,
    /// Held for as long as the stream runs.
    pub(crate) _permit: StreamPermit,
}

struct Running {
    follower: Follower,
    settled: watch::Receiver<i64>,
    revocations: watch::Receiver<u64>,
    expiry: Instant,
    ready: VecDeque<Arc<FeedItem>>,
}

impl Follower {
    pub(crate) fn respond(self) -> Response {
        let running = Running {
            settled: self.tail.settled(),
            revocations: self.tokens.revocations().changes(),
            expiry: token_expiry(&self.user.claims),
            ready: VecDeque::new(),
            follower: self,
        };
        let events = futures::stream::unfold(running, |mut running| async move {
            let item = running.next().await?;
            let event = Event::default()
                .id(item.position.to_string())
                .event(&item.event_type)
                .data(&item.data);
            Some((Ok::<_, Infallible>(event), running))
        });
        sse(events).into_response()
    }
}

fn sse(
    events: impl Stream<Item = Result<Event, Infallible>> + Send + 'static,
) -> impl IntoResponse {
    Sse::new(events).keep_alive(KeepAlive::new().interval(KEEPALIVE).text("keepalive"))
}

impl Running {
    /// The next event the follower may see; `None` when the stream ends.
    async fn next(&mut self) -> Option<Arc<FeedItem>> {
        loop {
            if self
                .follower
                .tokens
                .still_valid(&self.follower.user.claims)
                .is_err()
            {
                return None;
            }
            if let Some(item) = self.ready.pop_front() {
                return Some(item);
            }
            let settled = *self.settled.borrow_and_update();
            if self.follower.cursor < settled {
                let batch = match self.follower.tail.read(self.follower.cursor, settled).await {
                    Ok(batch) => batch,
                    Err(error) => {
                        tracing::warn!(%error, "a feed stream cannot read the log; ending it");
                        return None;
                    }
                };
                if batch.is_empty() {
                    self.follower.cursor = settled;
                }
                for item in batch {
                    self.follower.cursor = item.position;
                    if self.follower.scope.admits(&item) {
                        self.ready.push_back(item);
                    }
                }
                continue;
            }
            tokio::select! {
                changed = self.settled.changed() => changed.ok()?,
                changed = self.revocations.changed() => changed.ok()?,
                () = tokio::time::sleep_until(self.expiry) => return None,
                () = self.follower.shutdown.cancelled() => return None,
            }
        }
    }
}

/// When the token expires, as an instant of the runtime's clock.
fn token_expiry(claims: &auth::Claims) -> Instant {
    let left_ms = claims.exp.saturating_mul(1000) - chrono::Utc::now().timestamp_millis();
    Instant::now() + Duration::from_millis(left_ms.max(0) as u64)
}
