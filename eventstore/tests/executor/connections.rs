//! What every connection of the system runs with.

use sqlx::postgres::PgConnectOptions;

use crate::helpers::fresh_database;

/// A projector batch over thousands of rows is estimated above `jit_above_cost`, and compiling
/// it cost more than running it.
#[tokio::test]
async fn every_pool_runs_without_the_jit_compiler_and_keeps_the_options_it_was_given() {
    let (url, pool) = fresh_database().await;
    let options: PgConnectOptions = url.parse().unwrap();
    let lazy = eventstore::lazy_pool(options.options([("statement_timeout", "1234ms")]), 1);
    for pool in [&pool, &lazy] {
        let jit: String = sqlx::query_scalar("SHOW jit")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(jit, "off");
    }
    let timeout: String = sqlx::query_scalar("SHOW statement_timeout")
        .fetch_one(&lazy)
        .await
        .unwrap();
    assert_eq!(timeout, "1234ms");
}
