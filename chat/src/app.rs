//! Composes the roles' routers on one origin and applies, once, what every request gets:
//! request ids, the client's address, tracing, CORS, the body limit and security headers.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use api_kit::{ApiError, TrustedProxies, REQUEST_ID_HEADER};
use auth::bots::BotKeys;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;
use axum::Router;
use command_api::CommandState;
use commands::Commands;
use fanout::{FanoutState, Hub};
use query_api::QueryState;
use tower::util::MapRequestLayer;
use tower::ServiceExt;
use tower_http::cors::{AllowHeaders, AllowMethods, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::TraceLayer;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::headers::SecurityHeaders;
use crate::{Lifecycle, Ops, Pools, Roles, Settings};

/// Requests larger than this are refused with 413.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Paths that belong to the API: an unknown one is a JSON 404, never the web client's page.
const API_PREFIXES: [&str; 10] = [
    "/auth",
    "/bots",
    "/events",
    "/rooms",
    "/users",
    "/audit",
    "/search",
    "/ws",
    "/docs",
    "/openapi.json",
];

/// The HTTP application for `roles`. Command and query routes share paths with different
/// methods (`POST /rooms/` and `GET /rooms/`), which merging allows; the one fallback serves
/// the web client. The WebSocket gateway subscribes its node to the bus here (the queue is bound
/// when this answers) and joins the other nodes' presence mesh; both, and the open sockets, end
/// when the lifecycle's `shutdown` is cancelled (sockets with 1012, so clients resume). Every
/// role serves the health, readiness and metrics of `ops`; a role without an API (the
/// projector) serves only those.
pub async fn build_app(
    pools: &Pools,
    settings: &Settings,
    roles: Roles,
    lifecycle: &Lifecycle,
    ops: &Ops,
) -> anyhow::Result<Router> {
    let origins = settings.allowed_origins()?;
    if !roles.serves_api() {
        let app = Router::new().fallback(|| async { not_found() });
        return with_edge_layers(
            app.merge(ops.routes()),
            &origins,
            settings.trusted_proxies()?,
        );
    }
    let tokens = Arc::new(
        settings
            .tokens()?
            .with_bots(BotKeys::new(pools.commands.clone())),
    );
    auth::revocations::follow(pools.revocations.clone(), tokens.revocations().clone())
        .await
        .context("loading the token revocations")?;
    let commands = roles.writes().then(|| {
        Commands::new(
            pools.commands.clone(),
            tokens.clone(),
            &settings.command_settings(),
        )
    });
    if let Some(commands) = &commands {
        // Held read positions are committed once the process is told to stop; moves after
        // that commit at once (see `commands::reads`).
        let commands = commands.clone();
        let shutdown = lifecycle.shutdown.clone();
        lifecycle.sockets.spawn(async move {
            shutdown.cancelled().await;
            commands.flush_read_marks().await;
        });
    }
    let mut api = Router::new();
    if let (true, Some(commands)) = (roles.command_api, &commands) {
        let routes = command_api::routes().split_for_parts().0;
        api = api.merge(routes.with_state(CommandState::new(commands.clone())));
    }
    if let (true, Some(commands)) = (roles.query_api, &commands) {
        let tail = query_api::Tail::start(
            pools.queries.clone(),
            &pools.feed_listener,
            lifecycle.shutdown.clone(),
        )
        .await
        .context("following the event log for the feed")?;
        let feed = query_api::Feed {
            tail,
            streams: query_api::StreamCounts::new(settings.feed_max_per_user),
            shutdown: lifecycle.shutdown.clone(),
        };
        let state = QueryState::new(pools.queries.clone(), commands.clone()).with_feed(feed);
        api = api.merge(query_api::routes().split_for_parts().0.with_state(state));
    }
    if let (true, Some(commands)) = (roles.fanout, commands) {
        let hub = Hub::new(pools.fanout.clone(), fanout::DEFAULT_LAG_ALLOWANCE);
        let bus = settings.bus()?;
        let shutdown = &lifecycle.shutdown;
        fanout::start_node(hub.clone(), &bus, shutdown.clone())
            .await
            .context("subscribing the WebSocket gateway to the bus")?;
        fanout::start_mesh(hub.clone(), &bus, shutdown.clone())
            .await
            .context("joining the other WebSocket gateways")?;
        let state = FanoutState::new(
            hub,
            commands,
            settings.keepalive(),
            shutdown.clone(),
            lifecycle.sockets.clone(),
        )
        .with_caps(settings.socket_caps());
        api = api.merge(fanout::routes().split_for_parts().0.with_state(state));
    }
    let web_dir = settings.web_dir.clone();
    let app = api
        .merge(
            SwaggerUi::new("/docs")
                .url("/openapi.json", crate::openapi::document())
                .config(swagger_ui_config()),
        )
        .fallback(move |request: Request| web_client(web_dir.clone(), request));
    with_edge_layers(
        app.merge(ops.routes()),
        &origins,
        settings.trusted_proxies()?,
    )
}

/// Swagger UI shows what the document says about each value (patterns, lengths, ranges), the
/// links between operations, and how long each call took.
fn swagger_ui_config() -> Config<'static> {
    Config::default()
        .show_common_extensions(true)
        .show_extensions(true)
        .display_request_duration(true)
        .default_models_expand_depth(2)
}

