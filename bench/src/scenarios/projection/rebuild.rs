//! S5's rebuild half: `chat rebuild` of a mixed history written straight into the store.

use testkit::seed::{self, Shape};

use super::database::BenchDb;
use super::{load_average, raw_scan};
use crate::{Figure, Goal, ScenarioReport};

/// Rebuild size.
const REBUILD_EVENTS: usize = 1_000_000;

pub(super) async fn run(scale: usize) -> anyhow::Result<ScenarioReport> {
    let load_before = load_average();
    let db = BenchDb::create().await?;
    let events = REBUILD_EVENTS / scale;
    let history = seed::history(&mixed(events));
    let seeding = crate::scenarios::progress(history.len() as u64, "seeding the store");
    for chunk in history.chunks(10_000) {
        seed::write(&db.pool, chunk, 10_000).await?;
        seeding.inc(chunk.len() as u64);
    }
    seeding.finish_and_clear();
    // Nothing relays in this scenario: the outbox would only slow the rebuild's reads.
    sqlx::query("TRUNCATE outbox").execute(&db.pool).await?;
    sqlx::query("VACUUM ANALYZE events")
        .execute(&db.pool)
        .await?;
    drop(history);

    let (scanned, scan) = raw_scan(&db.pool).await?;
    let rebuilding = crate::scenarios::progress(scanned, "chat rebuild");
    let report = projector::rebuild(&db.pool, |progress| {
        rebuilding.set_length(progress.total);
        rebuilding.set_position(progress.read);
    })
    .await?;
    rebuilding.finish_and_clear();
    let rate = report.events as f64 / report.elapsed.as_secs_f64();
    let scan_rate = scanned as f64 / scan.as_secs_f64();
    db.drop().await?;
    Ok(ScenarioReport {
        baseline_server: None,
        id: "S5",
        title: "rebuild: `chat rebuild` of the whole store",
        figures: vec![Figure::new(
            format!(
                "rebuild of {} events (passes, indexes, swap)",
                report.events
            ),
            rate,
            "events/s",
        )
        .goal(Goal::AtLeast(20_000.0))
        .baseline(scan_rate)],
        notes: vec![format!(
            "A mixed history (users, rooms, joins, leaves, owner hand-overs, messages) written \
             straight into the store; the rebuild took {:.1} s, the baseline raw scan of the \
             same events in position order {:.1} s. Load average on the machine: {} before, {} \
             after.",
            report.elapsed.as_secs_f64(),
            scan.as_secs_f64(),
            load_before,
            load_average(),
        )],
    })
}

/// The mixed history of the tests, at benchmark size: a quarter of the events are users,
/// rooms and membership, the rest messages.
fn mixed(events: usize) -> Shape {
    let rooms = events / 500;
    Shape {
        users: events / 500,
        rooms,
        members_per_room: 10,
        messages: 0,
        // Posts only: the figures stay comparable with those measured before messages changed.
        changed_messages: 0,
        rooms_with_leavers: rooms / 4,
    }
    .filled_to(events)
}
