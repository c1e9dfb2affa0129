//! The user's stories as given/when/then.

use chrono::{Duration, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use uuid::Uuid;

use super::*;
use crate::values::Username;

fn noon() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap()
}

fn register(name: &str) -> UserCommand {
    UserCommand::Register {
        username: Username::parse(name).unwrap(),
        password_hash: "$2b$04$hash".into(),
        at: noon(),
    }
}

fn registered(name: &str) -> UserEvent {
    UserEvent::UserRegistered {
        user_id: Username::parse(name).unwrap().user_id(),
        username: name.into(),
        password_hash: "$2b$04$hash".into(),
        registered_at: noon(),
    }
}

#[test]
fn a_new_name_registers() {
    TestFramework::<User>::with(())
        .given_no_previous_events()
        .when(register("Alice"))
        .then_expect_events(vec![registered("Alice")]);
}

#[test]
fn a_taken_name_is_refused_whatever_its_case() {
    TestFramework::<User>::with(())
        .given(vec![registered("alice")])
        .when(register("ALICE"))
        .then_expect_error(UserError::UsernameTaken);
}

#[test]
fn a_password_change_revokes_every_token_of_its_millisecond_and_before() {
    let at = noon() + Duration::microseconds(1_500);
    TestFramework::<User>::with(())
        .given(vec![registered("alice")])
        .when(UserCommand::ChangePassword {
            matched_hash: "$2b$04$hash".into(),
            new_password_hash: "$2b$04$new".into(),
            at,
        })
        .then_expect_events(vec![UserEvent::PasswordChanged {
            password_hash: "$2b$04$new".into(),
            tokens_valid_from_ms: at.timestamp_millis() + 1 + CUT_OFF_MARGIN_MS,
            changed_at: at,
        }]);
}

#[test]
fn a_password_change_checked_against_a_password_that_changed_since_is_refused() {
    let changed = UserEvent::PasswordChanged {
        password_hash: "$2b$04$other".into(),
        tokens_valid_from_ms: 1,
        changed_at: noon(),
    };
    TestFramework::<User>::with(())
        .given(vec![registered("alice"), changed])
        .when(UserCommand::ChangePassword {
            matched_hash: "$2b$04$hash".into(),
            new_password_hash: "$2b$04$new".into(),
            at: noon(),
        })
        .then_expect_error(UserError::WrongPassword);
}

#[test]
fn the_token_cut_off_never_moves_back_even_when_a_clock_does() {
    let later = noon().timestamp_millis() + 60_000 + CUT_OFF_MARGIN_MS;
    let revoked_later = UserEvent::AllTokensRevoked {
        tokens_valid_from_ms: later,
        revoked_at: noon() + Duration::minutes(1),
    };
    TestFramework::<User>::with(())
        .given(vec![registered("alice"), revoked_later])
        .when(UserCommand::RevokeAllTokens { at: noon() })
        .then_expect_events(vec![UserEvent::AllTokensRevoked {
            tokens_valid_from_ms: later,
            revoked_at: noon(),
        }]);
}

#[test]
fn nobody_logs_out_or_changes_the_password_of_a_name_never_registered() {
    TestFramework::<User>::with(())
        .given_no_previous_events()
        .when(UserCommand::RevokeAllTokens { at: noon() })
        .then_expect_error(UserError::NotRegistered);
}

#[test]
fn granting_a_role_twice_records_it_once_and_revoking_it_ends_it() {
    let granted = UserEvent::RoleGranted {
        role: UserRole::Auditor,
        granted_at: noon(),
    };
    TestFramework::<User>::with(())
        .given(vec![registered("alice"), granted.clone()])
        .when(UserCommand::GrantRole {
            role: UserRole::Auditor,
            at: noon(),
        })
        .then_expect_events(vec![]);
    TestFramework::<User>::with(())
        .given(vec![registered("alice"), granted])
        .when(UserCommand::RevokeRole {
            role: UserRole::Auditor,
            at: noon(),
        })
        .then_expect_events(vec![UserEvent::RoleRevoked {
            role: UserRole::Auditor,
            revoked_at: noon(),
        }]);
}

#[test]
fn only_an_auditor_has_an_audit_read_recorded_and_so_served() {
    let read = UserCommand::RecordAuditRead {
        resource: "/audit/reads".into(),
        at: noon(),
    };
    TestFramework::<User>::with(())
        .given(vec![registered("alice")])
        .when(read.clone())
        .then_expect_error(UserError::NotAnAuditor);
    let revoked = vec![
        registered("alice"),
        UserEvent::RoleGranted {
            role: UserRole::Auditor,
            granted_at: noon(),
        },
        UserEvent::RoleRevoked {
            role: UserRole::Auditor,
            revoked_at: noon(),
        },
    ];
    TestFramework::<User>::with(())
        .given(revoked)
        .when(read)
        .then_expect_error(UserError::NotAnAuditor);
}

#[test]
fn a_snapshot_from_before_roles_and_revocations_still_loads() {
    let old = serde_json::json!({"registered": null});
    let user: User = serde_json::from_value(old).unwrap();
    assert_eq!(user.tokens_valid_from_ms(), 0);
    assert!(!user.has_role(UserRole::Auditor));
}

fn bot_registered(name: &str, owner: Uuid) -> UserEvent {
    UserEvent::BotRegistered {
        user_id: Username::parse(name).unwrap().user_id(),
        username: name.into(),
        owner_id: owner,
        registered_at: noon(),
    }
}

#[test]
fn a_bot_takes_its_name_like_a_person_and_a_taken_name_is_refused() {
    let owner = Uuid::from_u128(7);
    let register_bot = || UserCommand::RegisterBot {
        username: Username::parse("helper.bot").unwrap(),
        owner_id: owner,
        at: noon(),
    };
    TestFramework::<User>::with(())
        .given_no_previous_events()
        .when(register_bot())
        .then_expect_events(vec![bot_registered("helper.bot", owner)]);
    TestFramework::<User>::with(())
        .given(vec![registered("helper.bot")])
        .when(register_bot())
        .then_expect_error(UserError::UsernameTaken);
}

#[test]
fn only_its_owner_revokes_a_bot_and_only_once() {
    let owner = Uuid::from_u128(7);
    let revoke = |owner_id| UserCommand::RevokeBot {
        owner_id,
        at: noon(),
    };
    let revoked = UserEvent::BotRevoked {
        tokens_valid_from_ms: i64::MAX,
        revoked_at: noon(),
    };
    TestFramework::<User>::with(())
        .given(vec![bot_registered("helper.bot", owner)])
        .when(revoke(owner))
        .then_expect_events(vec![revoked.clone()]);
    TestFramework::<User>::with(())
        .given(vec![bot_registered("helper.bot", owner)])
        .when(revoke(Uuid::from_u128(8)))
        .then_expect_error(UserError::BotNotFound);
    TestFramework::<User>::with(())
        .given(vec![bot_registered("helper.bot", owner), revoked])
        .when(revoke(owner))
        .then_expect_error(UserError::BotNotFound);
    TestFramework::<User>::with(())
        .given(vec![registered("alice")])
        .when(revoke(owner))
        .then_expect_error(UserError::BotNotFound);
}
