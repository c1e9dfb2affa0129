//! The event feed, `GET /events`: the log as the caller may see it (its own account's events and
//! those of the rooms it is a member of as of each event), from a position, in position order,
//! with no gap and no repeat across reconnects: only settled positions are served (every
//! transaction that could still commit a lower one has ended). With `Accept: text/event-stream`
//! a stream of Server-Sent Events; otherwise one JSON page.

mod scope;
mod stream;
mod tail;

pub use stream::StreamCounts;
pub use tail::Tail;

use api_kit::{ApiError, ErrorCase, Json, Query, QUERY_ERRORS, RATE_LIMITED, UNAVAILABLE};
use auth::{CurrentUser, BEARER_ERRORS};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use eventstore::log::PAGE_SIZE;
use eventstore::StoredEvent;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use utoipa::{IntoParams, ToSchema};

use crate::audit::AuditEvent;
use crate::{QueryError, QueryState};
use scope::{Reach, Scope};
use stream::Follower;

/// What the feed needs besides the query state: the process's tail of the log, the cap on
/// streams, and the shutdown that ends every stream.
#[derive(Clone)]
pub struct Feed {
    pub tail: Tail,
    pub streams: StreamCounts,
    pub shutdown: CancellationToken,
}

/// One event as the feed serves it, rendered once for every follower.
#[derive(Debug)]
pub(crate) struct FeedItem {
    pub(crate) position: i64,
    pub(crate) event_type: String,
    pub(crate) reach: Reach,
    /// The event as the audit API shows it (password hashes redacted), as JSON.
    pub(crate) data: String,
}

impl FeedItem {
    pub(crate) fn of(event: StoredEvent) -> Self {
        let reach = Reach::of(&event);
        let position = event.position;
        let event_type = event.event_type.clone();
        let data = serde_json::to_string(&AuditEvent::from(event)).expect("JSON renders");
        Self {
            position,
            event_type,
            reach,
            data,
        }
    }
}

/// Events after this position; `Last-Event-ID` wins over it.
const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 1000;
/// A page examines at most this many events, so a caller who sees little of the log still gets
/// an answer soon (with `next_after` moved on).
const MAX_EXAMINED: usize = 10 * PAGE_SIZE;
/// How long a page waits for the writers in flight to end before answering what had settled.
const FRESH_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// Only events after this global position (exclusive), 0 to 9223372036854775807; for a
    /// stream, `Last-Event-ID` wins over it. From the beginning when left out.
    #[param(minimum = 0)]
    after: Option<i64>,
    /// JSON pages only: events per page, 100 by default; clamped to 1–1000.
    limit: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedPage {
    /// The visible events after `after`, in position order.
    pub events: Vec<AuditEvent>,
    /// The last position examined: ask for the page after it. It moves on even when no event
    /// was visible, so a quiet or foreign stretch of the log is not read again.
    #[schema(minimum = 0)]
    pub next_after: i64,
}

api_kit::error_responses!(
    /// What the feed answers instead of events.
    FeedErrors: [UNAVAILABLE, QUERY_ERRORS, BEARER_ERRORS], [
        ErrorCase::new(400, "token_in_url", "Send the token in the Authorization header, never in the URL"),
        ErrorCase::new(422, "invalid_query", "after must be 0 to 9223372036854775807"),
        RATE_LIMITED,
    ]
);

/// The event feed: the caller's account's events and those of the rooms it is a member of (as
/// of each event), in global position order, after `after` or `Last-Event-ID`. With `Accept:
/// text/event-stream`, Server-Sent Events (`id:` the position, `event:` the type, `data:` the
/// event as the audit API shows it; a comment every 15 s; ends within a second of the token's
/// revocation or expiry; at most `CHAT_FEED_MAX_PER_USER` streams per caller and server, 429
/// past it). Otherwise a JSON page. Bearer header only: a `token` in the URL is refused.
#[utoipa::path(get, path = "/events", tag = "events",
    params(
        FeedParams,
        ("last-event-id" = Option<i64>, Header, minimum = 0, nullable = false, description = "Streams: the last position received; resumes after it, whatever `after` says (empty: none, as EventSource means it)"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of events (JSON), or a stream of them", content(
            (FeedPage = "application/json"),
            (String = "text/event-stream", example = "id: 42\nevent: MessagePosted\ndata: {\"position\":42,\"aggregate_type\":\"Room\",…}\n\n"),
        )),
        FeedErrors,
    ))]
