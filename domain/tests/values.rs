//! What a client can send, as properties: no input makes a parser panic, what is refused is
//! refused for the rule it breaks, and what is accepted parses again to itself.

use domain::values::{
    patterns, ClientMsgId, MessageBody, Password, RoomName, RoomPassword, Username,
};
use fancy_regex::Regex;
use proptest::prelude::*;
use std::sync::LazyLock;

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
                // Bounded as sent; NFC may then join or split characters.
                prop_assert!((1..=64).contains(&raw.trim().chars().count()));
                prop_assert!(!text.chars().any(|c| c.is_control() || is_bidi_control(c)));
                prop_assert!(text.chars().any(|c| !c.is_whitespace()));
                prop_assert_eq!(text, text.trim());
                if text.chars().count() <= 64 {
                    prop_assert_eq!(RoomName::parse(text), Ok(name.clone()));
                }
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
    fn passwords_are_bounded_in_characters_never_in_content(raw in hostile_text(100)) {
        let characters = raw.chars().count();
        prop_assert_eq!(Password::parse(&raw).is_ok(), (8..=72).contains(&characters));
        prop_assert_eq!(RoomPassword::parse(&raw).is_ok(), (1..=72).contains(&characters));
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

/// Each published pattern, compiled once: the engine is the one the contract tests' JSON Schema
/// validator uses.
static PATTERNS: LazyLock<[Regex; 4]> = LazyLock::new(|| {
    [
        patterns::username(),
        patterns::room_name(),
        patterns::message(),
        patterns::NO_NUL.to_owned(),
    ]
    .map(|pattern| Regex::new(&pattern).expect("a valid pattern"))
});

/// Short texts of characters that show nothing, with now and then one that does.
fn nearly_invisible_text() -> impl Strategy<Value = String> {
    let character = prop_oneof![
        8 => prop::sample::select(vec![
            ' ', '\t', '\n', '\u{85}', '\u{A0}', '\u{AD}', '\u{34F}', '\u{61C}', '\u{115F}',
            '\u{1160}', '\u{17B4}', '\u{17B5}', '\u{180B}', '\u{180F}', '\u{1680}', '\u{2000}',
            '\u{200B}', '\u{200F}', '\u{2028}', '\u{202F}', '\u{205F}', '\u{2060}', '\u{206F}',
            '\u{2800}', '\u{3000}', '\u{3164}', '\u{FE00}', '\u{FE0F}', '\u{FEFF}', '\u{FFA0}',
            '\u{1BCA0}', '\u{1BCA3}', '\u{1D173}', '\u{1D17A}', '\u{E0000}', '\u{E0FFF}',
        ]),
        1 => prop::sample::select(vec!['a', '\u{E1000}', '\u{1D17B}', '\u{2801}', '\u{3165}']),
    ];
    prop::collection::vec(character, 0..6).prop_map(|chars| chars.into_iter().collect())
}

fn matches(pattern: &Regex, text: &str) -> bool {
    pattern.is_match(text).expect("the pattern runs")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_published_patterns_accept_exactly_what_the_parsers_accept(
        raw in prop_oneof![hostile_text(80), nearly_invisible_text()]
    ) {
        let [username, room_name, message, no_nul] = &*PATTERNS;
        prop_assert_eq!(matches(username, &raw), Username::parse(&raw).is_ok());
        prop_assert_eq!(matches(room_name, &raw), RoomName::parse(&raw).is_ok());
        prop_assert_eq!(matches(message, &raw), MessageBody::parse(&raw).is_ok());
        let client_msg_id = matches(no_nul, &raw) && (1..=64).contains(&raw.chars().count());
        prop_assert_eq!(client_msg_id, ClientMsgId::parse(&raw).is_ok());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn the_message_pattern_bounds_length_as_the_parser_does(
        text in "[a-z]{3990,4010}",
        padding in "[ \t\n]{0,8}",
    ) {
        let raw = format!("{padding}{text}{padding}");
        prop_assert_eq!(matches(&PATTERNS[2], &raw), MessageBody::parse(&raw).is_ok());
    }
}
