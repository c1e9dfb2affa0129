/// What can go wrong in the gateway outside a socket's own session.
#[derive(Debug, thiserror::Error)]
pub enum FanoutError {
    #[error(transparent)]
    Log(#[from] eventstore::EventLogError),
    #[error("event {seq} of room {room_id} is unreadable")]
    UnreadablePayload {
        room_id: String,
        seq: i64,
        #[source]
        cause: serde_json::Error,
    },
    #[error("event {seq} names a room by {room_id:?}, not a room id")]
    UnreadableRoomId {
        room_id: String,
        seq: i64,
        #[source]
        cause: uuid::Error,
    },
    #[error(transparent)]
    Bus(#[from] bus::BusError),
}
