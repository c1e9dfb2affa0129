//! The use cases against a real event store; no projector runs, so every wait for the
//! projection runs out and says so.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use api_kit::RatePolicy;
use auth::{JwtSecret, Tokens};
use commands::{Attempt, CommandError, CommandSettings, Commands, NewMessage, NewRoom};
use domain::room::Actor;
use eventstore::ExecutorOptions;

async fn commands() -> (Commands, sqlx::PgPool) {
    let (_, pool) = testkit::fresh_database().await;
    let tokens = Arc::new(Tokens::new(&JwtSecret::random(), Duration::from_secs(60)));
    let settings = CommandSettings {
        bcrypt_cost: 4,
        login_rate: RatePolicy::off(),
        send_rate: RatePolicy::off(),
        bot_send_rate: RatePolicy::off(),
        bots_per_user: 10,
        room_create_rate: RatePolicy::off(),
        room_password_rate: RatePolicy::off(),
        executor: ExecutorOptions::default(),
        projection_wait: Duration::from_millis(20),
        socket_ticket_lifetime: Duration::from_secs(30),
        webhooks_per_room: 10,
    };
    (Commands::new(pool.clone(), tokens, &settings), pool)
}

const PEER: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

async fn registered(commands: &Commands, username: &str) -> Actor {
    let attempt = Attempt {
        username,
        password: "correct horse",
        address: PEER,
    };
    let registered = commands.register(attempt, None).await.unwrap();
    Actor {
        user_id: registered.outcome.user_id,
        username: registered.outcome.username,
        is_bot: false,
    }
}

async fn room(commands: &Commands, owner: &Actor, name: &str) -> uuid::Uuid {
    let room = NewRoom::parse(name, false, None).unwrap();
    let created = commands.create_room(owner, room, None).await.unwrap();
    created.outcome.room_id
}

#[tokio::test]
async fn a_write_the_projection_has_not_applied_yet_says_it_is_pending() {
    let (commands, _pool) = commands().await;
    let attempt = Attempt {
        username: "alice",
        password: "correct horse",
        address: PEER,
    };
    let registered = commands.register(attempt, None).await.unwrap();
    assert!(registered.pending);
    assert_eq!(registered.outcome.username, "alice");
}

#[tokio::test]
async fn a_repeated_client_msg_id_answers_the_original_message_as_a_repeat() {
    let (commands, pool) = commands().await;
    let alice = registered(&commands, "alice").await;
    let room_id = room(&commands, &alice, "general").await;
    let send = |content: &str| NewMessage::parse(content, Some("m-1")).unwrap();

    let first = commands
        .post_message(&alice, room_id, send("hello"), None)
        .await
        .unwrap();
    let again = commands
        .post_message(&alice, room_id, send("hello, edited"), None)
        .await
        .unwrap();

    assert!(!first.repeat);
    assert!(again.repeat);
    assert_eq!(again.message.message_id, first.message.message_id);
    assert_eq!(again.seq, first.seq);
    assert_eq!(again.message.content, "hello");
    assert_eq!(again.event, first.event);
    let posted = testkit::count(
        &pool,
        "SELECT count(*) FROM events WHERE event_type = 'MessagePosted'",
    )
    .await;
    assert_eq!(posted, 1);
}

#[tokio::test]
async fn a_send_older_than_the_rooms_memory_answers_its_original_among_new_sends_in_other_rooms() {
    let (commands, pool) = commands().await;
    let alice = registered(&commands, "alice").await;
    let rooms = [
        room(&commands, &alice, "first").await,
        room(&commands, &alice, "here").await,
        room(&commands, &alice, "elsewhere").await,
    ];
    let here = rooms[1];
    let original = commands
        .post_message(
            &alice,
            here,
            NewMessage::parse("hello", None).unwrap(),
            None,
        )
        .await
        .unwrap();
    // As if it had been sent with an id long enough ago that the room no longer remembers it.
    sqlx::query(
        "INSERT INTO sent_messages (room_id, sender_id, client_msg_id, seq) VALUES ($1, $2, 'old', $3)",
    )
    .bind(here.to_string())
    .bind(alice.user_id.to_string())
    .bind(original.seq as i64)
    .execute(&pool)
    .await
    .unwrap();

    // The first room's commit runs alone; the other two rooms' batches queue meanwhile and are
    // stored by one statement, which the repeat makes the store refuse.
    let sends = (0..40).map(|n| {
        let (room_id, content, id) = match n {
            5 => (here, "hello again".to_owned(), "old".to_owned()),
            n => (rooms[n % 3], format!("new {n}"), format!("new-{n}")),
        };
        let (commands, alice) = (&commands, &alice);
        async move {
            let message = NewMessage::parse(&content, Some(&id)).unwrap();
            commands.post_message(alice, room_id, message, None).await
        }
    });
    let mut answers = futures::future::join_all(sends).await;

    let repeat = answers.remove(5).unwrap();
    assert!(repeat.repeat);
    assert_eq!(repeat.seq, original.seq);
    assert_eq!(repeat.message.content, "hello");
    for answer in answers {
        assert!(!answer.unwrap().repeat);
    }
    let posted = testkit::count(
        &pool,
        "SELECT count(*) FROM events WHERE event_type = 'MessagePosted'",
    )
    .await;
    assert_eq!(
        posted,
        1 + 39,
        "the repeat stored nothing, every new send once"
    );
}