fn with_edge_layers(
    app: Router,
    origins: &[String],
    trusted_proxies: TrustedProxies,
) -> anyhow::Result<Router> {
    let request_id = HeaderName::from_static(REQUEST_ID_HEADER);
    // Checked by the configuration: `allowed_origins` answers only valid header values.
    let origins = origins
        .iter()
        .map(|origin| HeaderValue::from_str(origin))
        .collect::<Result<Vec<_>, _>>()?;
    let cors = CorsLayer::new()
        .allow_origin(origins)
        .allow_methods(AllowMethods::mirror_request())
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers([request_id.clone()]);
    let trace = TraceLayer::new_for_http().make_span_with(|request: &Request| {
        let id = request
            .headers()
            .get(REQUEST_ID_HEADER)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        tracing::info_span!("request", id, method = %request.method(), path = request.uri().path())
    });
    // Layers added last run first: an unacceptable id is dropped, a fresh one set before the
    // span opens, and copied to the answer. `from_fn` middleware clones the stack beneath it on
    // every request, so it only comes innermost, where that is the route alone; the rest are
    // request maps and services that call what is beneath them as it is.
    Ok(app
        .layer(middleware::from_fn(api_kit::time_answers))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(cors)
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(trace)
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(MapRequestLayer::new(move |request| {
            api_kit::resolve_client_address(&trusted_proxies, request)
        }))
        .layer(MapRequestLayer::new(api_kit::drop_unacceptable_request_id))
        // Outermost, so that every answer has them, CORS preflights included.
        .layer(SecurityHeaders::layer()))
}

fn not_found() -> Response {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "Not Found").into_response()
}

/// Serves the built web client; any client route (`/room/…`) gets its `index.html`.
async fn web_client(web_dir: std::path::PathBuf, request: Request) -> Response {
    let path = request.uri().path();
    if API_PREFIXES.iter().any(|prefix| path.starts_with(prefix)) {
        return not_found();
    }
    let index = web_dir.join("index.html");
    if !Path::new(&index).exists() {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "web_client_missing",
            "The web client is not built; `make run` builds it",
        )
        .into_response();
    }
    ServeDir::new(&web_dir)
        .fallback(ServeFile::new(index))
        .oneshot(request)
        .await
        .into_response()
}

/// Serves `app` on `listener` until `shutdown` completes. Handlers see the peer address, which
/// the login rate limit keys on.
///
/// Every connection writes each frame at once (`TCP_NODELAY`). Otherwise a small frame waits
/// while the peer holds back its acknowledgement of the one before (delayed ACK, 40 ms on
/// Linux): a socket that both sent and received, its acks among deliveries, saw its acks take
/// 44 ms at the median instead of 6 ms (S3).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listener = listener.tap_io(|connection| {
        if let Err(error) = connection.set_nodelay(true) {
            tracing::debug!(%error, "TCP_NODELAY not set on a connection");
        }
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("serving HTTP")
}
