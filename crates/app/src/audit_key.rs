//! The key that signs audit checkpoints: an Ed25519 key in `DATA_DIR/audit-signing-key` (its
//! 32-byte seed in hex, owner-only), made on first use. Its public half is served at
//! `/.well-known/ferry-audit-key`, so that anyone holding a checkpoint can check it.

use std::path::{Path, PathBuf};

use anyhow::Context;
use ed25519_dalek::{SigningKey, VerifyingKey};
use rand::RngCore;

const FILE: &str = "audit-signing-key";

fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(FILE)
}

/// The data directory's signing key, made (owner-only, whole or not at all) when there is none.
/// Two processes making it at once end with one key: the one that lost reads the winner's.
pub fn load_or_create(data_dir: &Path) -> anyhow::Result<SigningKey> {
    if let Some(key) = load(data_dir)? {
        return Ok(key);
    }
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    crate::private_fs::ensure_private_dir(data_dir)?;
    if !crate::private_fs::create_private(&path(data_dir), hex::encode(seed).as_bytes())? {
        return load(data_dir)?.context("the audit signing key vanished while it was made");
    }
    Ok(SigningKey::from_bytes(&seed))
}

/// The data directory's signing key, if it has one.
pub fn load(data_dir: &Path) -> anyhow::Result<Option<SigningKey>> {
    let path = path(data_dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let seed: [u8; 32] = hex::decode(text.trim())
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .with_context(|| {
            format!(
                "{} is not a 32-byte key in hex: restore it from a backup; a new key would not \
                 verify the checkpoints taken before",
                path.display()
            )
        })?;
    Ok(Some(SigningKey::from_bytes(&seed)))
}

/// A public key as `ferry audit verify --public-key` takes it: 64 hex digits, or a file holding
/// them or the JSON document of `/.well-known/ferry-audit-key`.
pub fn parse_public(value: &str) -> anyhow::Result<VerifyingKey> {
    let text = match std::fs::read_to_string(value) {
        Ok(file) => match serde_json::from_str::<serde_json::Value>(&file) {
            Ok(doc) => doc["public_key"].as_str().unwrap_or_default().to_string(),
            Err(_) => file,
        },
        Err(_) => value.to_string(),
    };
    public_from_hex(text.trim()).with_context(|| {
        format!(
            "--public-key {value} is not an Ed25519 public key: pass the 64 hex digits of \
             `public_key` at /.well-known/ferry-audit-key, or a file holding them"
        )
    })
}

pub fn public_from_hex(text: &str) -> Option<VerifyingKey> {
    let bytes: [u8; 32] = hex::decode(text).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_made_once_owner_only_and_read_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path()).unwrap().is_none());
        let made = load_or_create(dir.path()).unwrap();
        let again = load_or_create(dir.path()).unwrap();
        assert_eq!(made.to_bytes(), again.to_bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let public = hex::encode(made.verifying_key().to_bytes());
        assert_eq!(parse_public(&public).unwrap(), made.verifying_key());
        let doc = dir.path().join("key.json");
        std::fs::write(&doc, format!(r#"{{"public_key":"{public}"}}"#)).unwrap();
        assert_eq!(
            parse_public(doc.to_str().unwrap()).unwrap(),
            made.verifying_key()
        );
        assert!(parse_public("abc").is_err());
    }

    #[test]
    fn a_damaged_key_file_is_refused_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(path(dir.path()), "").unwrap();
        assert!(load_or_create(dir.path()).is_err());
        assert_eq!(std::fs::read(path(dir.path())).unwrap(), b"");
    }
}
