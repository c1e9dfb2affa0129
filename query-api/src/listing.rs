//! The parameters of `GET /rooms/` and the cursor of its pages.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{RefOr, Schema};
use utoipa::IntoParams;
use uuid::Uuid;

use crate::cursor_form::{micros_text, time_of_micros, uuid_of};
use crate::QueryError;

/// The largest page; a larger `limit` reads as this.
pub(crate) const MAX_ROOMS_PAGE: i64 = 500;
/// The page size when only `after` is given.
pub(crate) const DEFAULT_ROOMS_PAGE: i64 = 100;

pub(crate) const NOT_A_CURSOR: &str =
    "after is not a cursor: use the one in the previous page's Link header, or none to start over";

/// A cursor as the server writes it: the last room's creation time in microseconds since 1970
/// (16 digits at most: until the year 2286) and its id, lower-case.
pub(crate) const CURSOR_PATTERN: &str =
    r"^(0|[1-9][0-9]{0,15})\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoomsParams {
    /// Page size, 1–500: a smaller one reads as 1, a larger one as 500. Without `limit` and
    /// `after`, every room.
    pub(crate) limit: Option<i64>,
    /// Where the page starts: the cursor in the previous page's `Link` header. Its form is
    /// given so that clients can check it, not to be built by them.
    #[param(schema_with = cursor_schema)]
    pub(crate) after: Option<String>,
}

fn cursor_schema() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(CURSOR_PATTERN))
        .into()
}

/// What a listing asks for, checked: `limit` `None` means every room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RoomsPage {
    pub(crate) limit: Option<i64>,
    pub(crate) after: Option<RoomCursor>,
}

impl RoomsParams {
    pub(crate) fn page(&self) -> Result<RoomsPage, QueryError> {
        let after = self.after.as_deref().map(RoomCursor::decode).transpose()?;
        let limit = match (self.limit, after) {
            (Some(limit), _) => Some(limit.clamp(1, MAX_ROOMS_PAGE)),
            (None, Some(_)) => Some(DEFAULT_ROOMS_PAGE),
            (None, None) => None,
        };
        Ok(RoomsPage { limit, after })
    }
}

/// The last room of a page, in the listing's order (creation time, then id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RoomCursor {
    /// To the microsecond, as PostgreSQL stores it.
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) id: Uuid,
}

impl RoomCursor {
    pub(crate) fn encode(&self) -> String {
        format!("{}.{}", micros_text(self.created_at), self.id.hyphenated())
    }

    /// Reads exactly what [`CURSOR_PATTERN`] matches, and nothing else.
    pub(crate) fn decode(raw: &str) -> Result<Self, QueryError> {
        let (micros, id) = raw
            .split_once('.')
            .ok_or(QueryError::InvalidParameter(NOT_A_CURSOR))?;
        match (time_of_micros(micros), uuid_of(id)) {
            (Some(created_at), Some(id)) => Ok(Self { created_at, id }),
            _ => Err(QueryError::InvalidParameter(NOT_A_CURSOR)),
        }
    }
}
