use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn creating_a_room_answers_the_seeds_shape_with_the_creator_as_created_by() {
    let app = spawn_app().await;
    let token = app.user("alice").await;
    let body = json!({"name": "general", "is_private": false});
    let response = app.post_json("/rooms/", Some(&token), &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    let room: Value = response.json().await.unwrap();
    assert_eq!(room["name"], "general");
    assert_eq!(room["is_private"], false);
    let alice_id = domain::values::Username::parse("alice").unwrap().user_id();
    assert_eq!(room["created_by"], alice_id.to_string());
    let events = app.sequences(room["id"].as_str().unwrap()).await;
    assert_eq!(events, vec![1, 2], "RoomCreated, then the owner joined");
}

#[tokio::test]
async fn room_names_are_unique_ignoring_case() {
    let app = spawn_app().await;
    let token = app.user("alice").await;
    app.room(&token, "General", None).await;
    let response = app
        .post_json(
            "/rooms/",
            Some(&token),
            &json!({"name": " gENERAL ", "is_private": false}),
        )
        .await;
    assert_error(
        response,
        StatusCode::BAD_REQUEST,
        Some("Room name already exists"),
    )
    .await;
}

#[tokio::test]
async fn twenty_concurrent_creations_of_one_name_make_one_room() {
    let app = spawn_app().await;
    let token = app.user("alice").await;
    let creations = (0..20).map(|n| {
        let name = if n % 3 == 0 {
            "Lobby"
        } else if n % 3 == 1 {
            "LOBBY"
        } else {
            "lobby"
        };
        app.post_json(
            "/rooms/",
            Some(&token),
            &json!({"name": name, "is_private": false}),
        )
    });
    let statuses: Vec<_> = join_all(creations)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1);
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::BAD_REQUEST)
            .count(),
        19
    );
}

#[tokio::test]
async fn a_private_room_needs_a_password() {
    let app = spawn_app().await;
    let token = app.user("alice").await;
    for body in [
        json!({"name": "secret", "is_private": true}),
        json!({"name": "secret", "is_private": true, "password": ""}),
    ] {
        let response = app.post_json("/rooms/", Some(&token), &body).await;
        assert_error(
            response,
            StatusCode::BAD_REQUEST,
            Some("Private rooms require a password"),
        )
        .await;
    }
}

#[tokio::test]
async fn creating_a_room_needs_a_token() {
    let app = spawn_app().await;
    let response = app.post_json("/rooms/", None, &json!({"name": "x"})).await;
    assert_error(response, StatusCode::UNAUTHORIZED, None).await;
}

#[tokio::test]
async fn joining_walks_the_seeds_answers() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "Secret", Some("sesame")).await;
    let join = |token: &str, body: Value| {
        app.post_json(&format!("/rooms/{room}/join"), Some(token), &body)
    };

    let wrong = join(&bob, json!({"password": "guess"})).await;
    assert_error(wrong, StatusCode::FORBIDDEN, Some("Invalid room password")).await;

    let joined = join(&bob, json!({"password": "sesame"})).await;
    assert_eq!(joined.status(), StatusCode::OK);
    assert_eq!(
        joined.json::<Value>().await.unwrap(),
        json!({"message": "Joined room Secret"})
    );

    // Membership is checked before the password.
    let again = join(&bob, json!({"password": "wrong"})).await;
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        json!({"message": "Already joined"})
    );

    let missing = app
        .post_json(
            &format!("/rooms/{}/join", Uuid::new_v4()),
            Some(&bob),
            &json!({}),
        )
        .await;
    assert_error(missing, StatusCode::NOT_FOUND, Some("Room not found")).await;
}

#[tokio::test]
async fn a_public_room_can_be_joined_without_a_body() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "general", None).await;
    let response = app
        .client
        .post(app.url(&format!("/rooms/{room}/join")))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"message": "Joined room general"})
    );
}

#[tokio::test]
async fn leaving_a_room_and_leaving_one_is_not_in() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "general", None).await;
    let leave =
        |token: &str| app.post_json(&format!("/rooms/{room}/leave"), Some(token), &json!({}));
    assert_error(leave(&bob).await, StatusCode::FORBIDDEN, None).await;
    let left = leave(&alice).await;
    assert_eq!(
        left.json::<Value>().await.unwrap(),
        json!({"message": "Left room general"})
    );
    let posted = app.post_message(&alice, &room, "still here?").await;
    assert_error(
        posted,
        StatusCode::FORBIDDEN,
        Some("You are not a member of this room"),
    )
    .await;
}
