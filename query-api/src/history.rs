//! A room's message history, newest first, paged by offset (the seed's way) or by sequence
//! cursors, which stay fast and stable however many messages arrive meanwhile.

use std::time::Duration;

use api_kit::{
    Json, Path, Query, PATH_ERRORS, PROJECTION_PENDING_HEADER, QUERY_ERRORS, UNAVAILABLE,
};
use auth::MaybeUser;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use cqrs_es::Aggregate;
use domain::Room;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::message_view::{select_messages, MessageView};
use crate::rooms::{readable_room, READ_ROOM_ERRORS};
use crate::{QueryError, QueryState};

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;
/// How long a read passing `min_seq` waits for the projection to catch up.
const MIN_SEQ_WAIT: Duration = Duration::from_secs(2);
/// The deepest `offset` served: each read walks that much of the room's index, while the
/// cursors reach any depth for the price of one page.
pub(crate) const MAX_OFFSET: u32 = 10_000;

pub(crate) const OFFSET_TOO_DEEP: &str =
    "offset must be at most 10000; page deeper with before_seq (the X-Next-Before-Seq header of each page gives it)";

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// Page size: 50 by default; more than 200 reads as 200, less than 1 as 1.
    #[param(default = 50)]
    pub(crate) limit: Option<i64>,
    /// Messages to skip from the newest, at most 10,000 (the seed's paging; prefer the cursors).
    #[param(minimum = 0, maximum = 10000, default = 0)]
    pub(crate) offset: Option<u32>,
    /// Only messages before this sequence (exclusive): the next older page.
    pub(crate) before_seq: Option<i64>,
    /// Only messages after this sequence (exclusive): the next newer page.
    pub(crate) after_seq: Option<i64>,
    /// Read-your-writes: wait (up to 2 s) until the history includes this sequence, e.g. the
    /// `seq` a post just answered.
    pub(crate) min_seq: Option<i64>,
}

/// The page a history read asks for, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct HistoryPage {
    pub(crate) limit: i64,
    pub(crate) offset: u32,
    /// Oldest first from `after_seq` (then turned around), rather than newest first.
    pub(crate) forward: bool,
    pub(crate) after_seq: i64,
    pub(crate) before_seq: i64,
}

impl HistoryParams {
    pub(crate) fn page(&self) -> Result<HistoryPage, QueryError> {
        let offset = self.offset.unwrap_or(0);
        if offset > MAX_OFFSET {
            return Err(QueryError::InvalidParameter(OFFSET_TOO_DEEP));
        }
        Ok(HistoryPage {
            limit: self.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT),
            offset,
            forward: self.after_seq.is_some() && self.before_seq.is_none(),
            after_seq: self.after_seq.unwrap_or(0),
            before_seq: self.before_seq.unwrap_or(i64::MAX),
        })
    }
}

/// The page's rows only when the caller (the parameter given, null when anonymous) may read room
/// `$1`: a condition on the room alone, decided once before the first row is read. A full page
/// then needs no other round trip; a short one may be short because the room is not readable,
/// and [`readable_room`] says why.
macro_rules! when_readable {
    ($caller:literal) => {
        concat!(
            " AND EXISTS (SELECT 1 FROM rooms r
                       WHERE r.id = $1
                         AND (NOT r.is_private
                              OR EXISTS (SELECT 1 FROM room_members rm
                                          WHERE rm.room_id = r.id AND rm.user_id = ",
            $caller,
            ")))"
        )
    };
}

/// Newest first, between two exclusive bounds; offset for the seed's paging.
const NEWEST_FIRST: &str = concat!(
    select_messages!(),
    "WHERE m.room_id = $1 AND m.seq > $2 AND m.seq < $3",
    when_readable!("$6"),
    " ORDER BY m.seq DESC
     LIMIT $4 OFFSET $5"
);

/// Oldest first right after a cursor, for paging forward; the handler turns it around.
const OLDEST_FIRST: &str = concat!(
    select_messages!(),
    "WHERE m.room_id = $1 AND m.seq > $2",
    when_readable!("$5"),
    " ORDER BY m.seq
     LIMIT $3 OFFSET $4"
);

api_kit::error_responses!(
    /// What reading history answers instead of success.
    HistoryErrors: [UNAVAILABLE, PATH_ERRORS, QUERY_ERRORS, READ_ROOM_ERRORS], []
);

/// A room's messages as a bare JSON array, newest first (the seed's client reverses it). When
/// the page is full, `Link: <…>; rel="next"` points at the next page in the same direction, and
/// `X-Next-Before-Seq` gives the cursor for the next older page.
#[utoipa::path(get, path = "/rooms/{room_id}/messages", tag = "messages",
    params(("room_id" = Uuid, Path, description = "The room's id"), HistoryParams),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Messages, newest first", body = [MessageView],
            headers(
                ("link" = String, description = "The next page, when this one is full"),
                ("x-next-before-seq" = i64, description = "Cursor for the next older page"),
                ("x-projection-pending" = bool, description = "`true` when `min_seq` was not reached in time"),
            )),
        HistoryErrors,
    ))]
pub(crate) async fn room_messages(
    State(state): State<QueryState>,
    user: MaybeUser,
    Path(room_id): Path<Uuid>,
    Query(params): Query<HistoryParams>,
) -> Result<(HeaderMap, Json<Vec<MessageView>>), QueryError> {
    let page = params.page()?;
    let caller = user.0.as_ref().map(|user| user.id);
    let mut headers = HeaderMap::new();
    if let Some(min_seq) = params.min_seq {
        // Checked before waiting: only a reader of the room may hold a request open.
        readable_room(&state.pool, room_id, &user).await?;
        let reached = state
            .projection
            .wait(Room::TYPE, &room_id.to_string(), min_seq, MIN_SEQ_WAIT)
            .await?;
        if !reached {
            headers.insert(PROJECTION_PENDING_HEADER, HeaderValue::from_static("true"));
        }
    }
    let HistoryPage {
        limit,
        offset,
        forward,
        after_seq,
        before_seq,
    } = page;
    let messages: Vec<MessageView> = if forward {
        let mut page: Vec<MessageView> = sqlx::query_as(OLDEST_FIRST)
            .bind(room_id)
            .bind(after_seq)
            .bind(limit)
            .bind(i64::from(offset))
            .bind(caller)
            .fetch_all(&state.pool)
            .await?;
        page.reverse();
        page
    } else {
        sqlx::query_as(NEWEST_FIRST)
            .bind(room_id)
            .bind(after_seq)
            .bind(before_seq)
            .bind(limit)
            .bind(i64::from(offset))
            .bind(caller)
            .fetch_all(&state.pool)
            .await?
    };
    let full = i64::try_from(messages.len()) == Ok(limit);
    if !full && params.min_seq.is_none() {
        readable_room(&state.pool, room_id, &user).await?;
    }
    if full {
        let (cursor, seq) = if forward {
            ("after_seq", messages.first().map(|m| m.seq))
        } else {
            ("before_seq", messages.last().map(|m| m.seq))
        };
        if let Some(seq) = seq {
            let link =
                format!("</rooms/{room_id}/messages?{cursor}={seq}&limit={limit}>; rel=\"next\"");
            headers.insert(
                header::LINK,
                HeaderValue::from_str(&link).expect("ASCII link"),
            );
            if !forward {
                headers.insert("x-next-before-seq", HeaderValue::from(seq));
            }
        }
    }
    Ok((headers, Json(messages)))
}
