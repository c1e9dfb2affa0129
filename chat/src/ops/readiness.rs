//! Whether the process can do its work now: each dependency its roles need, looked at with a
//! short timeout, at most once a second however often orchestrators and load balancers ask.

use std::time::Duration;

use bus::BrokerProbe;
use projector::ProjectionLag;
use serde_json::{json, Value};
use sqlx::PgPool;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// Longest a dependency may take to answer before it counts as down.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// How long an answer is given again instead of looking anew.
const FRESH_FOR: Duration = Duration::from_secs(1);

/// What the process depends on, each when its roles need it.
pub(crate) struct Dependencies {
    /// A pool of its own, so that one busy with work is not taken for a database that is down.
    pub(crate) database: PgPool,
    pub(crate) broker: Option<BrokerProbe>,
    /// The projector's lag, and the most it may be.
    pub(crate) projection: Option<(ProjectionLag, Duration)>,
}

/// One dependency's state.
struct Check {
    dependency: &'static str,
    up: bool,
    detail: Option<String>,
}

/// Whether every dependency answered, and the answer's body: each dependency's state, and
/// when one is down, which (`down`) and why (`detail`, with the `code` of every error body).
#[derive(Clone)]
pub(crate) struct Verdict {
    pub(crate) ready: bool,
    pub(crate) body: Value,
}

pub(crate) struct Readiness {
    dependencies: Dependencies,
    last: Mutex<Option<(Instant, Verdict)>>,
}

impl Readiness {
    pub(crate) fn new(dependencies: Dependencies) -> Self {
        Self {
            dependencies,
            last: Mutex::new(None),
        }
    }

    pub(crate) fn dependencies(&self) -> &Dependencies {
        &self.dependencies
    }

    /// The dependencies' states, looked at now unless they were a moment ago. Callers that come
    /// while a look is under way wait for it and share its answer.
    pub(crate) async fn verdict(&self) -> Verdict {
        let mut last = self.last.lock().await;
        if let Some((at, verdict)) = last.as_ref() {
            if at.elapsed() < FRESH_FOR {
                return verdict.clone();
            }
        }
        let verdict = self.look().await;
        *last = Some((Instant::now(), verdict.clone()));
        verdict
    }

    async fn look(&self) -> Verdict {
        let (database, broker) = tokio::join!(self.database(), self.broker());
        let checks: Vec<Check> = [Some(database), broker, self.projection()]
            .into_iter()
            .flatten()
            .collect();
        let down: Vec<&str> = checks
            .iter()
            .filter(|check| !check.up)
            .map(|check| check.dependency)
            .collect();
        let listed: Vec<Value> = checks
            .iter()
            .map(|check| json!({"dependency": check.dependency, "up": check.up, "detail": check.detail}))
            .collect();
        let mut body = json!({"ready": down.is_empty(), "down": down, "checks": listed});
        if let Some(first) = checks.iter().find(|check| !check.up) {
            body["code"] = json!("not_ready");
            body["detail"] = json!(format!(
                "{} is down: {}",
                first.dependency,
                first.detail.as_deref().unwrap_or("no answer")
            ));
        }
        Verdict {
            ready: down.is_empty(),
            body,
        }
    }

    async fn database(&self) -> Check {
        let answered = in_time(sqlx::query("SELECT 1").execute(&self.dependencies.database)).await;
        Check::from_answer("database", answered)
    }

    async fn broker(&self) -> Option<Check> {
        let probe = self.dependencies.broker.as_ref()?;
        Some(Check::from_answer("broker", in_time(probe.check()).await))
    }

    fn projection(&self) -> Option<Check> {
        let (lag, most) = self.dependencies.projection.as_ref()?;
        let behind = lag.behind();
        Some(Check {
            dependency: "projection_lag",
            up: behind <= *most,
            detail: Some(format!(
                "{:.3} s behind (at most {} s)",
                behind.as_secs_f64(),
                most.as_secs_f64()
            )),
        })
    }
}

impl Check {
    fn from_answer<T>(dependency: &'static str, answer: Result<T, String>) -> Self {
        Self {
            dependency,
            up: answer.is_ok(),
            detail: answer.err(),
        }
    }
}

/// Awaits `future` for at most [`CHECK_TIMEOUT`]; the error says what went wrong.
pub(crate) async fn in_time<T, E: std::fmt::Display>(
    future: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, String> {
    match tokio::time::timeout(CHECK_TIMEOUT, future).await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err(format!("no answer within {CHECK_TIMEOUT:?}")),
    }
}
