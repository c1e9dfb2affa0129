//! Security headers on every answer: no content sniffing, no referrer leaking a room id, no
//! framing, and for the two pages the server serves (the web client and Swagger UI) a content
//! security policy that allows only what each page loads.

use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use futures::future::Map;
use futures::FutureExt;
use tower::layer::layer_fn;
use tower::{Layer, Service};

/// The web client: its own scripts and styles (React sets styles through the DOM, which a policy
/// does not govern), its inline SVG favicon, and calls to its own origin, sockets included.
const WEB_CLIENT_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Swagger UI: its own scripts, inline styles (it sets style attributes) and data: images (its
/// icons), and calls to this origin ("try it out").
const DOCS_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Adds the headers to every answer. A service of its own rather than `from_fn` middleware: that
/// clones the whole stack beneath it on every request, and as the outermost layer this one has
/// the whole stack beneath it.
#[derive(Clone)]
pub(crate) struct SecurityHeaders<S> {
    inner: S,
}

impl<S> SecurityHeaders<S> {
    pub(crate) fn layer() -> impl Layer<S, Service = Self> + Clone {
        layer_fn(|inner| Self { inner })
    }
}

/// What is done to an answer once it is ready.
type Finish<E> = fn(Result<Response, E>) -> Result<Response, E>;

impl<S> Service<Request> for SecurityHeaders<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Map<S::Future, Finish<S::Error>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let finish: Finish<S::Error> = if request.uri().path().starts_with("/docs") {
            |answer| answer.map(|response| with_headers(response, DOCS_POLICY))
        } else {
            |answer| answer.map(|response| with_headers(response, WEB_CLIENT_POLICY))
        };
        self.inner.call(request).map(finish)
    }
}

fn with_headers(mut response: Response, policy: &'static str) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    response
}
