//! Full-text search over the messages the caller may read now: PostgreSQL's, configuration
//! `simple`, over the `search` column of the read table (migration `0085`), best match first.

mod cursor;
mod snippet;

use api_kit::{ErrorCase, Json, Query, QUERY_ERRORS, UNAVAILABLE};
use auth::{CurrentUser, MaybeUser, BEARER_ERRORS};
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::message_view::{message_columns, MessageView};
use crate::rooms::readable_room;
use crate::{QueryError, QueryState};
use cursor::{SearchCursor, CURSOR_PATTERN};
use snippet::Snippet;

const DEFAULT_LIMIT: i64 = 20;
const MAX_LIMIT: i64 = 100;
/// The longest search, in characters: enough for any question, and a bound on the work one
/// request can ask of the database.
pub(crate) const MAX_QUERY_CHARS: usize = 256;

const BLANK_QUERY: &str = "q must hold a word to search for";
const QUERY_TOO_LONG: &str = "q must be at most 256 characters";
const QUERY_WITH_NUL: &str = "q must not contain NUL characters";
const NO_WORDS: &str =
    "q has no word to search for: letters or digits, not only punctuation or `or`";
const ONLY_EXCLUSIONS: &str = "q must hold a word to find, not only words to leave out (`-word`)";

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// What to find, in web-search syntax: words (all of them), `"a quoted phrase"`, `-word`
    /// (without it), `or` (either side). Letter case and accents count as typed; words are not
    /// stemmed, so any language is searched alike. 1–256 characters, with a word to find.
    #[param(min_length = 1, max_length = 256)]
    pub(crate) q: String,
    /// Only this room's messages (one the caller may read, or 403/404 as its history would).
    pub(crate) room_id: Option<Uuid>,
    /// Page size: 20 by default; more than 100 reads as 100, less than 1 as 1.
    #[param(default = 20)]
    pub(crate) limit: Option<i64>,
    #[param(schema_with = cursor_schema)]
    pub(crate) cursor: Option<String>,
}

fn cursor_schema() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "Where the page starts: the previous page's `next` for the same search. Its form is \
             given so that clients can check it, not to be built by them.",
        ))
        .pattern(Some(CURSOR_PATTERN))
        .into()
}

/// One page of results, best match first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    pub results: Vec<SearchResult>,
    /// The cursor of the next page, or `null` when this one is the last.
    #[schema(required = true)]
    pub next: Option<String>,
}

/// A message that matched, with the text around the match.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResult {
    pub room_id: Uuid,
    #[schema(minimum = 1)]
    pub seq: i64,
    /// Plain text around the match, at most 300 characters, cut at words where it can be; as
    /// typed: never markup, `<b>` included.
    pub snippet: String,
    #[schema(schema_with = highlights_schema)]
    pub highlights: Vec<[usize; 2]>,
    /// The message as history serves it.
    pub message: MessageView,
}

fn highlights_schema() -> RefOr<Schema> {
    let offset = ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(0));
    let pair = ArrayBuilder::new()
        .items(offset)
        .min_items(Some(2))
        .max_items(Some(2));
    ArrayBuilder::new()
        .items(pair)
        .description(Some(
            "Where the matched words are in `snippet`: `[start, end)` pairs in order, counted in \
             Unicode scalar values (code points: not UTF-16 code units, not bytes).",
        ))
        .into()
}

/// The caller's search, checked: what PostgreSQL makes of it is checked next, in the database.
fn checked_words(q: &str) -> Result<&str, QueryError> {
    let words = q.trim();
    if words.is_empty() {
        Err(QueryError::InvalidSearch(BLANK_QUERY))
    } else if words.chars().count() > MAX_QUERY_CHARS {
        Err(QueryError::InvalidSearch(QUERY_TOO_LONG))
    } else if words.contains('\0') {
        Err(QueryError::InvalidSearch(QUERY_WITH_NUL))
    } else {
        Ok(words)
    }
}

/// Whether the search has a word, and whether it finds anything but by leaving words out (which
/// an empty message would match: every message without them, and no index can serve that).
const QUERY_SHAPE: &str = "
SELECT numnode(q) > 0, ''::tsvector @@ q FROM message_search_query($1) q";

