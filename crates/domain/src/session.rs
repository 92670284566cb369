//! When does a visit end? After [`SESSION_GAP_MS`] without activity. And how is a session
//! named outside Ferry? By an opaque id ([`SessionIds`]).

use crate::Millis;

/// 30 minutes. Activity less than this after the previous activity continues the session;
/// activity this long or longer after it starts a new one.
pub const SESSION_GAP_MS: Millis = 30 * 60 * 1000;

/// Whether activity at `at` belongs to a session spanning `started..=ended`.
pub fn continues(started: Millis, ended: Millis, at: Millis) -> bool {
    started - at < SESSION_GAP_MS && at - ended < SESSION_GAP_MS
}

/// Session ids as Ferry shows them (`sess_…` in every export): a keyed permutation of the
/// session's stored key. A row number would tell whoever receives an export how many sessions
/// the whole install has recorded, and how fast; a permuted one says nothing, yet stays the
/// same for a session and never equals another session's.
///
/// The permutation is a balanced Feistel network over 62 bits (two 31-bit halves, six rounds
/// of SipHash-2-4 keyed with the install's secret): ids are positive and below 2^62, so they
/// print as at most 19 digits, like the row numbers they replace.
#[derive(Clone, Copy)]
pub struct SessionIds {
    k0: u64,
    k1: u64,
}

const HALF_BITS: u32 = 31;
const HALF: u64 = (1 << HALF_BITS) - 1;
const ROUNDS: u64 = 6;

impl SessionIds {
    /// `key`: the install's secret, 16 random bytes (more are ignored, fewer padded).
    pub fn new(key: &[u8]) -> Self {
        let mut bytes = [0u8; 16];
        for (b, k) in bytes.iter_mut().zip(key) {
            *b = *k;
        }
        let [a, b] = [&bytes[..8], &bytes[8..]]
            .map(|half| u64::from_le_bytes(half.try_into().expect("eight bytes")));
        SessionIds { k0: a, k1: b }
    }

    /// The public number of the session stored under `key` (keys are below 2^62).
    pub fn public(&self, key: i64) -> i64 {
        let x = key as u64 & ((1 << (2 * HALF_BITS)) - 1);
        let (mut left, mut right) = (x >> HALF_BITS, x & HALF);
        for round in 0..ROUNDS {
            (left, right) = (right, left ^ (self.round(round, right) & HALF));
        }
        ((left << HALF_BITS) | right) as i64
    }

    /// `sess_` and the public number, as exports write it.
    pub fn label(&self, key: i64) -> String {
        format!("sess_{}", self.public(key))
    }

    // SipHash keyed per round is the PRF the Feistel rounds need; std's SipHasher is
    // deprecated only in favour of a hasher that cannot be keyed, which this needs.
    #[allow(deprecated)]
    fn round(&self, round: u64, half: u64) -> u64 {
        use std::hash::Hasher;
        let mut h = std::hash::SipHasher::new_with_keys(self.k0 ^ round, self.k1);
        h.write_u64(half);
        h.finish()
    }
}

impl std::fmt::Debug for SessionIds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionIds(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_stable_distinct_and_say_nothing_of_the_row_number() {
        let ids = SessionIds::new(b"0123456789abcdef");
        let mut seen = std::collections::HashSet::new();
        for key in 1..50_000 {
            let id = ids.public(key);
            assert!((0..1 << 62).contains(&id), "{id}");
            assert!(seen.insert(id), "no two sessions share an id");
            assert_eq!(ids.public(key), id, "stable");
        }
        // Consecutive sessions get unrelated ids: the first ones are not small.
        assert!((1..100).all(|k| ids.public(k) > 1 << 40));
        assert_eq!(ids.label(7), format!("sess_{}", ids.public(7)));
        let other = SessionIds::new(b"another install!");
        assert!((1..100).all(|k| other.public(k) != ids.public(k)), "keyed");
    }

    #[test]
    fn gap_of_exactly_thirty_minutes_starts_a_new_session() {
        assert!(continues(0, 1000, 1000 + SESSION_GAP_MS - 1));
        assert!(!continues(0, 1000, 1000 + SESSION_GAP_MS));
        assert!(continues(SESSION_GAP_MS, SESSION_GAP_MS, 1));
        assert!(!continues(SESSION_GAP_MS, SESSION_GAP_MS, 0));
    }
}
