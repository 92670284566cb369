//! The per-key request rate limit on the whole authenticated API (GCRA via `governor`): a key
//! may send `per_minute` requests a minute, in bursts up to that many. Over it: 429
//! `rate_limited` with `Retry-After` and `X-RateLimit-Limit` / `X-RateLimit-Remaining`.

use crate::error_code::ErrorCode;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::error::ApiError;

pub struct ApiRateLimit {
    limiter: Option<DefaultKeyedRateLimiter<String>>,
    per_minute: u32,
}

impl ApiRateLimit {
    /// `per_minute` 0 turns the limit off.
    pub fn new(per_minute: u32) -> Self {
        ApiRateLimit {
            limiter: NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n))),
            per_minute,
        }
    }

    /// Counts one request of `key_id`; refuses it when the key is over its rate.
    pub fn check(&self, key_id: &str) -> Result<(), ApiError> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        match limiter.check_key(&key_id.to_string()) {
            Ok(_) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                Err(ApiError::too_many(
                    ErrorCode::RateLimited,
                    format!(
                        "this API key sent more than {} requests a minute: wait {secs} seconds (Retry-After), then slow down",
                        self.per_minute
                    ),
                    u64::from(self.per_minute),
                    secs.max(1),
                ))
            }
        }
    }
}
