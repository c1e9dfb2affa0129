//! The seed's client works against the deployed layout: each line of its contract through the
//! proxy, writes answered by a command API, reads by the query API, sockets by a fan-out node.

use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use super::Topology;
use crate::helpers::{assert_error, claims, PASSWORD};
use crate::sockets::Socket;

#[tokio::test]
async fn the_seeds_client_registers_logs_in_opens_and_joins_rooms_and_chats_through_the_proxy() {
    let topology = Topology::start().await;
    let app = &topology.app;

    // Register, and log in with a form.
    let registered = app.register("alice").await;
    assert_eq!(registered.status(), StatusCode::OK);
    let alice_user: Value = registered.json().await.unwrap();
    assert_eq!(alice_user["username"], "alice");
    assert!(alice_user["created_at"].is_string());
    let taken = app.register("ALICE").await;
    assert_error(
        taken,
        StatusCode::BAD_REQUEST,
        Some("Username already registered"),
    )
    .await;
    let refused = app.login("alice", "not the password").await;
    assert_eq!(refused.headers()["www-authenticate"], "Bearer");
    assert_error(
        refused,
        StatusCode::UNAUTHORIZED,
        Some("Incorrect username or password"),
    )
    .await;
    let login = app.login("alice", PASSWORD).await;
    assert_eq!(login.status(), StatusCode::OK);
    let login: Value = login.json().await.unwrap();
    assert_eq!(login["token_type"], "bearer");
    let alice = login["access_token"].as_str().unwrap().to_owned();
    assert_eq!(claims(&alice)["sub"], "alice", "the client shows sub");
    let bob = app.user("bob").await;

    // Rooms: created with a token, listed without one, private ones too.
    let created = app
        .post_json(
            "/rooms/",
            Some(&alice),
            &json!({"name": "lobby", "is_private": false}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::OK);
    let lobby: Value = created.json().await.unwrap();
    assert_eq!(
        (&lobby["name"], &lobby["is_private"], &lobby["created_by"]),
        (&json!("lobby"), &json!(false), &alice_user["id"])
    );
    let lobby = lobby["id"].as_str().unwrap().to_owned();
    for (body, detail) in [
        (
            json!({"name": "LOBBY", "is_private": false}),
            "Room name already exists",
        ),
        (
            json!({"name": "vault", "is_private": true}),
            "Private rooms require a password",
        ),
    ] {
        let refused = app.post_json("/rooms/", Some(&alice), &body).await;
        assert_error(refused, StatusCode::BAD_REQUEST, Some(detail)).await;
    }
    let vault = app.room(&alice, "vault", Some("sesame")).await;
    let rooms = app.get_json("/rooms/", None).await;
    let mut listed: Vec<_> = rooms
        .as_array()
        .unwrap()
        .iter()
        .map(|room| (room["name"].as_str().unwrap(), room["is_private"].as_bool()))
        .collect();
    listed.sort();
    assert_eq!(listed, [("lobby", Some(false)), ("vault", Some(true))]);

    // Joining: the seed's answers, the membership checked before the password.
    let join =
        |room: &str, body: Value| app.post_json(&format!("/rooms/{room}/join"), Some(&bob), &body);
    let joined = join(&lobby, json!({})).await;
    assert_eq!(
        joined.json::<Value>().await.unwrap(),
        json!({"message": "Joined room lobby"})
    );
    let again = join(&lobby, json!({})).await;
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        json!({"message": "Already joined"})
    );
    let wrong = join(&vault, json!({"password": "guess"})).await;
    assert_error(wrong, StatusCode::FORBIDDEN, Some("Invalid room password")).await;
    let right = join(&vault, json!({"password": "sesame"})).await;
    assert_eq!(
        right.json::<Value>().await.unwrap(),
        json!({"message": "Joined room vault"})
    );
    let missing = join(&Uuid::new_v4().to_string(), json!({})).await;
    assert_error(missing, StatusCode::NOT_FOUND, Some("Room not found")).await;

    // Chatting over the seed's plain-text sockets: every socket of the room, the sender's too,
    // gets each message; the others hear of a socket opening and closing.
    let (mut alice_socket, _) = topology.socket(&lobby, &alice, "").await;
    let (mut bob_socket, _) = topology.socket(&lobby, &bob, "").await;
    let arrival = alice_socket.json().await;
    assert_eq!(
        (&arrival["type"], &arrival["content"], &arrival["username"]),
        (&json!("system"), &json!("bob joined"), &json!("System"))
    );
    alice_socket.send_text("hello from the seed's client").await;
    for socket in [&mut alice_socket, &mut bob_socket] {
        assert_seed_message(socket, "hello from the seed's client", "alice", &lobby).await;
    }
    let posted = app.post_message(&bob, &lobby, "and one by REST").await;
    assert_eq!(posted.status(), StatusCode::CREATED);
    let last_seq = posted.json::<Value>().await.unwrap()["seq"].clone();
    for socket in [&mut alice_socket, &mut bob_socket] {
        assert_seed_message(socket, "and one by REST", "bob", &lobby).await;
    }
    bob_socket.close().await;
    let departure = alice_socket.next_of("system").await;
    assert_eq!(departure["content"], "bob left");

    // History: a bare array, newest first, for anyone in a public room.
    let history = app
        .get_json(
            &format!("/rooms/{lobby}/messages?limit=50&offset=0&min_seq={last_seq}"),
            None,
        )
        .await;
    let contents: Vec<_> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|message| message["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        contents,
        ["and one by REST", "hello from the seed's client"]
    );
    for field in ["id", "content", "user_id", "username", "created_at"] {
        assert!(history[0].get(field).is_some(), "history lacks {field}");
    }
}

/// The next message frame is the seed's shape of `content` by `author` in `room`.
async fn assert_seed_message(socket: &mut Socket, content: &str, author: &str, room: &str) {
    let frame = socket.next_of("message").await;
    assert_eq!(
        (&frame["content"], &frame["username"], &frame["room_id"]),
        (&json!(content), &json!(author), &json!(room))
    );
    assert!(frame["user_id"].is_string() && frame["created_at"].is_string());
}

#[tokio::test]
async fn the_proxy_keeps_the_operators_endpoints_from_the_public_and_serves_the_api_docs() {
    let topology = Topology::start().await;
    for path in ["/metrics", "/healthz", "/readyz"] {
        let hidden = topology.app.get(path, None).await;
        assert_error(hidden, StatusCode::NOT_FOUND, Some("Not Found")).await;
    }
    let spec = topology.app.get_json("/openapi.json", None).await;
    assert!(
        spec["paths"]["/rooms/"].is_object(),
        "the spec came through"
    );
    // Each process still answers them at its own address, for Prometheus and the orchestrator.
    for node in topology.command_apis.iter().chain(&topology.fanouts) {
        let ready = node.app.get("/readyz", None).await;
        assert_eq!(ready.status(), StatusCode::OK, "{}", node.role);
    }
}
