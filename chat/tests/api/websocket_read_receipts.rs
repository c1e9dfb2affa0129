//! Read receipts live: a JSON (v2) socket of the room is told who read it how far; the seed's
//! (v1) sockets never are, as its client draws every frame as a message.

use serde_json::json;

use crate::helpers::spawn_app;
use crate::reading_positions::{mark_read, post};

#[tokio::test]
async fn json_sockets_of_the_room_are_told_who_read_how_far_and_seed_sockets_are_not() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "lobby", None).await;
    let elsewhere = app.room(&alice, "elsewhere", None).await;
    app.join(&bob, &room, None).await;
    app.join(&bob, &elsewhere, None).await;
    let mut json = app.socket(&room, &alice, "v=2").await;
    let mut seed = app.socket(&room, &alice, "v=1").await;
    let (_, seq) = post(&app, &alice, &room, "hello").await;
    post(&app, &alice, &elsewhere, "not here").await;

    mark_read(&app, &bob, &elsewhere, i64::MAX).await;
    mark_read(&app, &bob, &room, seq).await;
    let read = json.next_of("read").await;
    let bob_id = app.get_json("/users/me", Some(&bob)).await["id"].clone();
    assert_eq!(
        read,
        json!({
            "type": "read", "room_id": room, "user_id": bob_id, "username": "bob", "seq": seq,
        }),
        "only this room's move reaches its sockets"
    );
    post(&app, &alice, &room, "after").await;
    let frames = seed.frames_until(|frame| frame["content"] == "after").await;
    assert!(
        frames.iter().all(|frame| frame["type"] != "read"),
        "{frames:?}"
    );
}
