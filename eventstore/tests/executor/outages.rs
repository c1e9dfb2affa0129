use std::time::Duration;

use cqrs_es::persist::PersistenceError;
use eventstore::{ExecuteError, ExecutorOptions};

use crate::helpers::*;

/// A command whose room must be read from the store while an operator terminates the reading
/// backend: the database is out of reach for a moment (callers answer 503 and may retry), which
/// is no fault of ours (a 500).
#[tokio::test]
async fn a_read_cut_short_by_a_terminated_backend_is_an_outage_not_a_fault() {
    let (_, pool) = fresh_database().await;
    let nothing_cached = ExecutorOptions {
        cache_capacity: 0,
        ..ExecutorOptions::default()
    };
    let (rooms, _) = executor(&pool, nothing_cached);
    let room_id = create_room(&rooms).await;

    // Hold the events table so the read waits where it can be terminated.
    let mut holding = pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *holding)
        .await
        .unwrap();
    let posting = tokio::spawn({
        let room_id = room_id.clone();
        async move {
            rooms
                .execute(&room_id, post("alice", "hello", None), &METADATA)
                .await
        }
    });
    // The snapshot's read waits first (a failed one only makes the load read every event),
    // then the events' read.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut terminated = 0;
    while terminated < 2 {
        terminated += sqlx::query_scalar::<_, i64>(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        assert!(
            tokio::time::Instant::now() < deadline,
            "the read never waited"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    holding.rollback().await.unwrap();

    let answer = posting.await.unwrap();
    assert!(
        matches!(
            answer,
            Err(ExecuteError::Store(PersistenceError::ConnectionError(_)))
        ),
        "{answer:?}"
    );
}
