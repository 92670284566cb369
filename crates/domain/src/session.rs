//! When does a visit end? After [`SESSION_GAP_MS`] without activity.

use crate::Millis;

/// 30 minutes. Activity less than this after the previous activity continues the session;
/// activity this long or longer after it starts a new one.
pub const SESSION_GAP_MS: Millis = 30 * 60 * 1000;

/// Whether activity at `at` belongs to a session spanning `started..=ended`.
pub fn continues(started: Millis, ended: Millis, at: Millis) -> bool {
    started - at < SESSION_GAP_MS && at - ended < SESSION_GAP_MS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gap_of_exactly_thirty_minutes_starts_a_new_session() {
        assert!(continues(0, 1000, 1000 + SESSION_GAP_MS - 1));
        assert!(!continues(0, 1000, 1000 + SESSION_GAP_MS));
        assert!(continues(SESSION_GAP_MS, SESSION_GAP_MS, 1));
        assert!(!continues(SESSION_GAP_MS, SESSION_GAP_MS, 0));
    }
}