pub(crate) async fn events(
    State(state): State<QueryState>,
    uri: Uri,
    headers: HeaderMap,
    user: CurrentUser,
    Query(params): Query<FeedParams>,
) -> Result<Response, QueryError> {
    if token_in_url(&uri) {
        return Ok(ApiError::new(
            StatusCode::BAD_REQUEST,
            "token_in_url",
            "Send the token in the Authorization header, never in the URL",
        )
        .into_response());
    }
    // `after` must be valid even when the header wins over it: a bad URL is refused alike.
    let after_param = params.after.map_or(Ok(0), valid_position)?;
    let after = match last_event_id(&headers) {
        Some(id) => id?,
        None => after_param,
    };
    let Some(feed) = state.feed.clone() else {
        return Err(QueryError::InvalidParameter("the feed is not served here"));
    };
    let scope = Scope::at(feed.tail.log(), user.id, after).await?;
    if wants_stream(&headers) {
        let Some(permit) = feed.streams.take(user.id) else {
            return Ok(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many event streams open: close one first",
            )
            .with_header(header::RETRY_AFTER, header::HeaderValue::from_static("1"))
            .into_response());
        };
        let follower = Follower {
            tail: feed.tail,
            tokens: state.tokens.clone(),
            user,
            scope,
            cursor: after,
            shutdown: feed.shutdown,
            _permit: permit,
        };
        return Ok(follower.respond());
    }
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT) as usize;
    Ok(Json(page(&feed, scope, after, limit).await?).into_response())
}

async fn page(
    feed: &Feed,
    mut scope: Scope,
    after: i64,
    limit: usize,
) -> Result<FeedPage, QueryError> {
    let log = feed.tail.log();
    // Settled afresh, so that a page read right after a write shows it; while a writer holds
    // its transaction open past the wait, as far as the tail has settled.
    let settled = match tokio::time::timeout(FRESH_WAIT, log.settled_position()).await {
        Ok(settled) => settled?,
        Err(_) => *feed.tail.settled().borrow(),
    };
    let mut cursor = after;
    let mut events = Vec::new();
    let mut examined = 0;
    'pages: while cursor < settled && examined < MAX_EXAMINED {
        let page = log.settled_page(cursor, settled, PAGE_SIZE).await?;
        if page.is_empty() {
            cursor = settled;
            break;
        }
        examined += page.len();
        for event in page {
            cursor = event.position;
            let item = FeedItem::of(event.clone());
            if scope.admits(&item) {
                events.push(AuditEvent::from(event));
                if events.len() == limit {
                    break 'pages;
                }
            }
        }
    }
    Ok(FeedPage {
        events,
        next_after: cursor,
    })
}

fn valid_position(after: i64) -> Result<i64, QueryError> {
    if after < 0 {
        return Err(QueryError::InvalidParameter(
            "after must be 0 to 9223372036854775807",
        ));
    }
    Ok(after)
}

/// `Last-Event-ID`, which EventSource sends on reconnecting with the original URL.
fn last_event_id(headers: &HeaderMap) -> Option<Result<i64, QueryError>> {
    let value = headers.get("last-event-id")?;
    // An empty id is EventSource's "no last event".
    if value.as_bytes().iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    let invalid = || {
        QueryError::InvalidParameter("Last-Event-ID must be a position, 0 to 9223372036854775807")
    };
    Some(
        value
            .to_str()
            .ok()
            .and_then(|text| text.trim().parse::<i64>().ok())
            .ok_or_else(invalid)
            .and_then(|id| valid_position(id).map_err(|_| invalid())),
    )
}

fn wants_stream(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|accept| accept.contains("text/event-stream"))
}

/// Whether the URL carries a `token`: tokens in URLs end up in logs and histories.
fn token_in_url(uri: &Uri) -> bool {
    uri.query().is_some_and(|query| {
        query
            .split('&')
            .any(|pair| pair.split_once('=').map_or(pair, |(key, _)| key) == "token")
    })
}
