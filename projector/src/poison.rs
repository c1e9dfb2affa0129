//! Events the database refuses to hold. Decoding turns away what the projector can tell is
//! wrong (see `event`); anything else the read tables cannot take only shows when the SQL
//! fails, and then it fails the whole batch, every time it is tried. So such a batch is applied
//! again one event at a time, to find the events at fault, dead-letter them and go on.

use std::collections::BTreeMap;

use sqlx::PgPool;

use crate::apply::{apply, Applied, Incoming};
use crate::checkpoints::{advance_checkpoints, RoomsAdvanced};
use crate::order::in_order;
use crate::sink::{PoisonSink, Poisoned};
use crate::target::{Advanced, Target};
use crate::ProjectorError;

/// Applies `incoming` to `target` in one transaction; if the database refuses the data, applies
/// its events one at a time instead (each in its own transaction), dead-letters every event the
/// database refuses alone and moves its aggregate's checkpoint past it.
///
/// Any other failure is returned as is, for the caller to try again later.
pub(crate) async fn apply_isolating_poison(
    pool: &PgPool,
    target: &Target,
    incoming: &[Incoming],
    sink: &mut impl PoisonSink,
) -> Result<Applied, ProjectorError> {
    let refused = match apply(pool, target, incoming, sink).await {
        Err(error) => match refusal(&error) {
            Some(reason) => reason,
            None => return Err(error),
        },
        applied => return applied,
    };
    tracing::warn!(
        refused,
        events = incoming.len(),
        "the database refused a batch; applying its events one at a time"
    );
    // With the events a gap leaves out, in the order they apply in (by the target's own
    // checkpoints): alone, an event after a gap would bring the missing ones along, and share
    // the blame for their refusal.
    let mut transaction = pool.begin().await?;
    target.enter(&mut transaction).await?;
    let one_by_one = in_order(&mut transaction, incoming).await?;
    transaction.commit().await?;
    let mut total = Applied::default();
    for event in one_by_one.events {
        match apply(pool, target, std::slice::from_ref(&*event), sink).await {
            Ok(applied) => {
                total.events += applied.events;
                total.poisoned += applied.poisoned;
            }
            Err(error) => {
                let Some(reason) = refusal(&error) else {
                    return Err(error);
                };
                let poisoned = Poisoned {
                    envelope: event.into_owned().envelope,
                    reason,
                };
                sink.poisoned(&poisoned).await?;
                move_past(pool, target, &poisoned).await?;
                total.poisoned += 1;
            }
        }
    }
    Ok(total)
}

/// Why PostgreSQL refused the data, when it did: a data exception (SQLSTATE class 22) or an
/// integrity constraint violation (23) comes back the same however often the same event is
/// tried. Anything else (a lost connection, a pool timeout, a serialization failure, a
/// deadlock) may pass on a later try, so it is no reason to give up on an event.
fn refusal(error: &ProjectorError) -> Option<String> {
    let ProjectorError::Database(sqlx::Error::Database(error)) = error else {
        return None;
    };
    let code = error.code()?;
    (code.starts_with("22") || code.starts_with("23")).then(|| {
        format!(
            "PostgreSQL refused it: {} (SQLSTATE {code})",
            error.message()
        )
    })
}

/// Moves the checkpoint of the poisoned event's aggregate past it, so the next event of that
/// aggregate does not read it back from the store as a missing one.
async fn move_past(
    pool: &PgPool,
    target: &Target,
    poisoned: &Poisoned,
) -> Result<(), ProjectorError> {
    let event = &poisoned.envelope;
    let key = (event.aggregate_type.clone(), event.aggregate_id.clone());
    let moved = BTreeMap::from([(key, event.sequence)]);
    let mut transaction = pool.begin().await?;
    target.enter(&mut transaction).await?;
    advance_checkpoints(&mut transaction, moved.clone(), &RoomsAdvanced::default()).await?;
    target
        .committing(&mut transaction, Advanced::These(&moved))
        .await?;
    transaction.commit().await?;
    Ok(())
}