#[tokio::test]
async fn joining_again_is_no_error_and_says_the_caller_was_already_a_member() {
    let (commands, _pool) = commands().await;
    let alice = registered(&commands, "alice").await;
    let bob = registered(&commands, "bob").await;
    let room_id = room(&commands, &alice, "general").await;

    let joined = commands.join_room(&bob, room_id, None, None).await.unwrap();
    let again = commands.join_room(&bob, room_id, None, None).await.unwrap();

    assert_eq!(joined.outcome.room_name, "general");
    assert!(!joined.outcome.already_member);
    assert!(again.outcome.already_member);
    assert_eq!(again.outcome.seq, joined.outcome.seq);
}

#[tokio::test]
async fn posting_to_a_room_one_is_not_in_is_refused_with_a_stable_code() {
    let (commands, _pool) = commands().await;
    let alice = registered(&commands, "alice").await;
    let bob = registered(&commands, "bob").await;
    let room_id = room(&commands, &alice, "general").await;

    let message = NewMessage::parse("hi", None).unwrap();
    let refused = commands
        .post_message(&bob, room_id, message, None)
        .await
        .unwrap_err();

    assert!(matches!(refused, CommandError::Room(_)));
    assert_eq!(refused.code(), "not_a_member");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_name_fail_a_login_alike() {
    let (commands, _pool) = commands().await;
    registered(&commands, "alice").await;
    let attempt = |username, password| Attempt {
        username,
        password,
        address: PEER,
    };

    let logged_in = commands
        .login(attempt("ALICE", "correct horse"))
        .await
        .unwrap();
    let wrong = commands.login(attempt("alice", "wrong")).await.unwrap_err();
    let unknown = commands
        .login(attempt("nobody", "correct horse"))
        .await
        .unwrap_err();

    assert_eq!(logged_in.username, "alice");
    assert!(!logged_in.access_token.is_empty());
    assert_eq!(wrong.code(), "invalid_credentials");
    assert_eq!(unknown.code(), "invalid_credentials");
}

#[tokio::test]
async fn client_msg_ids_are_forgotten_after_a_day_and_not_before() {
    let (commands, pool) = commands().await;
    let alice = registered(&commands, "alice").await;
    let room_id = room(&commands, &alice, "general").await;
    for id in ["recent", "old"] {
        let message = NewMessage::parse("hello", Some(id)).unwrap();
        commands
            .post_message(&alice, room_id, message, None)
            .await
            .unwrap();
    }
    let a_day_ago = chrono::Utc::now() - commands::CLIENT_MSG_IDS_KEPT;
    sqlx::query("UPDATE sent_messages SET sent_at = $1 WHERE client_msg_id = 'old'")
        .bind(a_day_ago - chrono::Duration::minutes(1))
        .execute(&pool)
        .await
        .unwrap();

    let forgotten = commands::forget_expired_client_msg_ids(&pool)
        .await
        .unwrap();

    assert_eq!(forgotten, 1);
    let kept = testkit::count(&pool, "SELECT count(*) FROM sent_messages").await;
    assert_eq!(kept, 1, "the recent one stays");
}

#[tokio::test]
async fn every_failed_login_costs_one_password_verification_whether_the_name_exists_or_not() {
    let (commands, _pool) = commands().await;
    registered(&commands, "alice").await;
    let attempts = [
        ("alice", "wrong password"),
        ("nobody", "wrong password"),
        ("x", "a name too short to exist"),
        ("not a valid name!", "wrong password"),
        ("nobody", &"p".repeat(100)),
        ("alice", "correct horse"),
    ];
    for (username, password) in attempts {
        let before = commands.password_verifications();
        let attempt = Attempt {
            username,
            password,
            address: PEER,
        };
        let outcome = commands.login(attempt).await;
        assert_eq!(
            commands.password_verifications() - before,
            1,
            "{username:?}: {:?}",
            outcome.map(|logged_in| logged_in.username)
        );
    }
}
