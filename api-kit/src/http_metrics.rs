//! What every HTTP request is counted and timed by. Labels are bounded whatever clients send: the
//! route is the template the request matched (`/rooms/{room_id}/messages`), never its path, and
//! methods outside the standard ones share one label.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;

pub const HTTP_REQUESTS: &str = "chat_http_requests_total";
pub const HTTP_REQUEST_DURATION: &str = "chat_http_request_duration_seconds";

const SERVER_TIMING: HeaderName = HeaderName::from_static("server-timing");

/// The `route` of a request that matched no route (the web client, or a 404).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Registers the HTTP metrics' help texts with the installed recorder.
pub fn describe_metrics() {
    metrics::describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests answered, by route template, method and status"
    );
    metrics::describe_histogram!(
        HTTP_REQUEST_DURATION,
        metrics::Unit::Seconds,
        "Time to answer an HTTP request, by route template and method"
    );
}

/// Middleware: counts and times the request under its route template, and tells the client the
/// same time in the standard `Server-Timing` header (`app;dur=<ms>`), so clients and benchmarks
/// can tell server time from network time. Layered on a router, it runs after routing, so the
/// matched route is known.
pub async fn time_answers(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED_ROUTE.to_owned(), |path| path.as_str().to_owned());
    let method = method_label(request.method());
    let started = Instant::now();
    let mut response = next.run(request).await;
    let took = started.elapsed();
    let timing = format!("app;dur={:.3}", took.as_secs_f64() * 1000.0);
    let timing = HeaderValue::from_str(&timing).expect("a number is a valid header value");
    response.headers_mut().insert(SERVER_TIMING, timing);
    let status = response.status().as_u16().to_string();
    metrics::histogram!(HTTP_REQUEST_DURATION, "route" => route.clone(), "method" => method)
        .record(took.as_secs_f64());
    metrics::counter!(HTTP_REQUESTS, "route" => route, "method" => method, "status" => status)
        .increment(1);
    response
}

/// A method's label: any other than the standard ones is `other`, so a client inventing
/// methods cannot make new series.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invented_methods_share_one_label() {
        assert_eq!(method_label(&Method::POST), "POST");
        for invented in ["FOO", "BREW", "CONNECT", "TRACE"] {
            assert_eq!(
                method_label(&Method::from_bytes(invented.as_bytes()).unwrap()),
                "other"
            );
        }
    }
}
