use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn a_created_room_is_listed_at_once_in_the_seeds_shape() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "general", None).await;
    let rooms: Value = app
        .client
        .get(app.url("/rooms/"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed = &rooms.as_array().unwrap()[0];
    assert_eq!(listed["id"], room.as_str());
    assert_eq!(listed["name"], "general");
    assert_eq!(listed["is_private"], false);
    assert!(listed["created_by"].is_string());
    assert_eq!(listed["member_count"], 1);
    assert!(
        listed.get("is_member").is_none(),
        "anonymous callers get no is_member"
    );
}

#[tokio::test]
async fn a_caller_with_a_token_learns_which_rooms_they_are_in() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    app.room(&alice, "alices", None).await;
    app.room(&bob, "bobs", None).await;
    let rooms: Value = app
        .client
        .get(app.url("/rooms/"))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let membership: Vec<(String, bool)> = rooms
        .as_array()
        .unwrap()
        .iter()
        .map(|room| {
            (
                room["name"].as_str().unwrap().to_owned(),
                room["is_member"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        membership,
        vec![("alices".into(), false), ("bobs".into(), true)]
    );
}

#[tokio::test]
async fn an_expired_or_forged_token_on_the_room_list_is_treated_as_anonymous() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    app.room(&alice, "general", None).await;
    let response = app
        .client
        .get(app.url("/rooms/"))
        .bearer_auth("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4IiwiZXhwIjoxfQ.c2lnbmF0dXJl")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let rooms: Value = response.json().await.unwrap();
    assert_eq!(rooms.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_join_shows_in_members_and_my_rooms_right_after_it_answered() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let room = app.room(&alice, "Secret", Some("sesame")).await;
    let joined = app
        .post_json(
            &format!("/rooms/{room}/join"),
            Some(&bob),
            &serde_json::json!({"password": "sesame"}),
        )
        .await;
    assert_eq!(joined.status(), StatusCode::OK);
    let members: Value = app
        .client
        .get(app.url(&format!("/rooms/{room}/members")))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<_> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["username"].clone(), m["role"].clone()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("alice".into(), "owner".into()),
            ("bob".into(), "member".into())
        ]
    );
    let mine: Value = app
        .client
        .get(app.url("/users/me/rooms"))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine[0]["id"], room.as_str());
    let me: Value = app
        .client
        .get(app.url("/users/me"))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "bob");
}

#[tokio::test]
async fn a_private_rooms_details_and_members_are_for_members_only() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let mallory = app.user("mallory").await;
    let room = app.room(&alice, "Secret", Some("sesame")).await;
    for path in [format!("/rooms/{room}"), format!("/rooms/{room}/members")] {
        let anonymous = app.client.get(app.url(&path)).send().await.unwrap();
        assert_error(anonymous, StatusCode::UNAUTHORIZED, None).await;
        let outsider = app
            .client
            .get(app.url(&path))
            .bearer_auth(&mallory)
            .send()
            .await
            .unwrap();
        assert_error(outsider, StatusCode::FORBIDDEN, None).await;
        let member = app
            .client
            .get(app.url(&path))
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap();
        assert_eq!(member.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn an_unknown_room_is_404() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url(&format!("/rooms/{}", uuid::Uuid::new_v4())))
        .send()
        .await
        .unwrap();
    assert_error(response, StatusCode::NOT_FOUND, Some("Room not found")).await;
}
