//! Request rate limits (GCRA via `governor`): per API key on the whole authenticated API, and
//! per download link on `/download/{token}`. A key or link may take `per_minute` requests a
//! minute, in bursts up to that many. Over it: 429 `rate_limited` with `Retry-After` and
//! `X-RateLimit-Limit` / `X-RateLimit-Remaining`.

use crate::error_code::ErrorCode;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::error::ApiError;

pub struct ApiRateLimit {
    limiter: Option<DefaultKeyedRateLimiter<String>>,
    per_minute: u32,
    /// What is limited, as the refusal names it ("this API key").
    what: &'static str,
}

/// Keys the limiter remembers before it forgets those idle long enough to be full again.
const REMEMBERED: usize = 10_000;

impl ApiRateLimit {
    /// Per API key; `per_minute` 0 turns the limit off.
    pub fn new(per_minute: u32) -> Self {
        Self::named(per_minute, "this API key")
    }

    /// Per download link; `per_minute` 0 turns the limit off.
    pub fn for_links(per_minute: u32) -> Self {
        Self::named(per_minute, "this download link")
    }

    /// Per client address on public pages; `per_minute` 0 turns the limit off.
    pub fn for_clients(per_minute: u32) -> Self {
        Self::named(per_minute, "this address")
    }

    fn named(per_minute: u32, what: &'static str) -> Self {
        ApiRateLimit {
            limiter: NonZeroU32::new(per_minute).map(|n| RateLimiter::keyed(Quota::per_minute(n))),
            per_minute,
            what,
        }
    }

    /// Counts one request of `key` (a key id, a link token); refuses it when over its rate.
    pub fn check(&self, key: &str) -> Result<(), ApiError> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if limiter.len() > REMEMBERED {
            limiter.retain_recent();
        }
        match limiter.check_key(&key.to_string()) {
            Ok(_) => Ok(()),
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                Err(ApiError::too_many(
                    ErrorCode::RateLimited,
                    format!(
                        "{} got more than {} requests a minute: wait {secs} seconds (Retry-After), then slow down",
                        self.what, self.per_minute
                    ),
                    u64::from(self.per_minute),
                    secs.max(1),
                ))
            }
        }
    }
}
