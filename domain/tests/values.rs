//! What a client can send, as properties: no input makes a parser panic, what is refused is
//! refused for the rule it breaks, and what is accepted parses again to itself.

use domain::values::{ClientMsgId, MessageBody, Password, RoomName, RoomPassword, Username};
use proptest::prelude::*;

/// Characters a hostile client likes: controls, bidi controls, invisible ones, whitespace,
/// combining marks, NUL, and the rest of Unicode.
fn hostile_char() -> impl Strategy<Value = char> {
    prop_oneof![
        prop::char::range('\u{0}', '\u{9F}'),
        prop::char::range('\u{2000}', '\u{206F}'),
        Just('\u{3164}'),
        Just('\u{FEFF}'),
        Just('\u{301}'),
        any::<char>(),
    ]
}

fn hostile_text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(hostile_char(), 0..max).prop_map(|chars| chars.into_iter().collect())
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn bidi_control() -> impl Strategy<Value = char> {
    prop_oneof![
        prop::char::range('\u{202A}', '\u{202E}'),
        prop::char::range('\u{2066}', '\u{2069}'),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_room_name_is_accepted_only_within_its_rules_and_parses_again_to_itself(
        raw in hostile_text(80)
    ) {
        match RoomName::parse(&raw) {
            Ok(name) => {
                let text = name.as_str();
                prop_assert!((1..=64).contains(&text.chars().count()));
                prop_assert!(!text.chars().any(|c| c.is_control() || is_bidi_control(c)));
                prop_assert!(text.chars().any(|c| !c.is_whitespace()));
                prop_assert_eq!(text, text.trim());
                prop_assert_eq!(RoomName::parse(text), Ok(name.clone()));
            }
            Err(refused) => prop_assert!(refused.0.starts_with("room name must"), "{}", refused.0),
        }
    }

    #[test]
    fn a_name_or_message_with_a_bidi_control_is_refused_for_it(
        text in "[a-z]{1,20}",
        bidi in bidi_control(),
        at in 0usize..20,
    ) {
        let mut chars: Vec<char> = text.chars().collect();
        chars.insert(at.min(chars.len()), bidi);
        let raw: String = chars.into_iter().collect();
        let name = RoomName::parse(&raw).unwrap_err();
        prop_assert!(name.0.contains("bidirectional"), "{}", name.0);
        let message = MessageBody::parse(&raw).unwrap_err();
        prop_assert!(message.0.contains("bidirectional"), "{}", message.0);
    }

    #[test]
    fn plain_names_and_messages_round_trip(
        text in "[A-Za-z0-9][A-Za-z0-9 ,.!?'-]{0,60}[A-Za-z0-9]"
    ) {
        prop_assert_eq!(RoomName::parse(&text).map(String::from), Ok(text.clone()));
        prop_assert_eq!(MessageBody::parse(&text).map(String::from), Ok(text.clone()));
    }

    #[test]
    fn a_message_keeps_only_newlines_and_tabs_of_the_controls(raw in hostile_text(120)) {
        match MessageBody::parse(&raw) {
            Ok(body) => {
                let text = body.as_str();
                prop_assert!((1..=MessageBody::MAX_CHARS).contains(&text.chars().count()));
                let refused = |c: char| {
                    (c.is_control() && c != '\n' && c != '\t') || is_bidi_control(c)
                };
                prop_assert!(!text.chars().any(refused));
                prop_assert_eq!(MessageBody::parse(text), Ok(body.clone()));
            }
            Err(refused) => prop_assert!(refused.0.starts_with("message must"), "{}", refused.0),
        }
    }

    #[test]
    fn a_username_is_ascii_of_its_alphabet_and_parses_again_to_itself(raw in hostile_text(40)) {
        if let Ok(name) = Username::parse(&raw) {
            let text = name.as_str();
            prop_assert!((3..=32).contains(&text.len()));
            prop_assert!(text.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)));
            prop_assert_eq!(Username::parse(text).unwrap().user_id(), name.user_id());
        }
    }

    #[test]
    fn passwords_are_bounded_in_bytes_never_in_content(raw in hostile_text(100)) {
        prop_assert_eq!(Password::parse(&raw).is_ok(), (8..=72).contains(&raw.len()));
        prop_assert_eq!(RoomPassword::parse(&raw).is_ok(), (1..=72).contains(&raw.len()));
        if let Ok(password) = Password::parse(&raw) {
            prop_assert_eq!(password.expose(), raw.as_str(), "never trimmed or truncated");
        }
    }

    #[test]
    fn a_client_msg_id_is_opaque_within_its_bounds(raw in hostile_text(80)) {
        let acceptable = (1..=64).contains(&raw.chars().count()) && !raw.contains('\0');
        match ClientMsgId::parse(&raw) {
            Ok(id) => {
                prop_assert!(acceptable);
                prop_assert_eq!(id.as_str(), raw.as_str());
            }
            Err(_) => prop_assert!(!acceptable),
        }
    }
}
