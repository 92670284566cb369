//! Slowing down password guessing. Five wrong sign-ins in a row for one email, or from one
//! client address, and the next try of that email or client waits: 30 seconds, doubling with
//! each further failure, up to 15 minutes. An unknown email is counted exactly like a known
//! one, so the throttle never tells whether an address has a user. A success clears both
//! counts. Counts live in memory (a restart forgets them) and are forgotten an hour after the
//! last failure.

use std::collections::HashMap;
use std::sync::Mutex;

use ferry_domain::Millis;
use sha2::{Digest, Sha256};

/// Failures allowed in a row before tries are slowed down.
pub const FREE_FAILURES: u32 = 5;
const FIRST_WAIT_MS: Millis = 30_000;
const MAX_WAIT_MS: Millis = 15 * 60_000;
const FORGET_AFTER_MS: Millis = 60 * 60_000;
/// Past this many counters the stale ones are dropped, so a flood of made-up emails cannot
/// grow memory without bound (and the oldest go if that is not enough).
const MAX_ENTRIES: usize = 100_000;

#[derive(Clone, Copy)]
struct Failures {
    count: u32,
    last_ms: Millis,
}

impl Failures {
    /// When the next try is allowed.
    fn free_at(self) -> Millis {
        if self.count < FREE_FAILURES {
            return self.last_ms;
        }
        let doublings = (self.count - FREE_FAILURES).min(10);
        let wait = (FIRST_WAIT_MS << doublings).min(MAX_WAIT_MS);
        self.last_ms + wait
    }
}

#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, Failures>>,
}

/// What one sign-in is counted under: the email (hashed: the map holds no addresses) and the
/// client's address when known.
pub fn keys(email: &str, client: Option<std::net::IpAddr>) -> Vec<String> {
    let email = email.trim().to_lowercase();
    let mut keys = vec![format!(
        "email:{}",
        hex::encode(Sha256::digest(email.as_bytes()))
    )];
    if let Some(ip) = client {
        keys.push(format!("client:{ip}"));
    }
    keys
}

impl LoginThrottle {
    /// `Err(seconds)` to wait when any of `keys` is being slowed down at `now`.
    pub fn check(&self, keys: &[String], now: Millis) -> Result<(), u64> {
        let map = self.failures.lock().expect("throttle lock");
        let free_at = keys
            .iter()
            .filter_map(|k| map.get(k))
            .map(|f| f.free_at())
            .max()
            .unwrap_or(now);
        if free_at > now {
            return Err(((free_at - now) as u64).div_ceil(1000));
        }
        Ok(())
    }

    pub fn failed(&self, keys: &[String], now: Millis) {
        let mut map = self.failures.lock().expect("throttle lock");
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, f| now - f.last_ms < FORGET_AFTER_MS);
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
        }
        for key in keys {
            let entry = map.entry(key.clone()).or_insert(Failures {
                count: 0,
                last_ms: now,
            });
            if now - entry.last_ms >= FORGET_AFTER_MS {
                entry.count = 0;
            }
            entry.count += 1;
            entry.last_ms = now;
        }
    }

    pub fn succeeded(&self, keys: &[String]) {
        let mut map = self.failures.lock().expect("throttle lock");
        for key in keys {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_slow_the_next_try_and_each_further_one_doubles_the_wait() {
        let t = LoginThrottle::default();
        let k = keys("Ann@Example.com", None);
        for i in 0..FREE_FAILURES {
            assert_eq!(t.check(&k, 1_000 * i64::from(i)), Ok(()));
            t.failed(&k, 1_000 * i64::from(i));
        }
        assert_eq!(t.check(&k, 5_000), Err(29));
        assert_eq!(
            t.check(&keys("ann@example.com", None), 5_000),
            Err(29),
            "any case"
        );
        assert_eq!(t.check(&k, 34_000), Ok(()));
        t.failed(&k, 34_000);
        assert_eq!(t.check(&k, 34_000), Err(60));
        t.succeeded(&k);
        assert_eq!(t.check(&k, 34_000), Ok(()));
    }
}
