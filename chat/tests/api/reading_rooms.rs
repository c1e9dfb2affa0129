use reqwest::StatusCode;

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn a_created_room_is_listed_at_once_in_the_seeds_shape() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "general", None).await;
    let rooms = app.get_json("/rooms/", None).await;
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
    let rooms = app.get_json("/rooms/", Some(&bob)).await;
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
    let expired = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4IiwiZXhwIjoxfQ.c2lnbmF0dXJl";
    let rooms = app.get_json("/rooms/", Some(expired)).await;
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
    let members = app
        .get_json(&format!("/rooms/{room}/members"), Some(&bob))
        .await;
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
    let mine = app.get_json("/users/me/rooms", Some(&bob)).await;
    assert_eq!(mine[0]["id"], room.as_str());
    let me = app.get_json("/users/me", Some(&bob)).await;
    assert_eq!(me["username"], "bob");
}

#[tokio::test]
async fn a_private_rooms_details_and_members_are_for_members_only() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let mallory = app.user("mallory").await;
    let room = app.room(&alice, "Secret", Some("sesame")).await;
    for path in [format!("/rooms/{room}"), format!("/rooms/{room}/members")] {
        let anonymous = app.get(&path, None).await;
        assert_error(anonymous, StatusCode::UNAUTHORIZED, None).await;
        let outsider = app.get(&path, Some(&mallory)).await;
        assert_error(outsider, StatusCode::FORBIDDEN, None).await;
        let member = app.get(&path, Some(&alice)).await;
        assert_eq!(member.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn an_unknown_room_is_404() {
    let app = spawn_app().await;
    let response = app
        .get(&format!("/rooms/{}", uuid::Uuid::new_v4()), None)
        .await;
    assert_error(response, StatusCode::NOT_FOUND, Some("Room not found")).await;
}
