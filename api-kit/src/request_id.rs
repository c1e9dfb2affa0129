use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// Taken from the request or made at the edge (tower-http's request-id layers), echoed in the
/// answer, logged, and stored in the metadata of the events the request causes.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

#[derive(Debug, Clone, Default)]
pub struct RequestId(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        let id = parts
            .headers
            .get(REQUEST_ID_HEADER)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        Ok(Self(id))
    }
}
