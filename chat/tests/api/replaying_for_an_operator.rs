//! An operator reads the store's history in a terminal: whatever text was stored, even from
//! before the server refused control characters, is shown escaped, never run by the terminal.

use std::process::Stdio;

use chrono::Utc;
use domain::{MessagePosted, Role, RoomEvent, RoomKind};
use testkit::seed::{write, StoredEvent};
use tokio::process::Command;
use uuid::Uuid;

#[tokio::test]
async fn a_message_with_an_escape_sequence_written_before_the_change_prints_escaped_in_replay() {
    let (database_url, pool) = testkit::fresh_database().await;
    let (room_id, user_id) = (Uuid::new_v4(), Uuid::new_v4());
    let now = Utc::now();
    let history = [
        RoomEvent::RoomCreated {
            room_id,
            name: "lobby\u{1b}[2J".into(),
            is_private: false,
            password_hash: None,
            created_by: user_id,
            created_at: now,
            kind: RoomKind::Room,
        },
        RoomEvent::MemberJoined {
            user_id,
            username: "mallory".into(),
            role: Role::Owner,
            joined_at: now,
        },
        RoomEvent::MessagePosted(MessagePosted {
            message_id: Uuid::new_v4(),
            user_id,
            username: "mallory".into(),
            content: "hi\u{1b}]0;owned\u{7}\u{1b}[31m red\u{9b}0m \u{202e}txt.exe\nsecond line"
                .into(),
            client_msg_id: None,
            posted_at: now,
            is_bot: false,
            reply_to: None,
            mentions: Vec::new(),
        }),
    ];
    let events: Vec<_> = history
        .iter()
        .enumerate()
        .map(|(index, event)| StoredEvent::room(room_id, index as i64 + 1, event))
        .collect();
    write(&pool, &events, 100)
        .await
        .expect("write the old history");

    let output = Command::new(env!("CARGO_BIN_EXE_chat"))
        .args(["replay", "--room", &room_id.to_string()])
        .env("DATABASE_URL", &database_url)
        .env_remove("RUST_LOG")
        .stderr(Stdio::piped())
        .output()
        .await
        .expect("run chat replay");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(
        !printed
            .chars()
            .any(|c| c.is_control() && c != '\n' || c == '\u{202e}'),
        "{printed:?}"
    );
    assert_eq!(printed.lines().count(), 3, "one line per event: {printed}");
    assert!(
        printed.contains(
            "mallory: hi\\u{1b}]0;owned\\u{7}\\u{1b}[31m red\\u{9b}0m \\u{202e}txt.exe\\nsecond line"
        ),
        "{printed}"
    );
}
