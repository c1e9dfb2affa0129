//! How far behind the read tables are, as the live projector sees it: what a process's
//! readiness and metrics report.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::apply::Incoming;

/// Events the live projector applied to the read tables.
pub const PROJECTOR_APPLIED: &str = "chat_projector_applied_total";
/// How far behind the read tables are ([`ProjectionLag::behind`]).
pub const PROJECTOR_LAG: &str = "chat_projector_lag_seconds";

/// Registers the projector's metrics' help texts with the installed recorder.
pub fn describe_metrics() {
    metrics::describe_counter!(
        PROJECTOR_APPLIED,
        "Events the projector applied to the read tables"
    );
    metrics::describe_gauge!(
        PROJECTOR_LAG,
        metrics::Unit::Seconds,
        "Age of the oldest event the projector holds and has not applied yet; 0 when it holds none"
    );
}

/// Shared between the projector, which reports to it, and whoever asks; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct ProjectionLag(Arc<Mutex<State>>);

#[derive(Debug, Default)]
struct State {
    /// When the oldest event taken and not yet applied was recorded.
    oldest_pending: Option<DateTime<Utc>>,
}

impl ProjectionLag {
    /// How long ago the oldest event the projector holds and has not yet applied was recorded:
    /// it grows while a batch cannot commit, and with a backlog on the broker (the events that
    /// come are old). Zero when it holds none: it applied everything it was given.
    pub fn behind(&self) -> Duration {
        self.state()
            .oldest_pending
            .map_or(Duration::ZERO, |recorded| age(recorded, Utc::now()))
    }

    /// The projector took `events` and is applying them.
    pub(crate) fn taking(&self, events: &[Incoming]) {
        if let Some(oldest) = events.iter().map(|event| event.envelope.recorded_at).min() {
            let mut state = self.state();
            state.oldest_pending =
                Some(state.oldest_pending.map_or(oldest, |held| held.min(oldest)));
        }
    }

    /// What it took is in the read tables.
    pub(crate) fn applied(&self) {
        self.state().oldest_pending = None;
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().expect("projection lag poisoned")
    }
}

/// Clocks of different machines may disagree a little: an event from the future is 0 old.
fn age(recorded: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    (now - recorded).to_std().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recorded(seconds_ago: i64) -> Incoming {
        Incoming::from(eventstore::StoredEvent {
            position: 1,
            aggregate_type: "Room".into(),
            aggregate_id: "r".into(),
            sequence: 1,
            event_type: "MessagePosted".into(),
            event_version: "1".into(),
            payload: serde_json::Value::Null,
            metadata: serde_json::Value::Null,
            recorded_at: Utc::now() - chrono::Duration::seconds(seconds_ago),
        })
    }

    #[test]
    fn events_held_unapplied_make_the_lag_their_age_and_applying_them_ends_it() {
        let lag = ProjectionLag::default();
        assert_eq!(lag.behind(), Duration::ZERO, "nothing yet");
        let batch = [recorded(5), recorded(60), recorded(1)];
        lag.taking(&batch);
        assert!(
            lag.behind() >= Duration::from_secs(60),
            "{:?}",
            lag.behind()
        );
        lag.applied();
        assert_eq!(lag.behind(), Duration::ZERO);
    }

    #[test]
    fn an_event_stamped_by_a_clock_ahead_is_no_lag() {
        let lag = ProjectionLag::default();
        lag.taking(&[recorded(-30)]);
        assert_eq!(lag.behind(), Duration::ZERO);
    }
}
