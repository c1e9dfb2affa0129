//! Which copy of the read tables a transaction writes, and what entering and leaving it takes.

use std::collections::BTreeMap;
use std::sync::Arc;

use sqlx::PgConnection;

use crate::checkpoints::AggregateKey;
use crate::numbering::KeptOrdinals;

/// Which copy of the read tables a transaction writes, with the counts of their messages its
/// writer keeps. Each transaction of one writer enters through the same target.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    schema: String,
    tables: Tables,
    ordinals: Arc<KeptOrdinals>,
}

#[derive(Debug, Clone, Copy)]
enum Tables {
    /// The live tables: writers take turns (a transaction-level lock, which a swap also takes),
    /// count their transactions (migration 0093), and every commit notifies read-your-writes
    /// waiters.
    Live,
    /// A copy being built, which only its one writer writes.
    Copy,
}

/// Serialises writers of the live tables: projectors, their catch-up, and a rebuild's swap.
const LIVE_PROJECTION_LOCK: i64 = 0x6368_6174_5f70_726f;

impl Target {
    pub(crate) fn live() -> Self {
        Self {
            schema: "public".into(),
            tables: Tables::Live,
            ordinals: Arc::new(KeptOrdinals::looking_up()),
        }
    }

    pub(crate) fn copy(schema: &str) -> Self {
        Self {
            schema: schema.into(),
            tables: Tables::Copy,
            ordinals: Arc::new(KeptOrdinals::of_a_new_copy()),
        }
    }

    /// Where this target's message counts stand, as its writer knows them.
    pub(crate) fn ordinals(&self) -> &KeptOrdinals {
        &self.ordinals
    }

    fn is_live(&self) -> bool {
        matches!(self.tables, Tables::Live)
    }

    /// The schema of this target's tables.
    pub(crate) fn schema(&self) -> &str {
        &self.schema
    }

    /// Points the transaction on `connection` at this target's tables (unqualified names in
    /// the statements below resolve there; the event store is always named `public.events`).
    pub(crate) async fn enter(&self, connection: &mut PgConnection) -> Result<(), sqlx::Error> {
        match self.tables {
            Tables::Live => {
                let write: i64 = sqlx::query_scalar(ENTER_LIVE)
                    .bind(LIVE_PROJECTION_LOCK)
                    .fetch_one(connection)
                    .await?;
                self.ordinals.entered(write);
            }
            Tables::Copy => {
                sqlx::query(ENTER_COPY)
                    .bind(&self.schema)
                    .execute(connection)
                    .await?;
            }
        }
        Ok(())
    }

    /// Tells read-your-writes waiters, when this is the live target, what the transaction
    /// about to commit advanced (they hear it at the commit).
    pub(crate) async fn committing(
        &self,
        connection: &mut PgConnection,
        advanced: Advanced<'_>,
    ) -> Result<(), sqlx::Error> {
        if !self.is_live() {
            return Ok(());
        }
        let notices = match advanced {
            Advanced::These(checkpoints) => eventstore::projection_notices(
                checkpoints
                    .iter()
                    .map(|((kind, id), sequence)| (kind.as_str(), id.as_str(), *sequence)),
            ),
            Advanced::Everything => vec![String::new()],
        };
        if !notices.is_empty() {
            sqlx::query(NOTIFY)
                .bind(&notices)
                .execute(connection)
                .await?;
        }
        Ok(())
    }
}

/// Which checkpoints a commit moves.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Advanced<'a> {
    These(&'a BTreeMap<AggregateKey, i64>),
    /// The tables were replaced: any checkpoint may have moved.
    Everything,
}

// Commits do not wait for the disk (it halved the projection's p99 lag under load): the tables
// are derived, and what a PostgreSQL crash takes back is applied again from the store. A copy
// being built is thrown away anyway; the live projector catches up after every server restart
// (see `live::run`), and the next event of an aggregate fills any gap before it.
//
// The live transaction counts itself once it holds the lock. Should another writer have committed
// since this statement began, the update still counts from that writer's row: PostgreSQL updates
// the newest version of a row that changed under it.
const ENTER_LIVE: &str = "
WITH entered AS (SELECT set_config('search_path', 'public', true),
                        pg_advisory_xact_lock($1),
                        set_config('synchronous_commit', 'off', true))
UPDATE public.live_projection_writes SET generation = generation + 1 FROM entered
RETURNING generation";

const ENTER_COPY: &str = "
SELECT set_config('search_path', $1, true), set_config('synchronous_commit', 'off', true)";

const NOTIFY: &str = "SELECT pg_notify('projection', notice) FROM UNNEST($1::text[]) AS notice";
