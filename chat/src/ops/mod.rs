//! What every role tells its operators, on its own listening address: `/healthz` (the process
//! serves), `/readyz` (its dependencies answer: 503 naming the one that does not) and
//! `/metrics` (Prometheus). Not part of the public API: the proxy in front does not route them.

mod probe;
mod readiness;
mod recorder;

use std::sync::Arc;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bus::BrokerProbe;
use metrics_exporter_prometheus::PrometheusHandle;
use projector::ProjectionLag;
use serde_json::json;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::{Pools, Roles, Settings};
pub use probe::probe;
use readiness::{in_time, Dependencies, Readiness};
pub use recorder::{DEAD_LETTERS, OUTBOX_PENDING};

/// A process's health, readiness and metrics; cheap to clone.
#[derive(Clone)]
pub struct Ops {
    inner: Arc<Inner>,
}

struct Inner {
    roles: Roles,
    metrics: PrometheusHandle,
    readiness: Readiness,
    /// Where the outbox is counted, in the roles that write events.
    outbox: Option<PgPool>,
    /// How far behind the projector is, in the roles that run it; reported to by it.
    projection_lag: ProjectionLag,
}

impl Ops {
    /// What `roles` depend on and report. Installs the process's metrics recorder first, so that
    /// every handle taken afterwards records.
    pub fn new(roles: Roles, pools: &Pools, settings: &Settings) -> anyhow::Result<Self> {
        let metrics = recorder::recorder();
        let broker = (roles.writes() || roles.projector)
            .then(|| settings.bus().map(BrokerProbe::new))
            .transpose()?;
        let projection_lag = ProjectionLag::default();
        let projection = (roles.projector && !settings.ready_max_lag.is_zero())
            .then(|| (projection_lag.clone(), settings.ready_max_lag));
        let readiness = Readiness::new(Dependencies {
            database: pools.readiness.clone(),
            broker,
            projection,
        });
        let inner = Inner {
            roles,
            metrics,
            readiness,
            outbox: roles.writes().then(|| pools.commands.clone()),
            projection_lag,
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// Where the projector of this process reports how far behind it is.
    pub fn projection_lag(&self) -> ProjectionLag {
        self.inner.projection_lag.clone()
    }

    /// Keeps the metrics' histograms folded in until `shutdown`.
    pub fn spawn_upkeep(&self, shutdown: CancellationToken) {
        recorder::spawn_upkeep(self.inner.metrics.clone(), shutdown);
    }

    /// `/healthz`, `/readyz` and `/metrics`.
    pub fn routes(&self) -> Router {
        let (ready, metrics) = (self.clone(), self.clone());
        Router::new()
            .route("/healthz", get(|| async { Json(json!({"serving": true})) }))
            .route("/readyz", get(move || async move { ready.ready().await }))
            .route(
                "/metrics",
                get(move || async move { metrics.metrics().await }),
            )
    }

    async fn ready(&self) -> Response {
        let verdict = self.inner.readiness.verdict().await;
        let status = if verdict.ready {
            StatusCode::OK
        } else {
            StatusCode::SERVICE_UNAVAILABLE
        };
        (status, Json(verdict.body)).into_response()
    }

    async fn metrics(&self) -> Response {
        self.read_gauges().await;
        let text = self.inner.metrics.render();
        (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response()
    }

    /// Sets the gauges that are read rather than kept: what waits in the outbox and in the
    /// dead-letter queue, and the projector's lag (which grows while nothing happens). A look
    /// that fails leaves its gauge as it was.
    async fn read_gauges(&self) {
        let dependencies = self.inner.readiness.dependencies();
        let runs_projector = self.inner.roles.projector;
        if runs_projector {
            metrics::gauge!(projector::PROJECTOR_LAG)
                .set(self.inner.projection_lag.behind().as_secs_f64());
        }
        if let Some(pool) = &self.inner.outbox {
            match in_time(sqlx::query_scalar::<_, i64>(COUNT_OUTBOX).fetch_one(pool)).await {
                Ok(pending) => metrics::gauge!(OUTBOX_PENDING).set(pending as f64),
                Err(error) => tracing::debug!(%error, "cannot count the outbox"),
            }
        }
        if let (Some(probe), true) = (&dependencies.broker, runs_projector) {
            match in_time(probe.dead_letters_waiting()).await {
                Ok(waiting) => metrics::gauge!(DEAD_LETTERS).set(f64::from(waiting)),
                Err(error) => tracing::debug!(%error, "cannot count the dead letters"),
            }
        }
    }
}

const COUNT_OUTBOX: &str = "SELECT count(*) FROM outbox";
