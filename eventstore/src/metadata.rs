use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use uuid::Uuid;

/// Who asked for a command, and in which request: stored with every event it produces, so the
/// log answers "who did this, when, through which call".
#[derive(Debug, Clone, Default)]
pub struct CommandMetadata {
    pub user_id: Option<Uuid>,
    pub request_id: Option<String>,
    pub client_msg_id: Option<String>,
}

impl CommandMetadata {
    /// The metadata of a command `user_id` gives in the request `request_id`.
    pub fn by(user_id: Uuid, request_id: Option<String>) -> Self {
        Self {
            user_id: Some(user_id),
            request_id,
            client_msg_id: None,
        }
    }

    pub(crate) fn to_map(&self, recorded_at: DateTime<Utc>) -> HashMap<String, String> {
        let mut map = HashMap::from([(
            "recorded_at".to_owned(),
            recorded_at.to_rfc3339_opts(SecondsFormat::Micros, true),
        )]);
        if let Some(user_id) = self.user_id {
            map.insert("user_id".into(), user_id.to_string());
        }
        if let Some(request_id) = &self.request_id {
            map.insert("request_id".into(), request_id.clone());
        }
        if let Some(client_msg_id) = &self.client_msg_id {
            map.insert("client_msg_id".into(), client_msg_id.clone());
        }
        map
    }
}

/// The current time at the precision the store keeps (PostgreSQL's microseconds), so a time a
/// command answers with is exactly the one every later read shows.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
