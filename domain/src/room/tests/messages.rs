//! Edits, deletions and reactions: given/when/then, and commands decided one after another on
//! one room as its executor does, with facts read before the others changed the message.

use cqrs_es::event_sink::EventSink;

use super::*;
use crate::room::{KnownMessage, Mention, MessageFacts, CHANGED_WINDOW, MAX_DISTINCT_REACTIONS};
use crate::values::Emoji;

const MESSAGE: Uuid = Uuid::from_u128(7);

/// alice owns the room; bob and carol are members; bob posted the message.
fn lobby_with_bobs_message() -> Vec<RoomEvent> {
    let mut history = public_lobby();
    history.push(joined("bob", Role::Member));
    history.push(joined("carol", Role::Member));
    history.push(posted("bob", MESSAGE, "hello", None));
    history
}

/// The facts the use case reads of bob's untouched message, as of the room's end.
fn known() -> KnownMessage {
    KnownMessage {
        message_id: MESSAGE,
        facts: Some(MessageFacts {
            message_id: MESSAGE,
            author: actor("bob").user_id,
            deleted: false,
            reactions: vec![],
        }),
        as_of: lobby_with_bobs_message().len(),
    }
}

fn edit(name: &str, content: &str) -> RoomCommand {
    RoomCommand::EditMessage {
        editor: actor(name),
        message: known(),
        body: MessageBody::parse(content).unwrap(),
        at: at(),
    }
}

fn delete(name: &str) -> RoomCommand {
    RoomCommand::DeleteMessage {
        deleter: actor(name),
        message: known(),
        at: at(),
    }
}

fn react(name: &str, emoji: &str) -> RoomCommand {
    RoomCommand::React {
        reactor: actor(name),
        message: known(),
        emoji: Emoji::parse(emoji).unwrap(),
        at: at(),
    }
}

fn unreact(name: &str, emoji: &str) -> RoomCommand {
    RoomCommand::Unreact {
        reactor: actor(name),
        message: known(),
        emoji: Emoji::parse(emoji).unwrap(),
        at: at(),
    }
}

fn deleted_by(name: &str) -> RoomEvent {
    RoomEvent::MessageDeleted {
        message_id: MESSAGE,
        user_id: actor(name).user_id,
        username: name.into(),
        deleted_at: at(),
    }
}

fn reaction_added(name: &str, emoji: &str) -> RoomEvent {
    RoomEvent::ReactionAdded {
        message_id: MESSAGE,
        emoji: emoji.into(),
        user_id: actor(name).user_id,
        username: name.into(),
        reacted_at: at(),
    }
}

/// Decides `command` on `room` as the executor does: on the room's own copy, which keeps the
/// events' effects for the next command.
async fn decide(room: &mut Room, command: RoomCommand) -> Result<Vec<RoomEvent>, RoomError> {
    let sink = EventSink::default();
    room.handle(command, &(), &sink).await?;
    Ok(sink.collect().await)
}

#[test]
fn the_author_edits_and_the_mentions_are_those_of_the_new_text() {
    room()
        .given(lobby_with_bobs_message())
        .when(edit("bob", "ask @Carol and @nobody, not @bob@x"))
        .then_expect_events(vec![RoomEvent::MessageEdited {
            message_id: MESSAGE,
            user_id: actor("bob").user_id,
            username: "bob".into(),
            content: "ask @Carol and @nobody, not @bob@x".into(),
            mentions: vec![
                Mention {
                    user_id: actor("carol").user_id,
                    username: "carol".into(),
                },
                Mention {
                    user_id: actor("bob").user_id,
                    username: "bob".into(),
                },
            ],
            edited_at: at(),
        }]);
}

#[test]
fn only_the_author_edits_even_the_owner_may_not() {
    for name in ["alice", "carol"] {
        room()
            .given(lobby_with_bobs_message())
            .when(edit(name, "mine now"))
            .then_expect_error(RoomError::NotTheAuthor);
    }
}

#[test]
fn a_non_member_changes_nothing_and_learns_nothing_of_the_message() {
    for command in [edit("dave", "x"), delete("dave"), react("dave", "👍")] {
        room()
            .given(lobby_with_bobs_message())
            .when(command)
            .then_expect_error(RoomError::NotAMember);
    }
}

#[test]
fn an_author_who_left_may_still_delete_their_message_but_nothing_else() {
    let mut history = lobby_with_bobs_message();
    history.push(left("bob"));
    room()
        .given(history.clone())
        .when(delete("bob"))
        .then_expect_events(vec![deleted_by("bob")]);
    for command in [edit("bob", "x"), react("bob", "👍")] {
        room()
            .given(history.clone())
            .when(command)
            .then_expect_error(RoomError::NotAMember);
    }
    history.push(left("carol"));
    room()
        .given(history)
        .when(delete("carol"))
        .then_expect_error(RoomError::NotAMember);
}

#[test]
fn an_unknown_message_is_not_found() {
    let mut unknown = known();
    unknown.facts = None;
    room()
        .given(lobby_with_bobs_message())
        .when(RoomCommand::DeleteMessage {
            deleter: actor("bob"),
            message: unknown,
            at: at(),
        })
        .then_expect_error(RoomError::MessageNotFound);
}

