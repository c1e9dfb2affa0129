//! How far the projection has applied each aggregate: the key to applying each event exactly
//! once and in order.

use std::collections::{BTreeMap, HashMap};

use eventstore::log::AppliedCheckpoints;
use sqlx::PgConnection;
use uuid::Uuid;

pub(crate) type AggregateKey = (String, String);

/// The live projection's checkpoints: a catch-up reads only the events they do not cover.
pub(crate) const LIVE_CHECKPOINTS: AppliedCheckpoints =
    AppliedCheckpoints::table("public.projection_checkpoints");

/// Where each room a batch touched stands after it.
#[derive(Debug, Default)]
pub(crate) struct RoomsAdvanced {
    pub(crate) ids: Vec<Uuid>,
    pub(crate) seqs: Vec<i64>,
    pub(crate) message_counts: Vec<i64>,
}

/// Moves checkpoints forward (never back) to the sequences given, and the rooms' last sequences
/// and message counts with them.
pub(crate) async fn advance_checkpoints(
    connection: &mut PgConnection,
    checkpoints: BTreeMap<AggregateKey, i64>,
    rooms: &RoomsAdvanced,
) -> Result<(), sqlx::Error> {
    let mut types = Vec::with_capacity(checkpoints.len());
    let mut ids = Vec::with_capacity(checkpoints.len());
    let mut seqs = Vec::with_capacity(checkpoints.len());
    for ((aggregate_type, aggregate_id), seq) in checkpoints {
        types.push(aggregate_type);
        ids.push(aggregate_id);
        seqs.push(seq);
    }
    sqlx::query(ADVANCE_CHECKPOINTS)
        .bind(&types)
        .bind(&ids)
        .bind(&seqs)
        .bind(&rooms.ids)
        .bind(&rooms.seqs)
        .bind(&rooms.message_counts)
        .execute(connection)
        .await?;
    Ok(())
}

// One statement, as every statement of a batch is a round trip on the projector's one
// connection, which every live event waits for. One update of each room, its message count with
// its sequence: a second update of the same rows made each of them a second new row version, and
// cost a tenth of a batch of messages.
const ADVANCE_CHECKPOINTS: &str = "
WITH rooms_advanced AS (
    UPDATE rooms r SET last_seq = greatest(r.last_seq, u.seq),
                       message_count = greatest(r.message_count, u.message_count)
      FROM UNNEST($4::uuid[], $5::bigint[], $6::bigint[]) AS u(id, seq, message_count)
     WHERE r.id = u.id)
INSERT INTO projection_checkpoints (aggregate_type, aggregate_id, last_seq)
SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[])
ON CONFLICT (aggregate_type, aggregate_id)
DO UPDATE SET last_seq = greatest(projection_checkpoints.last_seq, EXCLUDED.last_seq)";

pub(crate) async fn checkpoints<'a>(
    connection: &mut PgConnection,
    keys: impl Iterator<Item = &'a AggregateKey>,
) -> Result<HashMap<AggregateKey, i64>, sqlx::Error> {
    let (types, ids): (Vec<&str>, Vec<&str>) = keys
        .map(|(aggregate_type, aggregate_id)| (aggregate_type.as_str(), aggregate_id.as_str()))
        .unzip();
    let rows: Vec<(String, String, i64)> = sqlx::query_as(CHECKPOINTS)
        .bind(&types)
        .bind(&ids)
        .fetch_all(connection)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(aggregate_type, aggregate_id, seq)| ((aggregate_type, aggregate_id), seq))
        .collect())
}

/// Each key is looked up by its own probe of the primary key, a subquery PostgreSQL may not merge
/// into a join (`OFFSET 0`). As a join, the statement was planned anew for every batch, and once
/// PostgreSQL kept its generic plan instead, that plan read the whole table for every batch: with
/// a thousand rooms the projector fell seconds behind a steady stream of posts.
const CHECKPOINTS: &str = "
SELECT k.aggregate_type, k.aggregate_id, c.last_seq
  FROM UNNEST($1::text[], $2::text[]) AS k(aggregate_type, aggregate_id)
 CROSS JOIN LATERAL (SELECT c.last_seq FROM projection_checkpoints c
                      WHERE c.aggregate_type = k.aggregate_type
                        AND c.aggregate_id = k.aggregate_id
                     OFFSET 0) c";
