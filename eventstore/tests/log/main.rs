//! The event log's reads against the real PostgreSQL: page boundaries, the transaction horizon,
//! and what a reader's checkpoints leave out. Events are written with plain SQL, as any writer
//! of the `events` table would.

use cqrs_es::Aggregate;
use domain::Room;
use eventstore::log::{AppliedCheckpoints, Horizon, HorizonPages, PAGE_SIZE};
use eventstore::{EventLog, EventLogError, OutboxEvent, StoredEvent};
use sqlx::{Connection, PgConnection, PgPool};

const WRITE: &str = "
INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload,
                    metadata)
SELECT $1, $2, s, 'Noted', '1', json_build_object('Noted', json_build_object('n', s)),
       json_build_object('user_id', $3::text)
  FROM generate_series($4::bigint, $5::bigint) AS s";

/// Writes events `from..=to` of one aggregate, caused by `user_id`.
async fn write(
    connection: &mut PgConnection,
    aggregate: (&str, &str),
    user_id: &str,
    from: i64,
    to: i64,
) {
    sqlx::query(WRITE)
        .bind(aggregate.0)
        .bind(aggregate.1)
        .bind(user_id)
        .bind(from)
        .bind(to)
        .execute(connection)
        .await
        .unwrap();
}

async fn write_committed(pool: &PgPool, aggregate: (&str, &str), user_id: &str, to: i64) {
    let mut connection = pool.acquire().await.unwrap();
    write(&mut connection, aggregate, user_id, 1, to).await;
}

fn sequences(events: &[StoredEvent]) -> Vec<i64> {
    events.iter().map(|event| event.sequence).collect()
}

#[tokio::test]
async fn an_aggregate_reads_in_pages_of_at_most_500() {
    let (_, pool) = testkit::fresh_database().await;
    write_committed(&pool, ("Note", "a"), "u1", 2 * PAGE_SIZE as i64 + 1).await;
    let log = EventLog::new(pool);
    let mut after = 0;
    let mut sizes = Vec::new();
    loop {
        let page = log
            .aggregate_page("Note", "a", after, 10_000)
            .await
            .unwrap();
        sizes.push(page.len());
        let Some(last) = page.last() else { break };
        assert_eq!(
            last.sequence,
            after + page.len() as i64,
            "in order, gapless"
        );
        after = last.sequence;
    }
    assert_eq!(sizes, [PAGE_SIZE, PAGE_SIZE, 1, 0]);
    assert!(log.has_events("Note", "a").await.unwrap());
    assert!(!log.has_events("Note", "b").await.unwrap());
    let one = log.event("Note", "a", 7).await.unwrap().unwrap();
    assert_eq!(one.payload["Noted"]["n"], 7);
    assert!(log.event("Note", "a", 5000).await.unwrap().is_none());
}

#[tokio::test]
async fn a_user_s_events_read_by_position_in_pages() {
    let (_, pool) = testkit::fresh_database().await;
    write_committed(&pool, ("Note", "a"), "u1", 600).await;
    write_committed(&pool, ("Note", "b"), "u2", 3).await;
    let log = EventLog::new(pool);
    let first = log.caused_by("u1", 0, 10_000).await.unwrap();
    assert_eq!(first.len(), PAGE_SIZE);
    let rest = log
        .caused_by("u1", first.last().unwrap().position, 10_000)
        .await
        .unwrap();
    assert_eq!(rest.len(), 100);
    assert_eq!(log.caused_by("u2", 0, 2).await.unwrap().len(), 2);
}

#[tokio::test]
async fn an_event_that_does_not_decode_is_told_from_an_unreachable_database() {
    let (_, pool) = testkit::fresh_database().await;
    write_committed(&pool, (Room::TYPE, "r"), "u1", 1).await;
    let log = EventLog::new(pool.clone());
    let error = log.events_after::<Room>("r", 0).await.unwrap_err();
    assert!(
        matches!(error, EventLogError::Undecodable { sequence: 1, .. }),
        "{error:?}"
    );
    pool.close().await;
    let error = log.events_after::<Room>("r", 0).await.unwrap_err();
    assert!(matches!(error, EventLogError::Database(_)), "{error:?}");
}

