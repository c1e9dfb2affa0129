//! A message's life over sockets: edits, deletions and reactions reach JSON (v2) sockets with
//! the room sequence of their events and never reach the seed's (v1); a resume replays a
//! deleted message as a tombstone to one and not at all to the other; a v2 send may answer a
//! message.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};
use crate::sockets::{having, message_contents};

const THUMBS_UP: &str = "%F0%9F%91%8D";

/// Posts `content` to the room as the holder of `token`; answers the message's id and seq, once
/// the read tables have it (edits and replies check their target there).
async fn post(app: &TestApp, token: &str, room: &str, content: &str) -> (String, i64) {
    let response = app.post_message(token, room, content).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let message: Value = response.json().await.unwrap();
    let id = message["id"].as_str().unwrap().to_owned();
    app.eventually(
        &format!("SELECT count(*) FROM messages WHERE id = '{id}'"),
        1,
    )
    .await;
    (id, message["seq"].as_i64().unwrap())
}

async fn change(app: &TestApp, method: Method, path: &str, token: &str, body: Option<Value>) {
    let status = app.call(method, path, token, body).await.status();
    assert!(status.is_success(), "{path}: {status}");
}

/// The room's events from `from` on, as the log holds them: (sequence, type).
async fn logged(app: &TestApp, room: &str, from: i64) -> Vec<(i64, String)> {
    sqlx::query_as(
        "SELECT sequence, event_type FROM events
          WHERE aggregate_type = 'Room' AND aggregate_id = $1 AND sequence >= $2
          ORDER BY sequence",
    )
    .bind(room)
    .bind(from)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn json_sockets_receive_each_change_with_its_seq_and_seed_sockets_none() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "lobby", None).await;
    app.join(&bob, &room, None).await;
    let mut json = app.socket(&room, &alice, "v=2").await;
    let mut seed = app.socket(&room, &alice, "v=1").await;

    let (id, seq) = post(&app, &bob, &room, "hello").await;
    let path = format!("/rooms/{room}/messages/{id}");
    let edit = Some(json!({"content": "hello @alice"}));
    change(&app, Method::PATCH, &path, &bob, edit).await;
    let reaction = format!("{path}/reactions/{THUMBS_UP}");
    change(&app, Method::PUT, &reaction, &alice, None).await;
    change(&app, Method::DELETE, &reaction, &alice, None).await;
    change(&app, Method::DELETE, &path, &bob, None).await;
    post(&app, &bob, &room, "after").await;

    let frames: Vec<Value> = json
        .frames_until(|frame| frame["content"] == "after")
        .await
        .into_iter()
        .filter(|frame| frame.get("seq").is_some())
        .collect();
    let told: Vec<(i64, &str)> = frames
        .iter()
        .map(|f| (f["seq"].as_i64().unwrap(), f["type"].as_str().unwrap()))
        .collect();
    let expected = [
        "message",
        "message_edited",
        "reaction_added",
        "reaction_removed",
        "message_deleted",
        "message",
    ];
    let expected: Vec<(i64, &str)> = (seq..).zip(expected).collect();
    assert_eq!(told, expected);
    let log: Vec<i64> = logged(&app, &room, seq)
        .await
        .iter()
        .map(|(sequence, _)| *sequence)
        .collect();
    assert_eq!(
        log,
        (seq..seq + 6).collect::<Vec<_>>(),
        "each with its event's seq"
    );
    for frame in &frames[1..5] {
        assert_eq!(frame["room_id"], room.as_str());
        assert_eq!(frame["message_id"], id.as_str());
    }
    let edited = &frames[1];
    assert_eq!(edited["content"], "hello @alice");
    assert_eq!(edited["mentions"][0]["username"], "alice");
    assert!(edited["edited_at"].is_string());
    for reacted in &frames[2..4] {
        assert_eq!(
            (reacted["emoji"].as_str(), reacted["username"].as_str()),
            (Some("👍"), Some("alice"))
        );
    }

    let seen = seed.frames_until(|frame| frame["content"] == "after").await;
    let seen: Vec<Value> = seen.into_iter().filter(|f| f["type"] != "system").collect();
    assert!(seen.iter().all(|f| f["type"] == "message"), "{seen:?}");
    assert_eq!(message_contents(&seen), ["hello", "after"]);
}

