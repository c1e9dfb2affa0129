use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{UserCommand, UserEvent};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    #[error("Username already registered")]
    UsernameTaken,
}

/// What the system knows about one user: enough to log in and to show who they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct User {
    registered: Option<Registration>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Registration {
    pub user_id: Uuid,
    pub username: String,
    pub password_hash: String,
    pub registered_at: DateTime<Utc>,
}

impl User {
    /// The registration, or `None` for a name nobody has registered.
    pub fn registration(&self) -> Option<&Registration> {
        self.registered.as_ref()
    }
}

impl Aggregate for User {
    const TYPE: &'static str = "User";
    type Command = UserCommand;
    type Event = UserEvent;
    type Error = UserError;
    type Services = ();

    async fn handle(
        &mut self,
        command: UserCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), UserError> {
        match command {
            UserCommand::Register {
                username,
                password_hash,
                at,
            } => {
                if self.registered.is_some() {
                    return Err(UserError::UsernameTaken);
                }
                let event = UserEvent::UserRegistered {
                    user_id: username.user_id(),
                    username: username.to_string(),
                    password_hash,
                    registered_at: at,
                };
                sink.write(event, self).await;
                Ok(())
            }
        }
    }

    fn apply(&mut self, event: UserEvent) {
        match event {
            UserEvent::UserRegistered {
                user_id,
                username,
                password_hash,
                registered_at,
            } => {
                self.registered = Some(Registration {
                    user_id,
                    username,
                    password_hash,
                    registered_at,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use cqrs_es::test::TestFramework;

    use super::*;
    use crate::values::Username;

    fn register(name: &str) -> UserCommand {
        UserCommand::Register {
            username: Username::parse(name).unwrap(),
            password_hash: "$2b$04$hash".into(),
            at: Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap(),
        }
    }

    #[test]
    fn a_new_name_registers() {
        let username = Username::parse("Alice").unwrap();
        TestFramework::<User>::with(())
            .given_no_previous_events()
            .when(register("Alice"))
            .then_expect_events(vec![UserEvent::UserRegistered {
                user_id: username.user_id(),
                username: "Alice".into(),
                password_hash: "$2b$04$hash".into(),
                registered_at: Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap(),
            }]);
    }

    #[test]
    fn a_taken_name_is_refused_whatever_its_case() {
        let first = UserEvent::UserRegistered {
            user_id: Username::parse("alice").unwrap().user_id(),
            username: "alice".into(),
            password_hash: "$2b$04$hash".into(),
            registered_at: Utc::now(),
        };
        TestFramework::<User>::with(())
            .given(vec![first])
            .when(register("ALICE"))
            .then_expect_error(UserError::UsernameTaken);
    }
}
