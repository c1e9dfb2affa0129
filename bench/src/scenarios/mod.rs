//! One module per scenario of DESIGN.md §11, plus what they share.

pub mod fanout_latency;
pub mod fanout_throughput;
pub mod idle_sockets;
pub mod ws_baseline;
mod ws_load;
mod ws_rig;
