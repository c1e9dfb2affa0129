//! Where a projection has read the event store up to, as a transaction horizon (see
//! `eventstore::log::Horizon` for why a position would not do).

use eventstore::log::Horizon;
use sqlx::PgConnection;

/// Where the projection in the connection's current schema has read the store up to.
pub(crate) async fn stored_horizon(connection: &mut PgConnection) -> Result<Horizon, sqlx::Error> {
    sqlx::query_scalar(STORED_HORIZON)
        .fetch_one(connection)
        .await
}

const STORED_HORIZON: &str = "SELECT transaction_id::text FROM projection_horizon";

pub(crate) async fn advance_horizon(
    connection: &mut PgConnection,
    horizon: &Horizon,
) -> Result<(), sqlx::Error> {
    sqlx::query(ADVANCE_HORIZON)
        .bind(horizon)
        .execute(connection)
        .await?;
    Ok(())
}

const ADVANCE_HORIZON: &str =
    "UPDATE projection_horizon SET transaction_id = greatest(transaction_id, $1::xid8)";
