//! Signed identify: the site's backend proves a user id is its own user's with
//! `user_hash = hex(HMAC-SHA256(website identify secret, user_id))`, the convention of
//! Intercom's and Crisp's identity verification, so a visitor cannot claim someone else's id.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::keys::random_id;

type HmacSha256 = Hmac<Sha256>;

/// A new identify secret: 256 random bits, shown once.
pub fn new_secret() -> String {
    random_id("fis_", 32)
}

fn mac(secret: &str, user_id: &str) -> HmacSha256 {
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(user_id.as_bytes());
    mac
}

/// The `user_hash` the site's backend sends for `user_id`, in lower-case hex.
pub fn user_hash(secret: &str, user_id: &str) -> String {
    hex::encode(mac(secret, user_id).finalize().into_bytes())
}

/// Whether `hash` (hex, either case) is `user_id`'s under `secret`, compared in constant time.
pub fn verify(secret: &str, user_id: &str, hash: &str) -> bool {
    match hex::decode(hash.trim()) {
        Ok(bytes) => mac(secret, user_id).verify_slice(&bytes).is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2: the hash is plain HMAC-SHA256, which any backend language makes.
    #[test]
    fn the_hash_is_standard_hmac_sha256_in_hex() {
        assert_eq!(
            user_hash("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn only_the_hash_of_that_user_under_that_secret_verifies() {
        let hash = user_hash("fis_a", "user_1");
        assert!(verify("fis_a", "user_1", &hash));
        assert!(verify("fis_a", "user_1", &hash.to_uppercase()));
        assert!(!verify("fis_a", "user_2", &hash));
        assert!(!verify("fis_b", "user_1", &hash));
        assert!(!verify("fis_a", "user_1", &hash[..62]));
        assert!(!verify("fis_a", "user_1", "not hex"));
        assert!(!verify("fis_a", "user_1", ""));
    }
}
