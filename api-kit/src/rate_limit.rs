use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::ApiError;

/// How many actions a key may take: a sustained rate with a burst allowance. `None` turns the
/// limit off (the `0` of the configuration).
#[derive(Debug, Clone, Copy)]
pub struct RatePolicy(Option<Quota>);

impl RatePolicy {
    pub fn per_second(rate: u32, burst: u32) -> Self {
        Self(NonZeroU32::new(rate).map(|rate| {
            Quota::per_second(rate).allow_burst(NonZeroU32::new(burst).unwrap_or(rate))
        }))
    }

    pub fn per_minute(rate: u32) -> Self {
        Self(NonZeroU32::new(rate).map(Quota::per_minute))
    }

    pub fn per_hour(rate: u32) -> Self {
        Self(NonZeroU32::new(rate).map(Quota::per_hour))
    }

    pub fn off() -> Self {
        Self(None)
    }
}

const FORGET_IDLE_KEYS_ABOVE: usize = 10_000;

/// A rate limit per key (a user, a username, an address), shared by every request in the process.
#[derive(Clone)]
pub struct RateLimiter {
    limiter: Option<Arc<DefaultKeyedRateLimiter<String>>>,
}

/// Refused by a rate limit; it may be tried again after `retry_after`.
#[derive(Debug, thiserror::Error)]
#[error("Too many requests")]
pub struct RateLimited {
    pub retry_after: Duration,
}

impl RateLimiter {
    pub fn new(policy: RatePolicy) -> Self {
        Self {
            limiter: policy
                .0
                .map(|quota| Arc::new(DefaultKeyedRateLimiter::keyed(quota))),
        }
    }

    pub fn check(&self, key: &str) -> Result<(), RateLimited> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        // Keys whose bucket is full again carry no state; forget them so memory follows the
        // number of recently active keys.
        if limiter.len() > FORGET_IDLE_KEYS_ABOVE {
            limiter.retain_recent();
        }
        limiter
            .check_key(&key.to_owned())
            .map_err(|not_until| RateLimited {
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
            })
    }
}

impl From<RateLimited> for ApiError {
    fn from(limited: RateLimited) -> Self {
        let seconds = limited.retry_after.as_secs_f64().ceil().max(1.0) as u64;
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("Too many requests; retry in {seconds} s"),
        )
        .with_header(header::RETRY_AFTER, HeaderValue::from(seconds))
    }
}
