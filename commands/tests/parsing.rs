//! The command bodies every transport parses, as properties: no input makes them panic, a
//! refusal names what it refused, and what is accepted keeps what was sent.

use commands::{NewMessage, NewRoom};
use proptest::prelude::*;

fn any_text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..max).prop_map(|chars| chars.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_new_room_keeps_a_password_only_when_private(
        name in any_text(80),
        is_private in any::<bool>(),
        password in prop::option::of(any_text(90)),
    ) {
        match NewRoom::parse(&name, is_private, password.as_deref()) {
            Ok(room) => {
                let given = password.as_deref().is_some_and(|password| !password.is_empty());
                prop_assert_eq!(room.password.is_some(), is_private && given);
                if let Some(kept) = &room.password {
                    prop_assert_eq!(Some(kept.expose()), password.as_deref());
                }
                prop_assert_eq!(room.is_private, is_private);
            }
            Err(refused) => prop_assert!(
                refused.0.starts_with("room name") || refused.0.starts_with("room password"),
                "{}", refused.0
            ),
        }
    }

    #[test]
    fn a_new_message_keeps_its_client_msg_id_as_sent(
        content in any_text(100),
        client_msg_id in prop::option::of(any_text(70)),
    ) {
        match NewMessage::parse(&content, client_msg_id.as_deref()) {
            Ok(message) => {
                let kept = message.client_msg_id.as_ref().map(|id| id.as_str());
                prop_assert_eq!(kept, client_msg_id.as_deref());
                prop_assert_eq!(message.body.as_str(), content.trim());
            }
            Err(refused) => prop_assert!(
                refused.0.starts_with("message") || refused.0.starts_with("client_msg_id"),
                "{}", refused.0
            ),
        }
    }
}
