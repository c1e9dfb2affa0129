//! The command executor against the real PostgreSQL: snapshots, the aggregate cache and group
//! commit, each test on a database of its own.

mod caching;
mod group_commit;
mod helpers;
mod outages;
mod refusals;
mod snapshots;
