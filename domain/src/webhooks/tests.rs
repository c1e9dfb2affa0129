//! A room's webhooks as given/when/then stories, and what a webhook may be configured with.

use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use uuid::Uuid;

use super::*;
use crate::room::Actor;

fn webhooks() -> TestFramework<RoomWebhooks> {
    TestFramework::with(())
}

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 30, 0).unwrap()
}

fn owner() -> Actor {
    Actor {
        user_id: Uuid::from_u128(1),
        username: "alice".into(),
        is_bot: false,
    }
}

fn create(webhook_id: u128, cap: usize) -> WebhookCommand {
    WebhookCommand::Create {
        webhook_id: Uuid::from_u128(webhook_id),
        room_id: Uuid::from_u128(7),
        url: WebhookUrl::parse("https://hooks.example.com/chat").unwrap(),
        event_types: Some(WebhookEventTypes::parse(["MessagePosted", "MemberJoined"]).unwrap()),
        owner: owner(),
        cap,
        at: at(),
    }
}

fn created(webhook_id: u128) -> WebhookEvent {
    WebhookEvent::WebhookCreated {
        webhook_id: Uuid::from_u128(webhook_id),
        room_id: Uuid::from_u128(7),
        url: "https://hooks.example.com/chat".into(),
        event_types: Some(vec!["MemberJoined".into(), "MessagePosted".into()]),
        created_by: owner().user_id,
        created_at: at(),
    }
}

fn deleted(webhook_id: u128) -> WebhookEvent {
    WebhookEvent::WebhookDeleted {
        webhook_id: Uuid::from_u128(webhook_id),
        deleted_by: owner().user_id,
        deleted_at: at(),
    }
}

#[test]
fn a_webhook_is_created_with_its_event_types_sorted() {
    webhooks()
        .given_no_previous_events()
        .when(create(1, 10))
        .then_expect_events(vec![created(1)]);
}

#[test]
fn a_room_at_its_cap_refuses_another_until_one_is_deleted() {
    webhooks()
        .given(vec![created(1), created(2)])
        .when(create(3, 2))
        .then_expect_error(WebhookError::TooMany(2));
    webhooks()
        .given(vec![created(1), created(2), deleted(1)])
        .when(create(3, 2))
        .then_expect_events(vec![created(3)]);
}

#[test]
fn deleting_an_unknown_or_deleted_webhook_is_not_found() {
    let delete = |id| WebhookCommand::Delete {
        webhook_id: Uuid::from_u128(id),
        owner: owner(),
        at: at(),
    };
    webhooks()
        .given(vec![created(1)])
        .when(delete(2))
        .then_expect_error(WebhookError::NotFound);
    webhooks()
        .given(vec![created(1), deleted(1)])
        .when(delete(1))
        .then_expect_error(WebhookError::NotFound);
    webhooks()
        .given(vec![created(1)])
        .when(delete(1))
        .then_expect_events(vec![deleted(1)]);
}

#[test]
fn urls_are_http_or_https_with_a_host_and_at_most_2048_bytes() {
    for good in [
        "http://example.com",
        "https://hooks.example.com:8443/a/b?c=d",
        "http://127.0.0.1:9000/",
        "http://[::1]/x",
    ] {
        assert!(WebhookUrl::parse(good).is_ok(), "{good}");
    }
    let longest = format!("https://example.com/{}", "a".repeat(MAX_URL_BYTES - 20));
    assert_eq!(longest.len(), MAX_URL_BYTES);
    assert!(WebhookUrl::parse(&longest).is_ok());
    for bad in [
        "",
        "example.com",
        "ftp://example.com/",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http://",
        "http:// example.com/",
        "http://exa\u{0}mple.com/",
        "https://user:secret@example.com/",
        "data:text/plain,hi",
        &format!("{longest}a"),
    ] {
        assert!(WebhookUrl::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn event_types_are_known_room_event_names_and_at_least_one() {
    let types = WebhookEventTypes::parse(["MessagePosted", "MessagePosted"]).unwrap();
    assert_eq!(types.into_names(), vec!["MessagePosted".to_owned()]);
    assert!(WebhookEventTypes::parse([]).is_err());
    for bad in [
        "messageposted",
        "UserRegistered",
        "WebhookCreated",
        "",
        "MessagePosted\0",
    ] {
        assert!(WebhookEventTypes::parse([bad]).is_err(), "{bad:?}");
    }
}
