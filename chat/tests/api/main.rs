//! The system's HTTP behaviour, told as user stories against the real application and database.

mod auditing;
mod bad_input;
mod broker_outage;
mod creating_and_joining_rooms;
mod docs;
mod helpers;
mod logging_in;
mod posting_messages;
mod projecting_later;
mod reading_history;
mod reading_rooms;
mod reading_your_writes;
mod rebuilding_and_verifying;
mod registering;
mod sockets;
mod websocket_admission;
mod websocket_caps;
mod websocket_limits;
mod websocket_live;
mod websocket_nodes;
mod websocket_resume;
mod websocket_sending_fast;
