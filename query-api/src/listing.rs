//! The parameters of `GET /rooms/` and the opaque cursor of its pages.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::QueryError;

/// The largest page; a larger `limit` reads as this.
pub(crate) const MAX_ROOMS_PAGE: u32 = 500;
/// The page size when only `after` is given.
pub(crate) const DEFAULT_ROOMS_PAGE: u32 = 100;

pub(crate) const NOT_A_CURSOR: &str =
    "after is not a cursor this server gave: use the one in the previous page's Link header, or none to start over";

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RoomsParams {
    /// Page size, 1–500 (outside it, the nearest); without `limit` and `after`, every room.
    pub(crate) limit: Option<u32>,
    /// Where the page starts: the cursor in the previous page's `Link` header (opaque).
    pub(crate) after: Option<String>,
}

/// What a listing asks for, checked: `limit` `None` means every room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RoomsPage {
    pub(crate) limit: Option<u32>,
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

/// The last room of a page, in the listing's order (creation time, then id). Opaque to clients
/// so that its form may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RoomCursor {
    /// To the microsecond, as PostgreSQL stores it.
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) id: Uuid,
}

impl RoomCursor {
    pub(crate) fn encode(&self) -> String {
        let plain = format!("{}.{}", self.created_at.timestamp_micros(), self.id);
        URL_SAFE_NO_PAD.encode(plain)
    }

    pub(crate) fn decode(raw: &str) -> Result<Self, QueryError> {
        let invalid = || QueryError::InvalidParameter(NOT_A_CURSOR);
        let plain = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
        let plain = std::str::from_utf8(&plain).map_err(|_| invalid())?;
        let (micros, id) = plain.split_once('.').ok_or_else(invalid)?;
        let micros: i64 = micros.parse().map_err(|_| invalid())?;
        Ok(Self {
            created_at: DateTime::from_timestamp_micros(micros).ok_or_else(invalid)?,
            id: Uuid::try_parse(id).map_err(|_| invalid())?,
        })
    }
}
