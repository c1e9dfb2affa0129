//! Two people open their direct room: one room whoever opens it, in any letter case, however
//! many openings race, on one process or two; private to them, named for each after the other,
//! listed only to them, and closed to everyone else.

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app, spawn_app_on, TestApp};
use crate::rebuilding_and_verifying::chat;
use crate::sockets::Socket;

impl TestApp {
    /// `POST /users/{username}/dm` as the holder of `token`, answered as it came.
    pub fn open_dm(
        &self,
        token: &str,
        username: &str,
    ) -> impl std::future::Future<Output = reqwest::Response> + 'static {
        let request = self
            .client
            .post(self.url(&format!("/users/{username}/dm")))
            .bearer_auth(token);
        async move { request.send().await.expect("request") }
    }

    /// The id of the direct room of the holder of `token` and `username`.
    pub async fn dm(&self, token: &str, username: &str) -> String {
        let response = self.open_dm(token, username).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "open a DM with {username}"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body.as_object().unwrap().len(), 1, "only room_id: {body}");
        body["room_id"].as_str().unwrap().to_owned()
    }
}

/// Sends `openings` at once; each must answer 200, all of them the same room, recorded once
/// (created, then both joined). Answers its id.
pub async fn one_room_of(
    app: &TestApp,
    openings: impl IntoIterator<Item = impl std::future::Future<Output = reqwest::Response>>,
) -> String {
    let mut opened = Vec::new();
    for response in join_all(openings).await {
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        opened.push(body["room_id"].as_str().unwrap().to_owned());
    }
    assert!(opened.iter().all(|id| id == &opened[0]), "{opened:?}");
    assert_eq!(app.sequences(&opened[0]).await, [1, 2, 3], "one room");
    opened.swap_remove(0)
}

/// The rooms the holder of `token` is in, as `GET /users/me/rooms` lists them.
async fn my_rooms(app: &TestApp, token: &str) -> Vec<Value> {
    let rooms = app.get_json("/users/me/rooms", Some(token)).await;
    rooms.as_array().unwrap().clone()
}

