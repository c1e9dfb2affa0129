//! HTTP conventions shared by every role of the chat server, so that each answers alike:
//! one error body (`{detail, code}`), extractors whose rejections use it instead of axum's plain
//! text, the request id, keyed rate limits, the header that says a read-your-writes wait ran
//! out, a listening socket that holds a reconnect storm, and the metrics every request counts in.

mod client_address;
mod error;
mod extract;
mod http_metrics;
mod listen;
mod openapi;
mod projection;
mod rate_limit;
mod request_id;

pub use client_address::{resolve_client_address, ClientAddress, Network, TrustedProxies};
pub use error::{ApiError, Chain, ErrorBody};
pub use extract::{Json, JsonOrEmpty, Path, Query};
pub use http_metrics::{
    describe_metrics, time_answers, HTTP_REQUESTS, HTTP_REQUEST_DURATION, UNMATCHED_ROUTE,
};
pub use listen::listen;
pub use openapi::{
    error_responses, ErrorCase, JSON_BODY_ERRORS, PATH_ERRORS, QUERY_ERRORS, RATE_LIMITED,
    STORE_ERRORS, UNAVAILABLE,
};
pub use projection::{AfterProjection, PROJECTION_PENDING_HEADER};
pub use rate_limit::{FailureLimiter, RateLimited, RateLimiter, RatePolicy};
pub use request_id::{
    drop_unacceptable_request_id, is_acceptable_request_id, RequestId, REQUEST_ID_HEADER,
};
