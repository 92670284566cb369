//! Dashboard passwords: argon2id with the crate's default cost (19 MiB, 2 passes), as a PHC
//! string that carries its own salt and parameters. Hashing runs on a blocking thread: it
//! takes tens of milliseconds on purpose.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Checked when the email is unknown, so that a wrong email costs what a wrong password
/// costs and the answer's timing does not tell which it was.
static DECOY: LazyLock<String> = LazyLock::new(|| {
    hash_now(&crate::keys::random_id("decoy_", 16)).expect("argon2 hashes a short password")
});

fn hash_now(password: &str) -> anyhow::Result<String> {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let salt =
        SaltString::encode_b64(&bytes).map_err(|e| anyhow::anyhow!("cannot encode a salt: {e}"))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))
}

pub async fn hash(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash_now(&password)).await?
}

/// Whether `password` matches `phc` (`None`: an unknown user, checked against a decoy and
/// always `false`).
pub async fn verify(password: String, phc: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let known = phc.is_some();
        let phc = phc.unwrap_or_else(|| DECOY.clone());
        let matches = PasswordHash::new(&phc).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        });
        known && matches
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_hash_verifies_its_password_only_and_never_holds_it() {
        let phc = super::hash("correct horse battery".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(!phc.contains("correct horse"));
        assert!(super::verify("correct horse battery".into(), Some(phc.clone())).await);
        assert!(!super::verify("correct horse battery!".into(), Some(phc)).await);
        assert!(!super::verify("anything".into(), None).await);
    }
}