/// The rooms are the public ones and those the caller is a member of (direct rooms included),
/// or the one room asked for, whose access was checked. They go to the index as an array, so
/// PostgreSQL can intersect the matches with the rooms' rows in the primary key before it reads
/// a row: the readable rooms are usually a small part of the table, and reading each match's row
/// only to find it is in another room is most of the cost of a search. Ties in rank go newest
/// first; the room and sequence make the order total, so a cursor names one place in it.
/// A message of up to 200 characters comes whole; a longer one as the fragment around its
/// best match.
const SEARCH: &str = concat!(
    "WITH query AS (SELECT message_search_query($2) AS q),
     ranked AS (
         SELECT m.room_id, m.seq, m.created_at, ts_rank_cd(m.search, query.q) AS rank
           FROM messages m, query
          WHERE m.search @@ query.q AND NOT m.deleted
            AND m.room_id = ANY (CASE WHEN $3::uuid IS NOT NULL THEN ARRAY[$3::uuid]
                                      ELSE (SELECT array_agg(id)
                                              FROM (SELECT id FROM rooms WHERE NOT is_private
                                                    UNION
                                                    SELECT room_id FROM room_members
                                                     WHERE user_id = $1) readable)
                                 END)),
     page AS (
         SELECT * FROM ranked
          WHERE $4::real IS NULL OR (rank, created_at, room_id, seq) < ($4, $5, $6, $7)
          ORDER BY rank DESC, created_at DESC, room_id DESC, seq DESC
          LIMIT $8)
     SELECT ",
    message_columns!(),
    ", page.rank,
       ts_headline('simple', message_search_text(m.content), query.q,
                   CASE WHEN length(m.content) <= 200
                        THEN E'StartSel=\\x01, StopSel=\\x02, HighlightAll=true'
                        ELSE E'StartSel=\\x01, StopSel=\\x02, MaxFragments=1, MaxWords=30, MinWords=12'
                   END) AS headline
     FROM page JOIN messages m ON m.room_id = page.room_id AND m.seq = page.seq, query
    ORDER BY page.rank DESC, page.created_at DESC, page.room_id DESC, page.seq DESC"
);

#[derive(sqlx::FromRow)]
struct Found {
    #[sqlx(flatten)]
    message: MessageView,
    rank: f32,
    headline: String,
}

api_kit::error_responses!(
    /// What searching answers instead of success.
    SearchErrors: [UNAVAILABLE, QUERY_ERRORS, BEARER_ERRORS], [
        ErrorCase::new(422, "invalid_search", NO_WORDS),
        ErrorCase::new(403, "not_a_member", "This room is private: only its members can read it"),
        ErrorCase::new(404, "room_not_found", "Room not found"),
    ]
);

/// Full-text search over the messages the caller may read.
///
/// Messages of public rooms, and of the private and direct rooms the caller is a member of now,
/// best match first. Deleted messages are never found; edited ones by their current text. A
/// `q` that is blank, over 256 characters, without a word, or made only of words to leave out
/// answers 422 `invalid_search`; a `cursor` not of this endpoint's form 422 `invalid_query`.
/// Pages never repeat or skip a result while the messages stay as they are.
#[utoipa::path(get, path = "/search/messages", tag = "messages",
    params(SearchParams),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Matching messages, best first", body = SearchResults),
        SearchErrors,
    ))]
pub(crate) async fn search_messages(
    State(state): State<QueryState>,
    user: CurrentUser,
    Query(params): Query<SearchParams>,
) -> Result<Json<SearchResults>, QueryError> {
    let words = checked_words(&params.q)?;
    let after = params
        .cursor
        .as_deref()
        .map(SearchCursor::decode)
        .transpose()?;
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let (has_words, finds_without_words): (bool, bool) = sqlx::query_as(QUERY_SHAPE)
        .bind(words)
        .fetch_one(&state.pool)
        .await?;
    if !has_words {
        return Err(QueryError::InvalidSearch(NO_WORDS));
    }
    if finds_without_words {
        return Err(QueryError::InvalidSearch(ONLY_EXCLUSIONS));
    }
    let caller = user.id;
    if let Some(room_id) = params.room_id {
        readable_room(&state.pool, room_id, &MaybeUser(Some(user))).await?;
    }
    let found: Vec<Found> = sqlx::query_as(SEARCH)
        .bind(caller)
        .bind(words)
        .bind(params.room_id)
        .bind(after.map(|cursor| cursor.rank))
        .bind(after.map(|cursor| cursor.created_at))
        .bind(after.map(|cursor| cursor.room_id))
        .bind(after.map(|cursor| cursor.seq))
        .bind(limit)
        .fetch_all(&state.pool)
        .await?;
    let next = (i64::try_from(found.len()) == Ok(limit))
        .then(|| found.last())
        .flatten()
        .map(|last| {
            SearchCursor {
                rank: last.rank,
                created_at: last.message.created_at,
                room_id: last.message.room_id,
                seq: last.message.seq,
            }
            .encode()
        });
    let results = found
        .into_iter()
        .map(|found| {
            let Snippet { text, highlights } = Snippet::from_headline(&found.headline);
            SearchResult {
                room_id: found.message.room_id,
                seq: found.message.seq,
                snippet: text,
                highlights,
                message: found.message,
            }
        })
        .collect();
    Ok(Json(SearchResults { results, next }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_trimmed_and_bounded() {
        assert_eq!(checked_words("  hello world \n").unwrap(), "hello world");
        assert_eq!(
            checked_words(&"é".repeat(256)).unwrap().chars().count(),
            256
        );
        for (refused, why) in [
            ("", BLANK_QUERY),
            (" \t\n ", BLANK_QUERY),
            ("a\0b", QUERY_WITH_NUL),
            (&"é".repeat(257), QUERY_TOO_LONG),
        ] {
            match checked_words(refused) {
                Err(QueryError::InvalidSearch(detail)) => assert_eq!(detail, why),
                other => panic!("{refused:?}: {other:?}"),
            }
        }
    }
}
