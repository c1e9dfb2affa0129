use std::convert::Infallible;

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;

/// Taken from the request or made at the edge (tower-http's request-id layers), echoed in the
/// answer, logged, and stored in the metadata of the events the request causes.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The longest request id a client may choose; it is stored with every event the request causes.
const MAX_REQUEST_ID_CHARS: usize = 64;

#[derive(Debug, Clone, Default)]
pub struct RequestId(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        let id = parts
            .headers
            .get(REQUEST_ID_HEADER)
            .and_then(|value| value.to_str().ok())
            .filter(|id| is_acceptable_request_id(id))
            .map(str::to_owned);
        Ok(Self(id))
    }
}

/// Whether a client's own request id may be kept: 1–64 of `A-Z a-z 0-9 . _ -`, so what every
/// event's metadata stores stays small and safe to log.
pub fn is_acceptable_request_id(id: &str) -> bool {
    (1..=MAX_REQUEST_ID_CHARS).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Drops a request id the client chose that is not acceptable, so the edge makes a fresh one
/// in its place. Runs before the layer that sets missing ids.
pub fn drop_unacceptable_request_id(mut request: Request) -> Request {
    let mut given = request.headers().get_all(REQUEST_ID_HEADER).iter();
    let keep = match (given.next(), given.next()) {
        (Some(id), None) => id.to_str().is_ok_and(is_acceptable_request_id),
        (None, _) => true,
        // Several: none of them is the request's id.
        (Some(_), Some(_)) => false,
    };
    if !keep {
        request.headers_mut().remove(REQUEST_ID_HEADER);
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_ids_of_a_safe_alphabet_are_kept() {
        for kept in ["a", "req-1.2_3", &"x".repeat(64)] {
            assert!(is_acceptable_request_id(kept), "{kept:?} was refused");
        }
        for dropped in ["", &"x".repeat(65), "with space", "é", "a/b", "line\nbreak"] {
            assert!(!is_acceptable_request_id(dropped), "{dropped:?} was kept");
        }
    }
}