fn ids(rooms: &[Value]) -> Vec<&str> {
    rooms
        .iter()
        .map(|room| room["id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn either_side_opens_the_same_room_named_for_each_after_the_other() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("Bob").await;

    let room = app.dm(&alice, "bOB").await;
    assert_eq!(app.dm(&bob, "ALICE").await, room);
    assert_eq!(app.dm(&alice, "bob").await, room);
    assert_eq!(
        app.sequences(&room).await,
        [1, 2, 3],
        "created, and both joined, once"
    );

    for (token, other) in [(&alice, "Bob"), (&bob, "alice")] {
        let listed = my_rooms(&app, token).await;
        assert_eq!(ids(&listed), [room.as_str()]);
        let seen = &listed[0];
        assert_eq!(seen["name"], other, "as the other registered");
        assert_eq!(seen["kind"], "direct");
        assert_eq!(seen["is_private"], true);
        assert_eq!(seen["member_count"], 2);
        let details = app.get_json(&format!("/rooms/{room}"), Some(token)).await;
        assert_eq!(
            (&details["name"], &details["kind"]),
            (&json!(other), &json!("direct"))
        );
    }
    let members = app
        .get_json(&format!("/rooms/{room}/members"), Some(&bob))
        .await;
    let mut roles: Vec<_> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["username"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    roles.sort();
    assert_eq!(
        roles,
        [("Bob", "member"), ("alice", "member")],
        "nobody owns it"
    );
}

#[tokio::test]
async fn named_rooms_say_they_are_rooms_and_direct_ones_are_never_listed_to_all() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let created = app
        .post_json("/rooms/", Some(&alice), &json!({"name": "lobby"}))
        .await;
    let lobby: Value = created.json().await.unwrap();
    assert_eq!(lobby["kind"], "room");
    let lobby = lobby["id"].as_str().unwrap().to_owned();
    let direct = app.dm(&alice, "bob").await;

    for token in [None, Some(alice.as_str()), Some(bob.as_str())] {
        for path in ["/rooms/", "/rooms/?limit=1", "/rooms/?limit=500"] {
            let listed = app.get_json(path, token).await;
            let listed = listed.as_array().unwrap();
            assert_eq!(ids(listed), [lobby.as_str()], "{path} as {token:?}");
            assert_eq!(listed[0]["kind"], "room");
        }
    }
    let details = app.get_json(&format!("/rooms/{lobby}"), None).await;
    assert_eq!(details["kind"], "room");
    let alices = my_rooms(&app, &alice).await;
    assert_eq!(ids(&alices), [lobby.as_str(), direct.as_str()]);
    assert_eq!(alices[0]["kind"], "room");
}

#[tokio::test]
async fn openings_racing_from_both_sides_make_one_room_per_pair() {
    let app = spawn_app().await;
    let mut people = Vec::new();
    for n in 0..6 {
        people.push((format!("racer{n}"), app.user(&format!("racer{n}")).await));
    }
    // Every pair at once, each side eight times, half of them in upper case.
    let mut openings = Vec::new();
    for (a, (name_a, token_a)) in people.iter().enumerate() {
        for (name_b, token_b) in &people[a + 1..] {
            for round in 0..8 {
                let (token, other) = if round % 2 == 0 {
                    (token_a, name_b.clone())
                } else {
                    (token_b, name_a.clone())
                };
                let other = if round % 4 < 2 {
                    other
                } else {
                    other.to_uppercase()
                };
                let pair = (name_a.clone(), name_b.clone());
                let opened = app.open_dm(token, &other);
                openings.push(async move { (pair, opened.await) });
            }
        }
    }
    let mut rooms = std::collections::BTreeMap::<_, Vec<String>>::new();
    for (pair, response) in join_all(openings).await {
        assert_eq!(response.status(), StatusCode::OK, "{pair:?}");
        let body: Value = response.json().await.unwrap();
        rooms
            .entry(pair)
            .or_default()
            .push(body["room_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(rooms.len(), 15);
    for (pair, ids) in &rooms {
        assert!(ids.iter().all(|id| id == &ids[0]), "{pair:?}: {ids:?}");
        assert_eq!(app.sequences(&ids[0]).await, [1, 2, 3], "{pair:?}");
    }
    assert_eq!(
        app.count("SELECT count(*) FROM events WHERE event_type = 'RoomCreated'")
            .await,
        15
    );
    app.eventually("SELECT count(*) FROM rooms WHERE kind = 'direct'", 15)
        .await;
    chat(&app, &["verify"]).await.unwrap();
}

#[tokio::test]
async fn openings_racing_on_two_processes_make_one_room() {
    let a = spawn_app().await;
    let b = spawn_app_on(&a.database_url, &[]).await;
    for round in 0..10 {
        let (alice, bob) = (format!("alice{round}"), format!("bob{round}"));
        let alice_token = a.user(&alice).await;
        let bob_token = a.user(&bob).await;
        // Each process opens it from both sides at the same moment.
        let openings = [
            a.open_dm(&alice_token, &bob),
            b.open_dm(&bob_token, &alice),
            b.open_dm(&alice_token, &bob.to_uppercase()),
            a.open_dm(&bob_token, &alice),
        ];
        let room = one_room_of(&a, openings).await;
        let listed = my_rooms(&b, &bob_token).await;
        assert_eq!(ids(&listed), [room.as_str()]);
        assert_eq!(listed[0]["name"], alice.as_str());
    }
}

#[tokio::test]
async fn nobody_unknown_and_not_oneself() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bot = app.bot(&alice, "gone").await;
    let revoked = app
        .delete(&format!("/bots/{}", bot["id"].as_str().unwrap()), &alice)
        .await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    let long = "a".repeat(2000);
    for nobody in [
        "nobody",
        "ab",
        &long,
        "gone.bot",
        "%C3%A5lice",
        "al%00ice",
        "al%2Fice",
        "alice%09x",
    ] {
        let body = assert_error(
            app.open_dm(&alice, nobody).await,
            StatusCode::NOT_FOUND,
            None,
        )
        .await;
        assert_eq!(body["code"], "user_not_found", "{nobody}");
    }
    for myself in ["alice", "ALICE", "%20alice%20"] {
        let body = assert_error(
            app.open_dm(&alice, myself).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("A direct room needs two different people"),
        )
        .await;
        assert_eq!(body["code"], "direct_room_with_self");
    }
    let body = assert_error(
        app.open_dm(&alice, "%FF%FE").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        None,
    )
    .await;
    assert_eq!(body["code"], "invalid_path");
    let anonymous = app.client.post(app.url("/users/alice/dm")).send().await;
    assert_eq!(anonymous.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.count("SELECT count(*) FROM events WHERE aggregate_type = 'Room'")
            .await,
        0,
        "nothing was recorded"
    );
}

#[tokio::test]
async fn a_third_person_can_neither_read_nor_join_nor_see_it_and_its_members_cannot_leave() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let carol = app.user("carol").await;
    let room = app.dm(&alice, "bob").await;
    let posted = app.post_message(&alice, &room, "just us").await;
    assert_eq!(posted.status(), StatusCode::CREATED);

    for path in ["", "/members", "/messages", "/messages?after_seq=0"] {
        let path = format!("/rooms/{room}{path}");
        let refused = assert_error(
            app.get(&path, Some(&carol)).await,
            StatusCode::FORBIDDEN,
            None,
        )
        .await;
        assert_eq!(refused["code"], "not_a_member", "{path}");
        let anonymous = app.get(&path, None).await.status();
        assert_eq!(anonymous, StatusCode::UNAUTHORIZED, "{path}");
    }
    let sent = app.post_message(&carol, &room, "let me in").await;
    assert_eq!(sent.status(), StatusCode::FORBIDDEN);
    for (token, action) in [
        (&carol, "join"),
        (&alice, "join"),
        (&alice, "leave"),
        (&bob, "leave"),
        (&carol, "leave"),
    ] {
        let body = json!({"password": ""});
        let response = app
            .call(
                Method::POST,
                &format!("/rooms/{room}/{action}"),
                token,
                Some(body),
            )
            .await;
        let refused = assert_error(
            response,
            StatusCode::FORBIDDEN,
            Some("A direct room cannot be joined or left"),
        )
        .await;
        assert_eq!(refused["code"], "direct_room");
    }
    let mut socket = Socket::connect(&app.ws_url(&room, &format!("token={carol}&v=2"))).await;
    assert_eq!(socket.close_frame().await.0, 4003);
    assert!(my_rooms(&app, &carol).await.is_empty());
    assert_eq!(my_rooms(&app, &bob).await.len(), 1, "bob is still in it");
    assert_eq!(
        app.sequences(&room).await,
        [1, 2, 3, 4],
        "only the message was recorded"
    );
}
