//! What a webhook is configured with, validated.

use std::collections::BTreeSet;

use crate::room::EVENT_TYPES;
use crate::values::InvalidValue;

/// The longest URL a webhook may have, in bytes.
pub const MAX_URL_BYTES: usize = 2048;

/// An absolute `http` or `https` URL with a host, at most [`MAX_URL_BYTES`]. Whether its host may
/// be reached is decided at every delivery, where the address is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let refused = |why: &str| InvalidValue(format!("url {why}"));
        if raw.len() > MAX_URL_BYTES {
            return Err(refused(&format!("must be at most {MAX_URL_BYTES} bytes")));
        }
        if raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(refused("may hold no spaces or control characters"));
        }
        let url =
            url::Url::parse(raw).map_err(|error| refused(&format!("is not a URL: {error}")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(refused("must be http or https"));
        }
        if url.host().is_none() {
            return Err(refused("must name a host"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            // The URL is shown to every owner and stored in events: no credentials in it.
            return Err(refused("may hold no user name or password"));
        }
        // The limit is on what the client sent; the normalised form stored and called may be a
        // little longer (a `/` for an empty path, percent-encoding).
        Ok(Self(String::from(url)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The room event types a webhook receives: a non-empty set of known names, without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEventTypes(Vec<String>);

impl WebhookEventTypes {
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Self, InvalidValue> {
        let mut chosen = BTreeSet::new();
        for name in names {
            if !EVENT_TYPES.contains(&name) {
                return Err(InvalidValue(format!(
                    "event_types: {name:?} is not a room event type (one of {})",
                    EVENT_TYPES.join(", ")
                )));
            }
            chosen.insert(name.to_owned());
        }
        if chosen.is_empty() {
            return Err(InvalidValue(
                "event_types must name at least one event type (leave it out for all)".into(),
            ));
        }
        Ok(Self(chosen.into_iter().collect()))
    }

    pub fn into_names(self) -> Vec<String> {
        self.0
    }
}
