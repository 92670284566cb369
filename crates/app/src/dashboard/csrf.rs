//! Cross-site request forgery: every form carries a token a cross-site page cannot know, and
//! every POST without the right one is refused (403) before it does anything.
//!
//! - Signed in: the token is derived from the session's secret token
//!   (`hex(SHA-256("ferry-csrf\0" ‖ token))`), so it needs no storage, changes with each
//!   session, and reveals nothing of the token (the database keeps a different hash of it).
//! - The sign-in form: a random token in a cookie of its own and in the form (double submit),
//!   so a cross-site page cannot sign a browser in to the attacker's account.
//!
//! The session cookie is `SameSite=Strict` as well; the token is what holds when a browser
//! ignores that.

use sha2::{Digest, Sha256};

pub fn for_session(token: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"ferry-csrf\0");
    h.update(token.as_bytes());
    hex::encode(h.finalize())
}

/// Compares in time independent of where the two differ.
pub fn matches(expected: &str, given: Option<&str>) -> bool {
    let Some(given) = given else {
        return false;
    };
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    if a.len() != b.len() || a.is_empty() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_the_same_token_matches() {
        let t = super::for_session("abc");
        assert!(super::matches(&t, Some(&t)));
        assert!(!super::matches(&t, Some(&super::for_session("abd"))));
        assert!(!super::matches(&t, None));
        assert!(!super::matches("", Some("")));
    }
}
