use serde_json::{json, Value};

use domain::MessagePosted;

use super::*;

fn parsed(frame: &Utf8Bytes) -> Value {
    serde_json::from_str(frame.as_str()).unwrap()
}

#[test]
fn a_message_has_the_seeds_fields_in_v1_and_what_became_of_it_in_v2() {
    let room_id = Uuid::from_u128(1);
    let at = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
        .unwrap()
        .with_timezone(&Utc);
    let event = RoomEvent::MessagePosted(MessagePosted {
        message_id: Uuid::from_u128(2),
        user_id: Uuid::from_u128(3),
        username: "alice".into(),
        content: "hi".into(),
        client_msg_id: Some("c1".into()),
        posted_at: at,
        is_bot: true,
        reply_to: None,
        mentions: vec![],
    });
    let rendered = render_event(room_id, 7, &event);
    let v2 = parsed(rendered.v2.as_ref().unwrap());
    assert_eq!(v2["is_bot"], true);
    assert_eq!(v2["deleted"], false);
    assert_eq!(v2["reactions"], json!([]));
    assert_eq!(v2["reply_count"], 0);
    assert!(v2["edited_at"].is_null() && v2["reply_to"].is_null());
    assert_eq!(
        parsed(&rendered.v1.unwrap()),
        json!({
            "type": "message", "id": Uuid::from_u128(2), "seq": 7, "room_id": room_id,
            "user_id": Uuid::from_u128(3), "username": "alice", "content": "hi",
            "client_msg_id": "c1", "created_at": "2026-01-02T03:04:05.000000Z"
        })
    );
}

#[test]
fn membership_reaches_only_the_json_dialect_and_carries_its_seq() {
    let event = RoomEvent::MemberLeft {
        user_id: Uuid::from_u128(3),
        username: "bob".into(),
        left_at: Utc::now(),
    };
    let rendered = render_event(Uuid::from_u128(1), 9, &event);
    assert!(rendered.v1.is_none());
    let frame = parsed(&rendered.v2.unwrap());
    assert_eq!(frame["type"], "member_left");
    assert_eq!(frame["seq"], 9);
    assert_eq!(frame["username"], "bob");
}

#[test]
fn a_system_notice_has_the_seeds_shape() {
    let frame = parsed(&system("alice joined"));
    assert_eq!(frame["type"], "system");
    assert_eq!(frame["content"], "alice joined");
    assert_eq!(frame["username"], "System");
    assert!(frame["created_at"].is_string());
}

#[test]
fn client_frames_parse_and_unknown_ones_are_refused() {
    assert!(matches!(
        ClientFrame::parse(r#"{"type":"send","content":"x","client_msg_id":"a"}"#),
        Ok(ClientFrame::Send { client_msg_id: Some(id), .. }) if id == "a"
    ));
    assert!(matches!(
        ClientFrame::parse(r#"{"type":"resume","since":4}"#),
        Ok(ClientFrame::Resume { since: 4 })
    ));
    assert!(ClientFrame::parse(r#"{"type":"dance"}"#).is_err());
    assert!(ClientFrame::parse("hello").is_err());
    assert!(ClientFrame::parse(r#"{"type":"resume","since":-1}"#).is_err());
}

#[test]
fn a_resume_past_the_largest_sequence_there_can_be_is_refused() {
    assert!(matches!(
        ClientFrame::parse(r#"{"type":"resume","since":9223372036854775807}"#),
        Ok(ClientFrame::Resume { since: i64::MAX })
    ));
    for since in ["9223372036854775808", "18446744073709551615", "1e30", "-1"] {
        let refused = ClientFrame::parse(&format!(r#"{{"type":"resume","since":{since}}}"#));
        assert!(
            refused
                .unwrap_err()
                .contains("a room sequence, from 0 to 9223372036854775807"),
            "{since}"
        );
    }
}
