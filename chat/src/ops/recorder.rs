//! The process's one metrics recorder, in Prometheus's text format, and the gauges that are read
//! when scraped rather than kept up to date.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio_util::sync::CancellationToken;

/// Every histogram's buckets, in seconds: from a fast HTTP answer to a socket that waited out a
/// broker outage.
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How often the histograms' recent samples are folded in between scrapes, so they never pile up.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

pub const OUTBOX_PENDING: &str = "chat_outbox_pending";
pub const DEAD_LETTERS: &str = "chat_dead_letters";

/// The recorder every metric of the process goes to, installed on first use (tests run several
/// apps in one process: they share it).
pub(crate) fn recorder() -> PrometheusHandle {
    static RECORDER: OnceLock<PrometheusHandle> = OnceLock::new();
    RECORDER
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&BUCKETS)
                .expect("buckets are given")
                .build_recorder();
            let handle = recorder.handle();
            if let Err(error) = metrics::set_global_recorder(recorder) {
                tracing::warn!(%error, "another metrics recorder is installed; /metrics stays empty");
            }
            describe();
            handle
        })
        .clone()
}

fn describe() {
    api_kit::describe_metrics();
    bus::describe_metrics();
    projector::describe_metrics();
    fanout::describe_metrics();
    metrics::describe_gauge!(
        OUTBOX_PENDING,
        "Events committed and not yet published by the relay (read when scraped)"
    );
    metrics::describe_gauge!(
        DEAD_LETTERS,
        "Events waiting in the dead-letter queue (read when scraped)"
    );
}

/// Folds the histograms' recent samples in regularly until `shutdown`.
pub(crate) fn spawn_upkeep(handle: PrometheusHandle, shutdown: CancellationToken) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(UPKEEP_EVERY);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = every.tick() => handle.run_upkeep(),
            }
        }
    });
}