#[tokio::test]
async fn the_outbox_batch_leaves_out_what_is_in_flight_and_holds_a_page_at_most() {
    let (_, pool) = testkit::fresh_database().await;
    write_committed(&pool, ("Note", "a"), "u1", 700).await;
    let log = EventLog::new(pool);
    let batch = log.outbox_batch(&[], 10_000).await.unwrap();
    assert_eq!(batch.len(), PAGE_SIZE);
    let in_flight: Vec<i64> = batch.iter().map(|event| event.position).collect();
    let next = log.outbox_batch(&in_flight, 10_000).await.unwrap();
    assert_eq!(
        sequences(&envelopes(&next)),
        (501..=700).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn an_outbox_envelope_is_the_stored_event_as_every_consumer_reads_it() {
    let (_, pool) = testkit::fresh_database().await;
    write_committed(&pool, ("Note", "a"), "u1", 3).await;
    sqlx::query("UPDATE events SET payload = $1::json, metadata = $2::json WHERE sequence = 2")
        .bind(
            r#"{"Written": {"text": "quotes \" and \\ back\nslash, é, 😀", "n": [1, 2.5, null]}}"#,
        )
        .bind(r#"{"user_id": "u1", "request_id": null}"#)
        .execute(&pool)
        .await
        .unwrap();
    let log = EventLog::new(pool.clone());
    let outbox = log.outbox_batch(&[], 10).await.unwrap();
    let mut connection = pool.acquire().await.unwrap();
    let stored = EventLog::on(&mut connection)
        .next_page(&mut HorizonPages::all(Horizon::start()))
        .await
        .unwrap();
    assert_eq!(envelopes(&outbox), stored);
    for (event, stored) in outbox.iter().zip(&stored) {
        assert_eq!(event.position, stored.position);
        assert_eq!(event.event_type, stored.event_type);
        assert_eq!(event.routing_key, stored.routing_key());
    }
}

/// The events as a consumer of the bus decodes them.
fn envelopes(batch: &[OutboxEvent]) -> Vec<StoredEvent> {
    batch
        .iter()
        .map(|event| serde_json::from_slice(&event.envelope).unwrap())
        .collect()
}

#[tokio::test]
async fn a_transaction_in_flight_holds_the_horizon_back_until_it_commits() {
    let (url, pool) = testkit::fresh_database().await;
    let mut slow = PgConnection::connect(&url).await.unwrap();
    let mut in_flight = slow.begin().await.unwrap();
    // Its position comes first, but it commits last.
    write(&mut in_flight, ("Note", "slow"), "u1", 1, 1).await;
    write_committed(&pool, ("Note", "fast"), "u1", 2).await;

    let mut connection = pool.acquire().await.unwrap();
    let mut log = EventLog::on(&mut connection);
    let horizon = log.current_horizon().await.unwrap();
    let mut pages = HorizonPages::all(Horizon::start());
    let seen = log.next_page(&mut pages).await.unwrap();
    assert_eq!(seen.len(), 2, "only the committed events are visible");
    assert!(log.next_page(&mut pages).await.unwrap().is_empty());

    in_flight.commit().await.unwrap();
    // A reader that starts again from the horizon finds the late one.
    let mut again = HorizonPages::all(horizon);
    let late: Vec<String> = log
        .next_page(&mut again)
        .await
        .unwrap()
        .into_iter()
        .map(|event| event.aggregate_id)
        .collect();
    assert!(late.contains(&"slow".to_owned()), "{late:?}");
}

#[tokio::test]
async fn a_catch_up_reads_only_what_the_reader_s_checkpoints_do_not_cover() {
    let (_, pool) = testkit::fresh_database().await;
    write_committed(&pool, ("Note", "a"), "u1", 5).await;
    write_committed(&pool, ("Note", "b"), "u1", 2).await;
    sqlx::query("INSERT INTO projection_checkpoints VALUES ('Note', 'a', 3), ('Note', 'b', 2)")
        .execute(&pool)
        .await
        .unwrap();
    let mut connection = pool.acquire().await.unwrap();
    let mut log = EventLog::on(&mut connection);
    let checkpoints = AppliedCheckpoints::table("public.projection_checkpoints");
    let mut pages = HorizonPages::unapplied(Horizon::start(), checkpoints);
    let unapplied = log.next_page(&mut pages).await.unwrap();
    let keys: Vec<(String, i64)> = unapplied
        .into_iter()
        .map(|event| (event.aggregate_id, event.sequence))
        .collect();
    assert_eq!(keys, [("a".to_owned(), 4), ("a".to_owned(), 5)]);
}

#[tokio::test]
async fn the_events_between_two_sequences_read_in_pages() {
    let (_, pool) = testkit::fresh_database().await;
    write_committed(&pool, ("Note", "a"), "u1", 1200).await;
    let mut connection = pool.acquire().await.unwrap();
    let mut log = EventLog::on(&mut connection);
    let first = log.events_between("Note", "a", 10, 1100).await.unwrap();
    assert_eq!(sequences(&first), (11..=510).collect::<Vec<_>>());
    let last = log.events_between("Note", "a", 1000, 1100).await.unwrap();
    assert_eq!(sequences(&last), (1001..=1099).collect::<Vec<_>>());
}
