//! API keys and public ids. A key is 256 random bits; the store keeps only its SHA-256, so a
//! lookup is one index probe (a slow password hash per request would be a denial-of-service
//! lever, and a 256-bit random secret needs no stretching).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ferry_domain::{NewApiKey, Scopes};
use rand::RngCore;
use sha2::{Digest, Sha256};

const KEY_PREFIX: &str = "fy_";

/// A freshly made key: the secret to show once, and what the store keeps.
pub struct MintedKey {
    pub secret: String,
    pub record: NewApiKey,
}

pub fn mint(name: Option<String>, scopes: Scopes) -> MintedKey {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    MintedKey {
        record: NewApiKey {
            id: random_id("key_", 6),
            name,
            prefix: secret[..10].to_string(),
            secret_hash: hash(&secret),
            scopes,
        },
        secret,
    }
}

pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// `prefix` followed by `bytes` random bytes in hex, e.g. `web_5f0c2a9e81d4b7c3a1e2`.
pub fn random_id(prefix: &str, bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    format!("{prefix}{}", hex::encode(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minted_key_hashes_to_its_record_and_never_repeats() {
        let a = mint(None, Scopes::all());
        let b = mint(None, Scopes::all());
        assert_eq!(hash(&a.secret), a.record.secret_hash);
        assert_ne!(a.secret, b.secret);
        assert!(a.secret.starts_with("fy_") && a.secret.len() == 46);
        assert!(a.secret.starts_with(&a.record.prefix));
    }
}
