//! The baseline of the WebSocket scenarios: the least a WebSocket broadcast server can do on
//! axum. A text frame from any socket of `/ws/{room}` goes, wrapped as a JSON message, to every
//! socket of the room through a tokio broadcast channel. No tokens, no store, no broker, no
//! ordering or resume; the same per-socket buffer sizes as ours, so the comparison shows what
//! our work costs, not a buffer setting.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::json;
use tokio::sync::broadcast;

type Rooms = Arc<Mutex<HashMap<String, broadcast::Sender<Utf8Bytes>>>>;

pub async fn serve(listen: &str) -> anyhow::Result<()> {
    let rooms: Rooms = Arc::default();
    let app = Router::new()
        .route("/ws/{room}", get(upgrade))
        .with_state(rooms);
    // The same backlog as ours, so that a reconnect storm compares the servers, not the queues.
    let listener = api_kit::listen(listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

async fn upgrade(
    State(rooms): State<Rooms>,
    Path(room): Path<String>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let stream = rooms
        .lock()
        .expect("rooms lock")
        .entry(room)
        .or_insert_with(|| broadcast::channel(1024).0)
        .clone();
    upgrade
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .on_upgrade(move |socket| session(socket, stream))
}

async fn session(mut socket: WebSocket, room: broadcast::Sender<Utf8Bytes>) {
    let mut receiver = room.subscribe();
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let frame = json!({"type": "message", "content": text.as_str()}).to_string();
                    let _ = room.send(frame.into());
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return,
            },
            outgoing = receiver.recv() => match outgoing {
                Ok(frame) => {
                    if socket.send(Message::Text(frame)).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            },
        }
    }
}