#[test]
fn the_author_or_the_owner_deletes_and_no_one_else() {
    for name in ["bob", "alice"] {
        room()
            .given(lobby_with_bobs_message())
            .when(delete(name))
            .then_expect_events(vec![deleted_by(name)]);
    }
    room()
        .given(lobby_with_bobs_message())
        .when(delete("carol"))
        .then_expect_error(RoomError::NotAuthorOrOwner);
}

#[test]
fn a_message_that_cannot_be_mentioned_or_mentions_no_member_names_nobody() {
    let members = replay(lobby_with_bobs_message());
    assert!(crate::room::mentions_in("mail bob@example.org", members.members()).is_empty());
    assert!(crate::room::mentions_in("@@bob @b @dave", members.members()).is_empty());
    let named = crate::room::mentions_in("@bob. @BOB, @carol-", members.members());
    assert_eq!(named.len(), 2, "{named:?}");
}

#[tokio::test]
async fn two_deletes_decided_on_the_same_facts_record_one_deletion() {
    let mut room = replay(lobby_with_bobs_message());
    assert_eq!(
        decide(&mut room, delete("bob")).await,
        Ok(vec![deleted_by("bob")])
    );
    assert_eq!(decide(&mut room, delete("alice")).await, Ok(vec![]));
}

#[tokio::test]
async fn an_edit_decided_after_a_delete_on_the_same_facts_is_refused() {
    let mut room = replay(lobby_with_bobs_message());
    decide(&mut room, delete("bob")).await.unwrap();
    assert_eq!(
        decide(&mut room, edit("bob", "too late")).await,
        Err(RoomError::MessageDeleted)
    );
    assert_eq!(
        decide(&mut room, react("carol", "👍")).await,
        Err(RoomError::MessageDeleted)
    );
    assert_eq!(
        decide(&mut room, unreact("carol", "👍")).await,
        Err(RoomError::MessageDeleted)
    );
}

#[tokio::test]
async fn a_twenty_first_distinct_emoji_is_refused_though_every_command_read_none() {
    let mut room = replay(lobby_with_bobs_message());
    let emoji: Vec<String> = ('\u{1F600}'..)
        .take(MAX_DISTINCT_REACTIONS + 1)
        .map(String::from)
        .collect();
    for e in &emoji[..MAX_DISTINCT_REACTIONS] {
        assert_eq!(decide(&mut room, react("carol", e)).await.unwrap().len(), 1);
    }
    assert_eq!(
        decide(&mut room, react("bob", &emoji[MAX_DISTINCT_REACTIONS])).await,
        Err(RoomError::TooManyReactions)
    );
    assert_eq!(
        decide(&mut room, react("bob", &emoji[0])).await,
        Ok(vec![reaction_added("bob", &emoji[0])]),
        "an emoji already there takes more people"
    );
}

#[tokio::test]
async fn reacting_twice_or_taking_back_what_was_not_given_records_nothing() {
    let mut room = replay(lobby_with_bobs_message());
    assert_eq!(
        decide(&mut room, react("carol", "👍")).await.unwrap().len(),
        1
    );
    assert_eq!(decide(&mut room, react("carol", "👍")).await, Ok(vec![]));
    assert_eq!(decide(&mut room, unreact("bob", "👍")).await, Ok(vec![]));
    assert_eq!(
        decide(&mut room, unreact("carol", "👍"))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(decide(&mut room, unreact("carol", "👍")).await, Ok(vec![]));
}

#[test]
fn facts_read_before_a_change_the_room_did_not_see_decided_are_stale() {
    // Loaded from the store: the deletion was decided elsewhere, so this copy knows it only as
    // a change of a message it never learnt.
    let mut history = lobby_with_bobs_message();
    history.push(deleted_by("bob"));
    room()
        .given(history)
        .when(edit("bob", "still here?"))
        .then_expect_error(RoomError::StaleMessage);
}

#[tokio::test]
async fn a_message_forgotten_from_the_window_makes_older_facts_stale() {
    let mut room = replay(lobby_with_bobs_message());
    decide(&mut room, react("carol", "👍")).await.unwrap();
    for n in 0..CHANGED_WINDOW as u128 {
        let mut other = known();
        other.message_id = Uuid::from_u128(1000 + n);
        other.facts.as_mut().unwrap().message_id = other.message_id;
        let command = RoomCommand::React {
            reactor: actor("carol"),
            message: other,
            emoji: Emoji::parse("🎉").unwrap(),
            at: at(),
        };
        decide(&mut room, command).await.unwrap();
    }
    assert_eq!(
        decide(&mut room, react("bob", "👍")).await,
        Err(RoomError::StaleMessage),
        "facts that do not show carol's reaction"
    );
    let mut fresh = known();
    fresh.as_of = room.last_seq();
    let command = RoomCommand::React {
        reactor: actor("bob"),
        message: fresh,
        emoji: Emoji::parse("👍").unwrap(),
        at: at(),
    };
    assert_eq!(decide(&mut room, command).await.unwrap().len(), 1);
}

#[test]
fn a_snapshot_taken_before_messages_could_change_still_loads() {
    let mut snapshot = serde_json::to_value(replay(lobby_with_bobs_message())).unwrap();
    snapshot.as_object_mut().unwrap().remove("changed");
    let room: Room = serde_json::from_value(snapshot).unwrap();
    assert_eq!(room.last_seq(), 5);
}
