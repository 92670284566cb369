//! Audit checkpoints: the head of the audit chain signed with the data directory's Ed25519
//! key ([`crate::audit_key`]), kept outside the machine, so that whoever can write the database
//! still cannot rewrite, remove or cut entries up to a checkpoint unnoticed.
//!
//! A checkpoint is one JSON document:
//!
//! ```json
//! {
//!   "format": "ferry-audit-checkpoint/1",
//!   "seq": 42,
//!   "head_hash": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
//!   "taken_at": "2026-12-01T12:00:00Z",
//!   "public_key": "<64 hex digits: the Ed25519 public key>",
//!   "signature": "<128 hex digits: the Ed25519 signature>"
//! }
//! ```
//!
//! `seq` and `head_hash` are the newest entry's number and hash when it was taken (`0` and
//! the genesis hash, 64 zeros, for an empty trail). The signature covers the UTF-8 text of
//! four lines, each ending in `\n`: the format, `seq` in decimal, `head_hash`, `taken_at` —
//! `"ferry-audit-checkpoint/1\n42\n9f86…0a08\n2026-12-01T12:00:00Z\n"`. `public_key` says
//! which key signed; it proves nothing by itself: a checkpoint is checked against the key the
//! checker trusts (the data directory's, or one fetched from `/.well-known/ferry-audit-key`
//! and kept apart).

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use ferry_domain::audit::GENESIS;
use ferry_store::AuditChain;
use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "ferry-audit-checkpoint/1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub format: String,
    pub seq: i64,
    pub head_hash: String,
    pub taken_at: String,
    pub public_key: String,
    pub signature: String,
}

impl Checkpoint {
    /// Signs the chain's head (`None`: an empty trail).
    pub fn sign(key: &SigningKey, head: Option<(i64, String)>, at: DateTime<Utc>) -> Checkpoint {
        let (seq, head_hash) = head.unwrap_or((0, GENESIS.to_string()));
        // Whole seconds, as every other signed time Ferry writes.
        let taken_at = ferry_domain::time::rfc3339(chrono::SubsecRound::trunc_subsecs(at, 0));
        let signature = key.sign(message(FORMAT, seq, &head_hash, &taken_at).as_bytes());
        Checkpoint {
            format: FORMAT.to_string(),
            seq,
            head_hash,
            taken_at,
            public_key: hex::encode(key.verifying_key().to_bytes()),
            signature: hex::encode(signature.to_bytes()),
        }
    }

    /// Whether `trusted` signed exactly this checkpoint; the error says what does not hold.
    pub fn check_signature(&self, trusted: &VerifyingKey) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!(
                "this is not a Ferry audit checkpoint: its format is `{}`, not `{FORMAT}`",
                self.format
            ));
        }
        let trusted_hex = hex::encode(trusted.to_bytes());
        if self.public_key != trusted_hex {
            return Err(format!(
                "the checkpoint was signed by key {}, not by the trusted key {trusted_hex}: \
                 it was not made by this Ferry (pass the key that made it with --public-key)",
                self.public_key
            ));
        }
        let signature = hex::decode(&self.signature)
            .ok()
            .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
            .map(|bytes| Signature::from_bytes(&bytes));
        let text = message(&self.format, self.seq, &self.head_hash, &self.taken_at);
        match signature {
            Some(signature) if trusted.verify(text.as_bytes(), &signature).is_ok() => Ok(()),
            _ => Err(format!(
                "the checkpoint's signature does not match its contents (entry {}, hash {}, \
                 taken {}): the file was altered after it was signed",
                self.seq, self.head_hash, self.taken_at
            )),
        }
    }

    /// Whether the trail, as walked, still holds every entry up to this checkpoint unchanged
    /// (the chain was walked with `seq` = this checkpoint's). The error names the entry and
    /// what happened to it.
    pub fn check_chain(&self, chain: &AuditChain) -> Result<(), String> {
        let seq = self.seq;
        if let Some(broken) = chain.broken.as_ref().filter(|b| b.seq <= seq) {
            return Err(format!(
                "entry {}: {} (the checkpoint covers entries 1 to {seq})",
                broken.seq, broken.reason
            ));
        }
        let found = if seq == 0 {
            Some(GENESIS)
        } else {
            chain.hash_at.as_deref()
        };
        match found {
            None => {
                let newest = chain.head.as_ref().map_or(0, |(s, _)| *s);
                let cut = match newest + 1 {
                    first if first == seq => format!("entry {seq} was cut"),
                    first => format!("entries {first} to {seq} were cut"),
                };
                Err(format!(
                    "entry {seq} is missing: the trail ends at entry {newest}, below the \
                     checkpoint's entry {seq}, so {cut}"
                ))
            }
            Some(hash) if hash != self.head_hash => Err(format!(
                "entry {seq} has hash {hash}, but the checkpoint signed {}: entries 1 to {seq} \
                 were rewritten and their hashes recomputed",
                self.head_hash
            )),
            Some(_) => match &chain.broken {
                Some(broken) => Err(format!(
                    "entries 1 to {seq} match the checkpoint, but entry {}: {}",
                    broken.seq, broken.reason
                )),
                None => Ok(()),
            },
        }
    }
}

