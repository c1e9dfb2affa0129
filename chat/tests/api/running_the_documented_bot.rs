//! The bot `docs/integrations.md` gives integrators, run as it is printed there with a real bot
//! token: it answers a mention in the room; killed and started again, it resumes from the
//! position it saved and answers only what came while it was away.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tokio::process::{Child, Command};

use crate::helpers::{spawn_app, TestApp};

const GUIDE: &str = include_str!("../../../docs/integrations.md");
const BOT: &str = "helper.bot";
const ANSWER: &str = "@alice at your service";

/// The guide's Python bot: the one the test runs is the one readers copy.
fn documented_bot() -> &'static str {
    GUIDE
        .split("```python\n")
        .skip(1)
        .map(|block| block.split("```").next().expect("a closed block"))
        .find(|block| block.contains("text/event-stream"))
        .expect("docs/integrations.md has a Python bot that follows the feed")
}

/// Starts the documented bot in `dir`, where it keeps its position, as the guide says to run it.
fn start_bot(app: &TestApp, dir: &Path, token: &str) -> Child {
    Command::new("python3")
        .args(["-c", documented_bot(), &app.address, BOT])
        .env("BOT_TOKEN", token)
        .current_dir(dir)
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("run python3")
}

/// The room's messages, oldest first, as `(username, content)`.
async fn messages(app: &TestApp, room: &str) -> Vec<(String, String)> {
    let page = app
        .get_json(&format!("/rooms/{room}/messages?limit=100"), None)
        .await;
    let mut all: Vec<(String, String)> = page
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["username"].as_str().unwrap().to_owned(),
                m["content"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    all.reverse();
    all
}

/// Waits (up to 20 s) until the room holds `count` answers of the bot; answers the messages.
async fn answers(app: &TestApp, room: &str, count: usize) -> Vec<(String, String)> {
    for _ in 0..200 {
        let all = messages(app, room).await;
        if all.iter().filter(|(who, _)| who == BOT).count() >= count {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the bot never gave {count} answers: {:?}",
        messages(app, room).await
    );
}

/// Waits until the bot has saved `position` as the last one it handled.
async fn saved(state: &Path, position: i64) {
    for _ in 0..200 {
        let stored = std::fs::read_to_string(state).unwrap_or_default();
        if stored.trim().parse::<i64>().ok() == Some(position) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the bot never saved position {position}");
}

/// The last position the bot's own feed holds: its answer, once it has given it.
async fn last_position(app: &TestApp, token: &str) -> i64 {
    let page = app.feed_page(token, "?limit=1000").await;
    page["events"].as_array().unwrap().last().unwrap()["position"]
        .as_i64()
        .unwrap()
}

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test]
async fn the_documented_bot_answers_a_mention_and_after_a_restart_answers_only_the_new_one() {
    let app = spawn_app().await;
    let alice = app.user("alice").await;
    let room = app.room(&alice, "lobby", None).await;
    let bot = app.bot(&alice, "helper").await;
    let token = bot["token"].as_str().unwrap();
    let joined = app
        .post_json(&format!("/rooms/{room}/join"), Some(token), &json!({}))
        .await;
    assert_eq!(joined.status(), StatusCode::OK);
    let scratch = Scratch(std::env::temp_dir().join(format!("documented-bot-{room}")));
    std::fs::create_dir_all(&scratch.0).unwrap();
    let state = scratch.0.join(format!("{BOT}.position"));

    let mut process = start_bot(&app, &scratch.0, token);
    app.post_message(&alice, &room, "no mention here").await;
    app.post_message(&alice, &room, "hello @helper.bot").await;
    let first = answers(&app, &room, 1).await;
    let handled = last_position(&app, token).await;
    saved(&state, handled).await;
    process.kill().await.expect("the bot stops");

    app.post_message(&alice, &room, "@HELPER.BOT are you there?")
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        messages(&app, &room).await.len(),
        first.len() + 1,
        "nobody answered"
    );

    let _process = start_bot(&app, &scratch.0, token);
    let all = answers(&app, &room, 2).await;
    // Long enough for a repeat of the first answer, or a third one, to show.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let all_after = messages(&app, &room).await;
    assert_eq!(all_after, all, "nothing more came");
    let said: Vec<(&str, &str)> = all
        .iter()
        .map(|(who, what)| (who.as_str(), what.as_str()))
        .collect();
    assert_eq!(
        said,
        [
            ("alice", "no mention here"),
            ("alice", "hello @helper.bot"),
            (BOT, ANSWER),
            ("alice", "@HELPER.BOT are you there?"),
            (BOT, ANSWER),
        ],
        "each mention answered once, in order, and the bot's own answers not answered"
    );
    let resumed = std::fs::read_to_string(&state).unwrap();
    assert!(
        resumed.trim().parse::<i64>().unwrap() > handled,
        "{resumed}"
    );
}
