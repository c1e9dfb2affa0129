//! The read model: projections of the event store into the tables the query API reads
//! (`users`, `rooms`, `room_members`, `messages`), and the tools to rebuild and verify them.
//!
//! [`run`] is the live projector: it catches up from the store, then applies events from the
//! bus in batches, exactly once and in order per aggregate, and notifies `projection` after
//! each commit so read-your-writes waiters wake. [`rebuild`] replays the whole store into a
//! shadow schema and swaps it in; [`verify`] compares such a replay with the live tables.

mod apply;
mod changes;
mod checkpoints;
mod error;
mod event;
mod horizon;
mod lag;
mod live;
mod membership;
mod numbering;
mod order;
mod plan;
mod poison;
mod rebuild;
mod sink;
mod target;

pub use error::ProjectorError;
pub use lag::{describe_metrics, ProjectionLag, PROJECTOR_APPLIED, PROJECTOR_LAG};
pub use live::{run, ProjectorSettings};
pub use rebuild::{
    rebuild, verify, Difference, Progress, RebuildReport, TableComparison, VerifyReport,
};