#[tokio::test]
async fn a_resume_replays_a_deleted_message_as_a_tombstone_to_json_sockets_and_skips_it_for_seed_ones(
) {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "lobby", None).await;
    let (secret, _) = post(&app, &alice, &room, "secret @alice").await;
    let (keep, _) = post(&app, &alice, &room, "keep").await;
    let path = format!("/rooms/{room}/messages/{secret}");
    let edit = Some(json!({"content": "secret edited"}));
    change(&app, Method::PATCH, &path, &alice, edit).await;
    change(
        &app,
        Method::PUT,
        &format!("{path}/reactions/{THUMBS_UP}"),
        &alice,
        None,
    )
    .await;
    let kept = format!("/rooms/{room}/messages/{keep}/reactions/{THUMBS_UP}");
    change(&app, Method::PUT, &kept, &alice, None).await;
    change(&app, Method::DELETE, &path, &alice, None).await;

    for since in [0, 3] {
        let mut json = app
            .open_socket(&room, &alice, &format!("v=2&since={since}"))
            .await;
        let frames = json.ready(true).await;
        let told: Vec<(i64, &str)> = frames
            .iter()
            .map(|f| (f["seq"].as_i64().unwrap(), f["type"].as_str().unwrap()))
            .collect();
        let all = [
            (2, "member_joined"),
            (3, "message"),
            (4, "message"),
            (5, "message_edited"),
            (6, "reaction_added"),
            (7, "reaction_added"),
            (8, "message_deleted"),
        ];
        let expected: Vec<_> = all.into_iter().filter(|(seq, _)| *seq > since).collect();
        assert_eq!(told, expected, "since={since}: gapless");
        let replayed = serde_json::to_string(&frames).unwrap();
        assert!(
            !replayed.contains("secret"),
            "the deleted text left the log: {replayed}"
        );
        if since == 0 {
            let tombstone = &frames[1];
            assert_eq!(tombstone["id"], secret.as_str());
            assert_eq!(tombstone["deleted"], true);
            assert_eq!(tombstone["content"], "");
            assert_eq!(tombstone["mentions"], json!([]));
            assert_eq!(frames[2]["content"], "keep");
            assert_eq!(frames[2]["deleted"], false);
        }
        let edit = frames
            .iter()
            .find(|f| f["type"] == "message_edited")
            .unwrap();
        assert_eq!(
            (edit["content"].as_str(), edit["mentions"].clone()),
            (Some(""), json!([]))
        );
    }

    let mut seed = app.open_socket(&room, &alice, "since=0").await;
    let frames = seed.ready(false).await;
    assert_eq!(message_contents(&frames), ["keep"]);
    assert_eq!(
        frames.len(),
        1,
        "a seed socket gets messages only: {frames:?}"
    );
}

#[tokio::test]
async fn a_json_send_answers_a_message_of_its_room_and_nothing_else() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "lobby", None).await;
    let other = app.room(&alice, "elsewhere", None).await;
    let (question, _) = post(&app, &alice, &room, "question").await;
    let (elsewhere, _) = post(&app, &alice, &other, "far away").await;
    let mut json = app.socket(&room, &alice, "v=2").await;

    json.send_json(
        json!({"type": "send", "content": "answer", "client_msg_id": "r-1", "reply_to": question}),
    )
    .await;
    let frames = json
        .frames_until(having(&[("ack", 1), ("message", 1)]))
        .await;
    let ack = frames.iter().find(|f| f["type"] == "ack").unwrap();
    let message = frames.iter().find(|f| f["type"] == "message").unwrap();
    assert_eq!(ack["client_msg_id"], "r-1");
    assert_eq!(message["id"], ack["id"]);
    assert_eq!(message["reply_to"], question.as_str());
    app.eventually(
        &format!("SELECT count(*) FROM messages WHERE reply_to = '{question}'"),
        1,
    )
    .await;
    let replies = app
        .get_json(
            &format!("/rooms/{room}/messages/{question}/replies"),
            Some(&alice),
        )
        .await;
    assert_eq!(replies[0]["content"], "answer");
    assert_eq!(replies.as_array().unwrap().len(), 1);

    let unknown = uuid::Uuid::new_v4().to_string();
    for (reply_to, code) in [
        (json!(unknown), "invalid_input"),
        (json!(elsewhere), "invalid_input"),
        (json!(room), "invalid_input"),
        (json!("not-a-uuid"), "invalid_frame"),
        (json!(42), "invalid_frame"),
        (json!({"id": question}), "invalid_frame"),
    ] {
        json.send_json(json!({"type": "send", "content": "stray", "client_msg_id": "r-2", "reply_to": reply_to}))
            .await;
        let refused = json.next_of("error").await;
        assert_eq!(refused["code"], code, "reply_to {reply_to}: {refused}");
        if code == "invalid_input" {
            assert_eq!(refused["client_msg_id"], "r-2");
        }
    }
    json.send_json(json!({"type": "send", "content": "plain", "reply_to": null}))
        .await;
    let plain = json.next_of("message").await;
    assert_eq!(
        (plain["content"].as_str(), plain["reply_to"].clone()),
        (Some("plain"), Value::Null)
    );
    let posted = app
        .count(&format!(
            "SELECT count(*) FROM events WHERE aggregate_id = '{room}' AND event_type = 'MessagePosted'"
        ))
        .await;
    assert_eq!(posted, 3, "no refused send was posted");
}
