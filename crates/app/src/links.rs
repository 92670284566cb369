//! Download links: `/download/{token}` where the token names the export and its expiry and is
//! signed with HMAC-SHA256 under a secret that never leaves the server. A token cannot be
//! forged or extended; whether a one-time link was used is kept in the store.

use std::path::Path;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// 256 bits, the HMAC-SHA256 key size.
const MIN_SECRET_BYTES: usize = 32;

pub struct LinkSigner {
    secret: Vec<u8>,
}

/// What a valid token says.
#[derive(Debug, PartialEq)]
pub struct LinkClaim {
    pub export_id: String,
    /// Which of the export's files (0 for an export of one file).
    pub file: usize,
    pub expires_at: i64,
}

impl LinkSigner {
    /// The secret from `FERRY_LINK_SECRET`, or from `DATA_DIR/link-secret` (made on first use,
    /// owner-only, written atomically). A secret under 32 bytes is refused: an empty HMAC key
    /// would let anyone forge links.
    pub fn load(data_dir: &Path) -> anyhow::Result<Self> {
        Self::load_with(data_dir, std::env::var("FERRY_LINK_SECRET").ok())
    }

    fn load_with(data_dir: &Path, from_env: Option<String>) -> anyhow::Result<Self> {
        if let Some(secret) = from_env {
            anyhow::ensure!(
                secret.len() >= MIN_SECRET_BYTES,
                "FERRY_LINK_SECRET is {} bytes; it must be at least {MIN_SECRET_BYTES}: make one with \
                 `openssl rand -hex 32`",
                secret.len()
            );
            return Ok(LinkSigner {
                secret: secret.into_bytes(),
            });
        }
        let path = data_dir.join("link-secret");
        if let Ok(hex_secret) = std::fs::read_to_string(&path) {
            let secret = hex::decode(hex_secret.trim()).context("link-secret is not hex")?;
            anyhow::ensure!(
                secret.len() >= MIN_SECRET_BYTES,
                "{} holds {} bytes, fewer than {MIN_SECRET_BYTES}: it was not written whole. \
                 Remove it and start again; a new secret is made, and links sent before stop working",
                path.display(),
                secret.len()
            );
            return Ok(LinkSigner { secret });
        }
        let mut secret = vec![0u8; MIN_SECRET_BYTES];
        rand::rng().fill_bytes(&mut secret);
        crate::private_fs::ensure_private_dir(data_dir)?;
        crate::private_fs::write_private(&path, hex::encode(&secret).as_bytes())?;
        Ok(LinkSigner { secret })
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(&self.secret).expect("HMAC takes keys of any length")
    }

    /// A link to file `file` of the export (file 0's token names no file, as links made
    /// before exports had several files did).
    pub fn sign(&self, export_id: &str, file: usize, expires_at: i64) -> String {
        let payload = match file {
            0 => format!("{export_id}.{expires_at}"),
            n => format!("{export_id}/{n}.{expires_at}"),
        };
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        let signature = mac.finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(signature)
        )
    }

    /// HMAC-SHA256 of `input` under the server's secret, for `purpose` (which keeps the
    /// digests of one use from standing in for another's). Request verification derives its
    /// codes and tokens, and keys their stored hashes, with it: a copy of the database alone
    /// cannot produce or test one.
    pub fn derive(&self, purpose: &str, input: &str) -> [u8; 32] {
        let mut mac = self.mac();
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(input.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Whether [`LinkSigner::derive`] of `purpose` and `input` is `expected`, compared in
    /// constant time.
    pub fn derived_matches(&self, purpose: &str, input: &str, expected: &[u8]) -> bool {
        let mut mac = self.mac();
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(input.as_bytes());
        mac.verify_slice(expected).is_ok()
    }

    /// The claim of a token this server signed; `None` for anything else.
    pub fn verify(&self, token: &str) -> Option<LinkClaim> {
        let (payload, signature) = token.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let mut mac = self.mac();
        mac.update(&payload);
        mac.verify_slice(&signature).ok()?;
        let text = String::from_utf8(payload).ok()?;
        let (target, expires_at) = text.rsplit_once('.')?;
        let (export_id, file) = match target.split_once('/') {
            None => (target, 0),
            Some((id, n)) => (id, n.parse().ok()?),
        };
        Some(LinkClaim {
            export_id: export_id.to_string(),
            file,
            expires_at: expires_at.parse().ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_or_empty_secret_is_refused_wherever_it_comes_from() {
        let dir = tempfile::tempdir().unwrap();
        for short in ["", "too short a secret"] {
            let refused = LinkSigner::load_with(dir.path(), Some(short.into()));
            let message = refused.err().expect("refused").to_string();
            assert!(message.contains("at least 32"), "{message}");
        }
        assert!(LinkSigner::load_with(dir.path(), Some("k".repeat(32))).is_ok());
        // What a crash during an unsynced write could leave: an empty file.
        std::fs::write(dir.path().join("link-secret"), "").unwrap();
        let refused = LinkSigner::load_with(dir.path(), None);
        let message = refused.err().expect("refused").to_string();
        assert!(message.contains("not written whole"), "{message}");
        std::fs::remove_file(dir.path().join("link-secret")).unwrap();
        LinkSigner::load_with(dir.path(), None).expect("a new secret is made");
        let made = std::fs::read_to_string(dir.path().join("link-secret")).unwrap();
        assert_eq!(hex::decode(made.trim()).unwrap().len(), 32);
    }

    #[test]
    fn a_token_verifies_only_unaltered_and_under_its_own_secret() {
        let dir = tempfile::tempdir().unwrap();
        let signer = LinkSigner::load(dir.path()).unwrap();
        let token = signer.sign("exp_1", 0, 1_700_000_000_000);
        assert_eq!(
            signer.verify(&token),
            Some(LinkClaim {
                export_id: "exp_1".into(),
                file: 0,
                expires_at: 1_700_000_000_000
            })
        );
        let part = signer.sign("exp_1", 3, 1_700_000_000_000);
        assert_eq!(signer.verify(&part).map(|c| c.file), Some(3));
        let forged = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode("exp_1.9999999999999"),
            token.split_once('.').unwrap().1
        );
        assert_eq!(signer.verify(&forged), None);
        let again = LinkSigner::load(dir.path()).unwrap();
        assert!(
            again.verify(&token).is_some(),
            "the secret persists across restarts"
        );
        let other = LinkSigner::load(tempfile::tempdir().unwrap().path()).unwrap();
        assert_eq!(other.verify(&token), None);
    }
}
