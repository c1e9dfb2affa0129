//! The command executor against the real PostgreSQL: snapshots, the aggregate cache and group
//! commit, each test on a database of its own; and the connections it runs on.

mod caching;
mod connections;
mod group_commit;
mod helpers;
mod outages;
mod refusals;
mod snapshots;
