//! A page size that is refused, not clamped, outside its range: the API document states the
//! range, and a client that sends more learns it at once instead of getting less than it
//! asked for without a word.

use serde::{Deserialize, Deserializer};
use serde_json::json;
use utoipa::openapi::{RefOr, Schema};

/// How many events an audit page holds: 1–1000, 100 by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PageSize(usize);

impl PageSize {
    const MIN: u32 = 1;
    const MAX: u32 = 1000;
    const DEFAULT: usize = 100;

    /// The size asked for, or the default.
    pub(crate) fn or_default(asked: Option<Self>) -> usize {
        asked.map_or(Self::DEFAULT, |size| size.0)
    }
}

impl<'de> Deserialize<'de> for PageSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let refused = || {
            serde::de::Error::custom(format!(
                "limit must be a whole number from {} to {}",
                Self::MIN,
                Self::MAX
            ))
        };
        let size = u32::deserialize(deserializer).map_err(|_| refused())?;
        if !(Self::MIN..=Self::MAX).contains(&size) {
            return Err(refused());
        }
        Ok(Self(size as usize))
    }
}

impl utoipa::PartialSchema for PageSize {
    fn schema() -> RefOr<Schema> {
        let schema = json!({
            "type": "integer",
            "minimum": Self::MIN,
            "maximum": Self::MAX,
            "default": Self::DEFAULT,
            "description": "Page size; outside its range the request is refused (422)",
        });
        RefOr::T(serde_json::from_value(schema).expect("the page size's schema"))
    }
}

impl utoipa::ToSchema for PageSize {}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Params {
        limit: Option<PageSize>,
    }

    fn parse(query: &str) -> Result<Option<PageSize>, String> {
        serde_urlencoded::from_str::<Params>(query)
            .map(|params| params.limit)
            .map_err(|error| error.to_string())
    }

    #[test]
    fn a_size_within_its_range_is_taken_as_asked() {
        assert_eq!(parse("limit=1"), Ok(Some(PageSize(1))));
        assert_eq!(parse("limit=1000"), Ok(Some(PageSize(1000))));
        assert_eq!(PageSize::or_default(parse("").unwrap()), 100);
    }

    #[test]
    fn a_size_outside_its_range_is_refused_with_the_range() {
        for refused in [
            "0",
            "1001",
            "-1",
            "2147483648",
            "99999999999999999999",
            "x",
            "1.5",
        ] {
            let error = parse(&format!("limit={refused}")).unwrap_err();
            assert!(error.contains("from 1 to 1000"), "{refused}: {error}");
        }
    }
}
