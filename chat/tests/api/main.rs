//! The system's HTTP behaviour, told as user stories against the real application and database.

mod bad_input;
mod creating_and_joining_rooms;
mod docs;
mod helpers;
mod logging_in;
mod posting_messages;
mod registering;
mod sockets;
mod websocket_admission;
mod websocket_limits;
mod websocket_live;
mod websocket_nodes;
mod websocket_resume;
