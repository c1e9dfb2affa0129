//! What an adversary would try on the two parsers of client input, the upgrade URL's query and
//! the v2 frames: any text or JSON shape is answered (never a panic), a sequence out of range
//! is refused, and what a well-behaved client writes reads back as written.

use proptest::prelude::*;
use serde_json::{json, Value};

use crate::connection::Credential;
use crate::endpoint::parse;
use crate::frames::{ClientFrame, Dialect};

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |x| x.is_finite())
            .prop_map(Value::from),
        ".{0,16}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::hash_map(".{0,8}", inner, 0..6)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// Objects that look like frames: a known or unknown type, with fields of any shape.
fn frame_shaped() -> impl Strategy<Value = Value> {
    let kind = prop::sample::select(vec!["send", "typing", "ping", "resume", "dance"]);
    let field = || prop::option::of(json_value());
    (kind, field(), field(), field()).prop_map(|(kind, content, client_msg_id, since)| {
        let mut frame = json!({ "type": kind });
        for (name, value) in [
            ("content", content),
            ("client_msg_id", client_msg_id),
            ("since", since),
        ] {
            if let Some(value) = value {
                frame[name] = value;
            }
        }
        frame
    })
}

/// A query as a client would write it, keys and values encoded.
fn query(pairs: &[(&str, String)]) -> String {
    serde_urlencoded::to_string(pairs).expect("pairs of strings encode")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_text_is_answered_as_a_frame_or_a_refusal(text in any::<String>()) {
        let _ = ClientFrame::parse(&text);
    }

    #[test]
    fn any_frame_shape_parses_only_into_what_it_says(frame in frame_shaped()) {
        match ClientFrame::parse(&frame.to_string()) {
            Ok(ClientFrame::Send { content, client_msg_id, reply_to }) => {
                prop_assert!(reply_to.is_none() || frame["reply_to"].is_string());
                prop_assert_eq!(frame["type"].as_str(), Some("send"));
                prop_assert_eq!(frame["content"].as_str(), Some(content.as_str()));
                prop_assert_eq!(frame["client_msg_id"].as_str(), client_msg_id.as_deref());
            }
            Ok(ClientFrame::Resume { since }) => {
                prop_assert!(since >= 0);
                prop_assert_eq!(frame["since"].as_i64(), Some(since));
            }
            Ok(ClientFrame::Typing | ClientFrame::Ping) | Err(_) => {}
        }
    }

    #[test]
    fn a_resume_is_taken_exactly_when_its_sequence_is_in_range(
        signed in any::<i64>(),
        unsigned in any::<u64>(),
    ) {
        let parsed = ClientFrame::parse(&json!({"type": "resume", "since": signed}).to_string());
        match parsed {
            Ok(ClientFrame::Resume { since }) => prop_assert_eq!(since, signed),
            _ => prop_assert!(signed < 0),
        }
        let parsed = ClientFrame::parse(&json!({"type": "resume", "since": unsigned}).to_string());
        match parsed {
            Ok(ClientFrame::Resume { since }) => prop_assert_eq!(since as u64, unsigned),
            _ => prop_assert!(unsigned > i64::MAX as u64),
        }
    }

    #[test]
    fn a_send_frame_reads_back_as_written(
        content in any::<String>(),
        client_msg_id in prop::option::of(any::<String>()),
    ) {
        let mut frame = json!({"type": "send", "content": content});
        if let Some(id) = &client_msg_id {
            frame["client_msg_id"] = json!(id);
        }
        match ClientFrame::parse(&frame.to_string()) {
            Ok(ClientFrame::Send { content: parsed, client_msg_id: parsed_id, reply_to: None }) => {
                prop_assert_eq!(parsed, content);
                prop_assert_eq!(parsed_id, client_msg_id);
            }
            other => prop_assert!(false, "{other:?}"),
        }
    }

    #[test]
    fn any_query_is_answered_as_a_request_or_a_reason(text in any::<String>()) {
        let _ = parse("room".into(), &text, None);
    }

    #[test]
    fn a_query_reads_back_as_written_when_its_values_are_in_range(
        token in any::<String>(),
        v in prop_oneof![Just("1".to_owned()), Just("2".to_owned()), ".{0,3}"],
        since in any::<u64>(),
    ) {
        let written = query(&[
            ("token", token.clone()),
            ("v", v.clone()),
            ("since", since.to_string()),
        ]);
        let dialect = match v.as_str() {
            "1" => Some(Dialect::V1),
            "2" => Some(Dialect::V2),
            _ => None,
        };
        match (parse("room".into(), &written, None), dialect) {
            (Ok(request), Some(dialect)) => {
                prop_assert!(since <= i64::MAX as u64, "{since} was taken");
                prop_assert_eq!(request.credential, Credential::Token(token));
                prop_assert_eq!(request.dialect, dialect);
                prop_assert_eq!(request.since.map(|since| since as u64), Some(since));
            }
            (Err(reason), Some(_)) => {
                prop_assert!(since > i64::MAX as u64, "{since}: {reason}");
            }
            (Err(_), None) => {}
            (Ok(request), None) => prop_assert!(false, "v={v:?} was taken: {request:?}"),
        }
    }
}
