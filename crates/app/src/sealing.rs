//! Seals secrets Ferry must keep but never show (destination credentials, alert-webhook
//! secrets) with AES-256-GCM under a key of the operator's: `FERRY_SECRET_KEY` (64 hex
//! digits), or `DATA_DIR/secret-key`, made on first use (owner-only, whole or not at all).
//!
//! A sealed value is `v1:` + base64(12-byte random nonce ‖ ciphertext ‖ tag). The account's
//! id is the associated data, so a value copied into another account's row does not open.
//! Losing the key loses the sealed credentials (re-enter them), nothing else.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ferry_domain::AccountId;
use rand::RngCore;

const FILE: &str = "secret-key";
const PREFIX: &str = "v1:";

#[derive(Clone)]
pub struct Sealer {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    pub fn load(data_dir: &Path) -> anyhow::Result<Self> {
        Self::load_with(data_dir, std::env::var("FERRY_SECRET_KEY").ok())
    }

    fn load_with(data_dir: &Path, from_env: Option<String>) -> anyhow::Result<Self> {
        if let Some(hex_key) = from_env {
            return Self::from_hex(&hex_key).context(
                "FERRY_SECRET_KEY must be 64 hex digits (32 bytes): make one with \
                 `openssl rand -hex 32`",
            );
        }
        let path = data_dir.join(FILE);
        if let Some(sealer) = Self::read(&path)? {
            return Ok(sealer);
        }
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        crate::private_fs::ensure_private_dir(data_dir)?;
        if !crate::private_fs::create_private(&path, hex::encode(key).as_bytes())? {
            return Self::read(&path)?.context("the secret key vanished while it was made");
        }
        Ok(Self::from_key(&key))
    }

    fn read(path: &Path) -> anyhow::Result<Option<Self>> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_hex(&text)
                .with_context(|| format!("{} is not 64 hex digits", path.display()))
                .map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    fn from_hex(text: &str) -> anyhow::Result<Self> {
        let key: [u8; 32] = hex::decode(text.trim())?
            .try_into()
            .map_err(|_| anyhow::anyhow!("not 32 bytes"))?;
        Ok(Self::from_key(&key))
    }

    fn from_key(key: &[u8; 32]) -> Self {
        Sealer {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key)),
        }
    }

    pub fn seal(&self, account: AccountId, plain: &[u8]) -> String {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let aad = account.0.to_string();
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: aad.as_bytes(),
                },
            )
            .expect("AES-GCM seals any message under 64 GiB");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{PREFIX}{}", STANDARD.encode(out))
    }

    /// `None` for a value sealed under another key or for another account, or tampered with.
    pub fn open(&self, account: AccountId, sealed: &str) -> Option<Vec<u8>> {
        let bytes = STANDARD.decode(sealed.strip_prefix(PREFIX)?).ok()?;
        if bytes.len() < 12 {
            return None;
        }
        let (nonce, body) = bytes.split_at(12);
        let aad = account.0.to_string();
        self.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: aad.as_bytes(),
                },
            )
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_for_its_account_and_key_and_hides_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let sealer = Sealer::load_with(dir.path(), None).unwrap();
        let sealed = sealer.seal(AccountId(1), b"wJalrXUtnFEMI");
        assert!(!sealed.contains("wJalrXUtnFEMI"));
        assert_eq!(
            sealer.open(AccountId(1), &sealed).unwrap(),
            b"wJalrXUtnFEMI"
        );
        assert_eq!(sealer.open(AccountId(2), &sealed), None, "another account");
        let again = Sealer::load_with(dir.path(), None).unwrap();
        assert!(
            again.open(AccountId(1), &sealed).is_some(),
            "the key is kept"
        );
        let other = Sealer::load_with(dir.path(), Some("11".repeat(32))).unwrap();
        assert_eq!(other.open(AccountId(1), &sealed), None, "another key");
        assert!(Sealer::load_with(dir.path(), Some("short".into())).is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