fn message(format: &str, seq: i64, head_hash: &str, taken_at: &str) -> String {
    format!("{format}\n{seq}\n{head_hash}\n{taken_at}\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_store::AuditBreak;

    fn key(byte: u8) -> SigningKey {
        SigningKey::from_bytes(&[byte; 32])
    }

    fn at() -> DateTime<Utc> {
        "2026-12-01T12:00:00.250Z".parse().unwrap()
    }

    fn chain(head: i64, hash_at: Option<&str>, broken: Option<i64>) -> AuditChain {
        AuditChain {
            count: head as u64,
            head: Some((head, "h".repeat(64))),
            broken: broken.map(|seq| AuditBreak {
                seq,
                reason: format!("entry {seq} was edited or moved to another account"),
            }),
            hash_at: hash_at.map(str::to_string),
        }
    }

    #[test]
    fn a_checkpoint_verifies_with_its_key_and_no_other_and_not_once_altered() {
        let checkpoint = Checkpoint::sign(&key(1), Some((5, "a".repeat(64))), at());
        assert_eq!(checkpoint.check_signature(&key(1).verifying_key()), Ok(()));
        let other = checkpoint.check_signature(&key(2).verifying_key());
        assert!(other.unwrap_err().contains("not by the trusted key"));

        let moved = Checkpoint {
            seq: 4,
            ..checkpoint.clone()
        };
        let err = moved.check_signature(&key(1).verifying_key()).unwrap_err();
        assert!(err.contains("altered after it was signed"), "{err}");
        // A forger who signs with their own key and names it is still refused.
        let forged = Checkpoint {
            public_key: checkpoint.public_key.clone(),
            ..Checkpoint::sign(&key(2), Some((5, "b".repeat(64))), at())
        };
        assert!(forged.check_signature(&key(1).verifying_key()).is_err());
    }

    #[test]
    fn the_chain_must_hold_the_signed_entry_unchanged_and_unbroken_up_to_it() {
        let signed = "a".repeat(64);
        let checkpoint = Checkpoint::sign(&key(1), Some((5, signed.clone())), at());
        assert_eq!(
            checkpoint.check_chain(&chain(7, Some(&signed), None)),
            Ok(())
        );
        let cut = checkpoint.check_chain(&chain(3, None, None)).unwrap_err();
        assert!(cut.contains("entry 5 is missing") && cut.contains("entries 4 to 5 were cut"));
        let newest = checkpoint.check_chain(&chain(4, None, None)).unwrap_err();
        assert!(newest.ends_with("so entry 5 was cut"), "{newest}");
        let rewritten = checkpoint
            .check_chain(&chain(7, Some(&"c".repeat(64)), None))
            .unwrap_err();
        assert!(rewritten.contains("rewritten"), "{rewritten}");
        let edited = checkpoint
            .check_chain(&chain(7, None, Some(2)))
            .unwrap_err();
        assert!(
            edited.starts_with("entry 2: entry 2 was edited"),
            "{edited}"
        );
        let after = checkpoint
            .check_chain(&chain(7, Some(&signed), Some(6)))
            .unwrap_err();
        assert!(after.starts_with("entries 1 to 5 match the checkpoint, but entry 6"));
        let empty = Checkpoint::sign(&key(1), None, at());
        assert_eq!(empty.check_chain(&AuditChain::default()), Ok(()));
    }

    #[test]
    fn the_file_round_trips_as_documented() {
        let checkpoint = Checkpoint::sign(&key(1), Some((42, "a".repeat(64))), at());
        let text = serde_json::to_string(&checkpoint).unwrap();
        let keys: Vec<String> =
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&text)
                .unwrap()
                .keys()
                .cloned()
                .collect();
        let mut documented = [
            "format",
            "seq",
            "head_hash",
            "taken_at",
            "public_key",
            "signature",
        ];
        documented.sort();
        assert_eq!(keys, documented);
        assert_eq!(
            serde_json::from_str::<Checkpoint>(&text).unwrap(),
            checkpoint
        );
        assert_eq!(checkpoint.taken_at, "2026-12-01T12:00:00Z");
    }
}
