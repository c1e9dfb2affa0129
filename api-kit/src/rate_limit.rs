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

/// A limit on failures per key (a username's wrong passwords): [`check`](Self::check) refuses
/// without counting anything, and only [`record_failure`](Self::record_failure) counts, so
/// successful attempts never use up a key's allowance. The same sustained rate and burst as a
/// [`RatePolicy`], kept as one "theoretical arrival time" per key (GCRA).
#[derive(Clone)]
pub struct FailureLimiter {
    /// The time one failure is worth, and how many may come at once.
    policy: Option<(Duration, u32)>,
    /// Per key: when its allowance will be whole again.
    owed_until: Arc<std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>>,
}

impl FailureLimiter {
    pub fn new(policy: RatePolicy) -> Self {
        Self {
            policy: policy
                .0
                .map(|quota| (quota.replenish_interval(), quota.burst_size().get())),
            owed_until: Arc::default(),
        }
    }

    /// Refuses while `key` has no failure left to spend.
    pub fn check(&self, key: &str) -> Result<(), RateLimited> {
        let Some((interval, burst)) = self.policy else {
            return Ok(());
        };
        let owed = self.owed_until.lock().expect("failure limiter poisoned");
        let Some(&owed_until) = owed.get(key) else {
            return Ok(());
        };
        let allowed_at = owed_until.checked_sub(interval * (burst - 1));
        let now = std::time::Instant::now();
        match allowed_at {
            Some(allowed_at) if allowed_at > now => Err(RateLimited {
                retry_after: allowed_at - now,
            }),
            _ => Ok(()),
        }
    }

    /// Counts one failure of `key`.
    pub fn record_failure(&self, key: &str) {
        let Some((interval, _)) = self.policy else {
            return;
        };
        let now = std::time::Instant::now();
        let mut owed = self.owed_until.lock().expect("failure limiter poisoned");
        if owed.len() > FORGET_IDLE_KEYS_ABOVE {
            owed.retain(|_, owed_until| *owed_until > now);
        }
        let owed_until = owed.entry(key.to_owned()).or_insert(now);
        *owed_until = (*owed_until).max(now) + interval;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_count_and_once_spent_the_key_is_refused_until_it_recovers() {
        let limiter = FailureLimiter::new(RatePolicy::per_minute(3));
        for _ in 0..10 {
            assert!(limiter.check("alice").is_ok(), "checking spends nothing");
        }
        for _ in 0..3 {
            assert!(limiter.check("alice").is_ok());
            limiter.record_failure("alice");
        }
        let refused = limiter.check("alice").unwrap_err();
        assert!(refused.retry_after > Duration::from_secs(15));
        assert!(refused.retry_after <= Duration::from_secs(20));
        assert!(limiter.check("bob").is_ok(), "keys are apart");
    }

    #[test]
    fn a_limit_of_zero_never_refuses() {
        let limiter = FailureLimiter::new(RatePolicy::per_minute(0));
        for _ in 0..100 {
            limiter.record_failure("alice");
        }
        assert!(limiter.check("alice").is_ok());
    }
}
