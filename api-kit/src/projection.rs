use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};

/// Set (to `true`) on an answer given before the projection caught up with the write it
/// answers or the sequence a read asked for: the answer is right, a read may be stale.
pub const PROJECTION_PENDING_HEADER: &str = "x-projection-pending";

/// An answer that waited for the projection, and whether the wait ran out first.
#[derive(Debug)]
pub struct AfterProjection<T> {
    pub body: T,
    pub pending: bool,
}

impl<T: IntoResponse> IntoResponse for AfterProjection<T> {
    fn into_response(self) -> Response {
        let mut response = self.body.into_response();
        if self.pending {
            response
                .headers_mut()
                .insert(PROJECTION_PENDING_HEADER, HeaderValue::from_static("true"));
        }
        response
    }
}
