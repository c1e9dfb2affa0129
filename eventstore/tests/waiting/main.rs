//! Read-your-writes waits against the real PostgreSQL, with the projector's commits played by
//! plain SQL: what a waiter costs while the projection works on other aggregates.

use std::time::Duration;

use eventstore::{projection_notices, ProjectionWaiter};
use sqlx::PgPool;

/// What a projector commit does: moves the aggregate's checkpoint and says so.
async fn project(pool: &PgPool, aggregate_id: &str, sequence: i64) {
    let mut transaction = pool.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO projection_checkpoints (aggregate_type, aggregate_id, last_seq)
         VALUES ('Room', $1, $2)
         ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE SET last_seq = EXCLUDED.last_seq",
    )
    .bind(aggregate_id)
    .bind(sequence)
    .execute(&mut *transaction)
    .await
    .unwrap();
    sqlx::query("SELECT pg_notify('projection', notice) FROM UNNEST($1::text[]) AS notice")
        .bind(projection_notices([("Room", aggregate_id, sequence)]))
        .execute(&mut *transaction)
        .await
        .unwrap();
    transaction.commit().await.unwrap();
}

#[tokio::test]
async fn waiters_look_at_the_table_once_however_busy_other_rooms_are_and_wake_for_their_own() {
    let (_, pool) = testkit::fresh_database().await;
    let waiter = ProjectionWaiter::start(pool.clone());
    // The listener is listening once a waiter that looked before the commit is woken.
    let warm_up = {
        let waiter = waiter.clone();
        tokio::spawn(async move {
            waiter
                .wait("Room", "warm-up", 1, Duration::from_secs(10))
                .await
                .unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    project(&pool, "warm-up", 1).await;
    assert!(warm_up.await.unwrap());
    let before = waiter.lookups();

    let waits: Vec<_> = (0..20)
        .map(|_| {
            let waiter = waiter.clone();
            tokio::spawn(async move {
                waiter
                    .wait("Room", "mine", 5, Duration::from_secs(30))
                    .await
                    .unwrap()
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    for sequence in 1..=200 {
        project(&pool, "another room", sequence).await;
    }
    project(&pool, "mine", 4).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        waiter.lookups() - before,
        20,
        "each waiter looked once, when it started"
    );

    project(&pool, "mine", 5).await;
    for wait in waits {
        assert!(
            wait.await.unwrap(),
            "woken when its room reached its sequence"
        );
    }
    assert_eq!(waiter.lookups() - before, 20);
}

#[tokio::test]
async fn a_waiter_whose_sequence_is_never_reached_gives_up_at_its_timeout() {
    let (_, pool) = testkit::fresh_database().await;
    let waiter = ProjectionWaiter::start(pool.clone());
    project(&pool, "mine", 2).await;
    let reached = waiter
        .wait("Room", "mine", 3, Duration::from_millis(300))
        .await
        .unwrap();
    assert!(!reached);
}
