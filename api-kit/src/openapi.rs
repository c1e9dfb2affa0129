//! The error answers of an operation, for its OpenAPI description: every status it can answer
//! instead of success, each with the `{detail, code}` body and the `code`s it may carry.
//! Each handler lists its own refusals beside the groups its extractors bring (a JSON body, a
//! path id, query parameters, a bearer token) and the store's (503 when it is unreachable,
//! 500 for a fault of ours).

use std::collections::BTreeMap;

use serde_json::json;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::{Content, RefOr, Response, ResponseBuilder, Schema};

/// One way an operation can fail: the status, the body's `code`, and a `detail` it may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCase {
    pub status: u16,
    pub code: &'static str,
    pub detail: &'static str,
}

impl ErrorCase {
    pub const fn new(status: u16, code: &'static str, detail: &'static str) -> Self {
        Self {
            status,
            code,
            detail,
        }
    }
}

/// A dependency (the database, the broker) is down or too slow: any operation that uses one.
pub const UNAVAILABLE: &[ErrorCase] = &[ErrorCase::new(
    503,
    "unavailable",
    "The service is temporarily unavailable; please retry",
)];

/// What an operation that writes or reads events may answer: a fault of ours (a stored event
/// that no longer decodes), or a dependency that is down.
pub const STORE_ERRORS: &[ErrorCase] = &[
    ErrorCase::new(500, "internal", "Internal error; it has been logged"),
    UNAVAILABLE[0],
];

/// What the [`Json`](crate::Json) extractor refuses.
pub const JSON_BODY_ERRORS: &[ErrorCase] = &[
    ErrorCase::new(
        413,
        "payload_too_large",
        "The request body is larger than 64 KiB",
    ),
    ErrorCase::new(
        415,
        "unsupported_media_type",
        "Expected a body with Content-Type: application/json",
    ),
    ErrorCase::new(
        422,
        "invalid_json",
        "Failed to deserialize the JSON body into the target type: missing field `name`",
    ),
];

/// What the [`Path`](crate::Path) extractor refuses: an id that is not a UUID.
pub const PATH_ERRORS: &[ErrorCase] = &[ErrorCase::new(
    422,
    "invalid_path",
    "Invalid URL: Cannot parse `room_id` with value `x`: UUID parsing failed",
)];

/// What the [`Query`](crate::Query) extractor refuses, and the parameters an endpoint checks.
pub const QUERY_ERRORS: &[ErrorCase] = &[ErrorCase::new(
    422,
    "invalid_query",
    "Failed to deserialize query string: limit: invalid digit found in string",
)];

/// A rate limit's refusal ([`RateLimited`](crate::RateLimited)), always with `Retry-After`.
pub const RATE_LIMITED: ErrorCase =
    ErrorCase::new(429, "rate_limited", "Too many requests; retry in 3 s");

/// The OpenAPI responses of `cases`, one per status: its
/// description lists each code with what it means, its schema is the error body with `code`
/// limited to those codes, and one example per code. A 401 carries `WWW-Authenticate`, a 429
/// `Retry-After`.
pub fn error_responses<'a>(
    cases: impl IntoIterator<Item = &'a ErrorCase>,
) -> BTreeMap<String, RefOr<Response>> {
    let mut by_status: BTreeMap<u16, Vec<&ErrorCase>> = BTreeMap::new();
    for case in cases {
        let same_status = by_status.entry(case.status).or_default();
        if !same_status.iter().any(|known| known.code == case.code) {
            same_status.push(case);
        }
    }
    by_status
        .into_iter()
        .map(|(status, cases)| (status.to_string(), RefOr::T(response(status, &cases))))
        .collect()
}

fn response(status: u16, cases: &[&ErrorCase]) -> Response {
    let description = cases
        .iter()
        .map(|case| format!("`{}`: {}", case.code, case.detail))
        .collect::<Vec<_>>()
        .join("; ");
    let codes: Vec<&str> = cases.iter().map(|case| case.code).collect();
    let schema: Schema = serde_json::from_value(json!({
        "allOf": [
            {"$ref": "#/components/schemas/ErrorBody"},
            {"type": "object", "properties": {"code": {"type": "string", "enum": codes}}}
        ]
    }))
    .expect("an error body schema");
    let mut content = Content::new(Some(schema));
    content.examples = cases
        .iter()
        .map(|case| {
            let example = ExampleBuilder::new()
                .value(Some(json!({"detail": case.detail, "code": case.code})))
                .build();
            (case.code.to_owned(), RefOr::T(example))
        })
        .collect();
    let mut response = ResponseBuilder::new()
        .description(description)
        .content("application/json", content);
    match status {
        401 => {
            response = response.header(
                "www-authenticate",
                required_header(
                    "Always `Bearer`",
                    json!({"type": "string", "enum": ["Bearer"]}),
                ),
            )
        }
        429 => {
            response = response.header(
                "retry-after",
                required_header(
                    "Seconds to wait before trying again",
                    json!({"type": "integer", "minimum": 1}),
                ),
            )
        }
        _ => {}
    }
    response.build()
}

/// A response header that is always sent. utoipa's header object has no `required` field, so it
/// travels as an extension, which serialises in place.
fn required_header(description: &str, schema: serde_json::Value) -> utoipa::openapi::Header {
    let schema: Schema = serde_json::from_value(schema).expect("a header schema");
    let mut header = HeaderBuilder::new()
        .schema(Some(schema))
        .description(Some(description))
        .build();
    header.extensions = Some(Extensions::from_iter([("required", true)]));
    header
}

/// Declares `$name`, whose `utoipa::IntoResponses` are the error answers of one operation: the
/// cases of each group, then its own. Name it in the operation's `responses(...)`.
///
/// ```ignore
/// api_kit::error_responses!(CreateRoomErrors: [JSON_BODY_ERRORS, BEARER_ERRORS], [
///     ErrorCase::new(400, "room_name_taken", "Room name already exists"),
/// ]);
/// ```
#[macro_export]
macro_rules! error_responses {
    ($(#[$meta:meta])* $name:ident: [$($group:expr),* $(,)?], [$($case:expr),* $(,)?]) => {
        $(#[$meta])*
        pub(crate) struct $name;

        impl utoipa::IntoResponses for $name {
            fn responses() -> std::collections::BTreeMap<
                String,
                utoipa::openapi::RefOr<utoipa::openapi::Response>,
            > {
                let own: &[$crate::ErrorCase] = &[$($case),*];
                let groups: &[&[$crate::ErrorCase]] = &[$($group),*];
                $crate::error_responses(groups.iter().copied().flatten().chain(own))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_response_per_status_lists_every_code_of_it() {
        let responses = error_responses(JSON_BODY_ERRORS.iter().chain(PATH_ERRORS));
        let statuses: Vec<&str> = responses.keys().map(String::as_str).collect();
        assert_eq!(statuses, ["413", "415", "422"]);
        let RefOr::T(unprocessable) = &responses["422"] else {
            panic!("an inline response")
        };
        let json = serde_json::to_value(unprocessable).unwrap();
        let codes = &json["content"]["application/json"]["schema"]["allOf"][1]["properties"]
            ["code"]["enum"];
        assert_eq!(codes, &json!(["invalid_json", "invalid_path"]));
    }

    #[test]
    fn a_rate_limit_says_when_to_retry() {
        let responses = error_responses(&[RATE_LIMITED]);
        let json = serde_json::to_value(&responses["429"]).unwrap();
        assert_eq!(json["headers"]["retry-after"]["required"], true);
    }
}
