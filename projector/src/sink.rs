//! Where the events the projection cannot apply go.

use std::future::Future;

use bus::{EventEnvelope, Feed};

use crate::ProjectorError;

/// An event that cannot be applied, and why. The projection moves past it.
#[derive(Debug)]
pub(crate) struct Poisoned {
    pub(crate) envelope: EventEnvelope,
    pub(crate) reason: String,
}

/// Where poisoned events go: the live projector's dead-letter queue, or a rebuild's log (the
/// live projector already dead-lettered them).
pub(crate) trait PoisonSink: Send {
    fn poisoned(
        &mut self,
        poisoned: &Poisoned,
    ) -> impl Future<Output = Result<(), ProjectorError>> + Send;
}

pub(crate) struct DeadLetters<'a, F>(pub(crate) &'a mut F);

impl<F: Feed> PoisonSink for DeadLetters<'_, F> {
    async fn poisoned(&mut self, poisoned: &Poisoned) -> Result<(), ProjectorError> {
        tracing::warn!(
            aggregate_type = poisoned.envelope.aggregate_type,
            aggregate_id = poisoned.envelope.aggregate_id,
            sequence = poisoned.envelope.sequence,
            reason = poisoned.reason,
            "dead-lettering an event the projection cannot apply"
        );
        let body = serde_json::to_vec(&poisoned.envelope).expect("an envelope serialises");
        let routing_key = poisoned.envelope.routing_key();
        self.0
            .dead_letter(&body, &routing_key, &poisoned.reason)
            .await?;
        Ok(())
    }
}

/// Poisoned events are only logged.
pub(crate) struct LogPoisoned;

impl PoisonSink for LogPoisoned {
    async fn poisoned(&mut self, poisoned: &Poisoned) -> Result<(), ProjectorError> {
        tracing::warn!(
            position = poisoned.envelope.position,
            reason = poisoned.reason,
            "skipping an event the projection cannot apply"
        );
        Ok(())
    }
}
