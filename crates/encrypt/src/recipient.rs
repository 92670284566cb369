//! Reading a recipient's armored public key and choosing the key an export is encrypted to,
//! with a reason a person can act on when there is none: GnuPG 2.2 must be able to decrypt
//! whatever Ferry makes, so anything it cannot use is refused here, before any work starts.

use std::io::Cursor;

use pgp::composed::{Deserializable, SignedPublicKey};
use pgp::crypto::public_key::PublicKeyAlgorithm;
use pgp::packet::{Signature, SignatureType};
use pgp::types::{KeyDetails, KeyVersion, PublicParams, Timestamp};

/// Why a key cannot be encrypted to. Each message says what to send instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyProblem {
    #[error(
        "this is a private key: send only the public key (gpg --armor --export KEYID), and treat \
         the private key you sent as exposed"
    )]
    PrivateKey,
    #[error(
        "the key is not an ASCII-armored OpenPGP public key: send the output of \
         gpg --armor --export KEYID (it starts with -----BEGIN PGP PUBLIC KEY BLOCK-----)"
    )]
    NotArmored,
    #[error("the public key cannot be read ({0}): export it again with gpg --armor --export KEYID")]
    Unreadable(String),
    #[error(
        "the key is a version {0} key, which GnuPG 2.2 cannot use: send a version 4 key \
         (what gpg --full-generate-key makes)"
    )]
    UnsupportedVersion(u8),
    #[error("the key's self-signatures do not verify: it was altered or damaged; export it again")]
    BadSignatures,
    #[error("the key is revoked: ask its owner for their current key")]
    Revoked,
    #[error(
        "the key expired on {0}: ask its owner to extend it (gpg --quick-set-expire) or for a new one"
    )]
    Expired(String),
    #[error(
        "the key has no valid encryption subkey (only signing keys, or its encryption subkeys \
         are revoked or expired): add one with gpg --quick-add-key KEYID default encr"
    )]
    NoEncryptionKey,
    #[error(
        "the key's encryption subkey uses {0}, which GnuPG 2.2 cannot decrypt: add an RSA or \
         Curve25519 (cv25519) encryption subkey"
    )]
    UnsupportedAlgorithm(String),
}

/// The key an export is encrypted to, checked.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub(crate) key: SignedPublicKey,
    /// `None`: the primary key encrypts; otherwise the index of the subkey.
    pub(crate) subkey: Option<usize>,
    fingerprint: String,
}

impl Recipient {
    /// Reads `armored` and checks it as of `now` (seconds since the Unix epoch).
    pub fn parse(armored: &str, now: i64) -> Result<Recipient, KeyProblem> {
        if armored.contains("-----BEGIN PGP PRIVATE KEY BLOCK-----") {
            return Err(KeyProblem::PrivateKey);
        }
        if !armored.contains("-----BEGIN PGP PUBLIC KEY BLOCK-----") {
            return Err(KeyProblem::NotArmored);
        }
        let (key, _) = SignedPublicKey::from_armor_single(Cursor::new(armored.as_bytes()))
            .map_err(|e| KeyProblem::Unreadable(first_line(&e.to_string())))?;
        let version = key.primary_key.version();
        if version != KeyVersion::V4 {
            return Err(KeyProblem::UnsupportedVersion(u8::from(version)));
        }
        key.verify_bindings()
            .map_err(|_| KeyProblem::BadSignatures)?;
        if !key.details.revocation_signatures.is_empty() {
            return Err(KeyProblem::Revoked);
        }
        let created = key.primary_key.created_at();
        let primary_sig = newest(self_certifications(&key));
        if let Some(at) = expiry(created, primary_sig).filter(|at| *at <= now) {
            return Err(KeyProblem::Expired(day(at)));
        }
        let subkey = choose_subkey(&key, now)?;
        let fingerprint = hex_upper(&key.primary_key.fingerprint().to_string());
        Ok(Recipient {
            key,
            subkey,
            fingerprint,
        })
    }

    /// The primary key's fingerprint, 40 upper-case hex digits (as `gpg --fingerprint` shows
    /// it, without spaces): what manifests and receipts record.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect()
}

fn hex_upper(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_hexdigit)
        .collect::<String>()
        .to_uppercase()
}

/// The primary key's own certifications of its user ids and direct-key signatures.
fn self_certifications(key: &SignedPublicKey) -> impl Iterator<Item = &Signature> {
    let own = key.primary_key.legacy_key_id();
    let fingerprint = key.primary_key.fingerprint();
    key.details
        .users
        .iter()
        .flat_map(|u| u.signatures.iter())
        .chain(key.details.direct_signatures.iter())
        .filter(move |s| {
            s.issuer_key_id().iter().any(|id| **id == own)
                || s.issuer_fingerprint().iter().any(|f| **f == fingerprint)
        })
}

fn newest<'a>(sigs: impl Iterator<Item = &'a Signature>) -> Option<&'a Signature> {
    sigs.max_by_key(|s| s.created().map_or(0, Timestamp::as_secs))
}

/// When a key made at `created` expires by `sig`'s say; `None`: never.
fn expiry(created: Timestamp, sig: Option<&Signature>) -> Option<i64> {
    let after = sig?.key_expiration_time()?;
    let secs = after.as_secs();
    (secs > 0).then(|| i64::from(created.as_secs()) + i64::from(secs))
}

fn day(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm), to avoid a
    // date library in this crate for one message.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Whether GnuPG 2.2 decrypts to this key, and the algorithm's name when it does not.
fn gnupg_can_use(params: &PublicParams, algorithm: PublicKeyAlgorithm) -> Result<(), String> {
    use pgp::types::EcdhPublicParams as E;
    match params {
        PublicParams::RSA(_) | PublicParams::Elgamal(_) => Ok(()),
        PublicParams::ECDH(
            E::Curve25519Legacy { .. }
            | E::P256 { .. }
            | E::P384 { .. }
            | E::P521 { .. }
            | E::Brainpool256 { .. }
            | E::Brainpool384 { .. }
            | E::Brainpool512 { .. },
        ) => Ok(()),
        PublicParams::ECDH(E::Unsupported { curve, .. }) => Err(format!("ECDH on {curve:?}")),
        _ => Err(format!("{algorithm:?}")),
    }
}

/// The newest valid encryption subkey (GnuPG's choice too), or the primary key when it is
/// the one flagged for encryption.
fn choose_subkey(key: &SignedPublicKey, now: i64) -> Result<Option<usize>, KeyProblem> {
    let mut unusable: Option<String> = None;
    let mut expired: Option<i64> = None;
    let mut best: Option<(u32, usize)> = None;
    for (index, sub) in key.public_subkeys.iter().enumerate() {
        let binding = newest(
            sub.signatures
                .iter()
                .filter(|s| s.typ() == Some(SignatureType::SubkeyBinding)),
        );
        let Some(binding) = binding else { continue };
        let flags = binding.key_flags();
        if !(flags.encrypt_comms() || flags.encrypt_storage()) || !sub.key.algorithm().can_encrypt()
        {
            continue;
        }
        let revoked = sub
            .signatures
            .iter()
            .any(|s| s.typ() == Some(SignatureType::SubkeyRevocation));
        if revoked {
            continue;
        }
        if let Some(at) = expiry(sub.key.created_at(), Some(binding)).filter(|at| *at <= now) {
            expired = expired.max(Some(at));
            continue;
        }
        if let Err(name) = gnupg_can_use(sub.key.public_params(), sub.key.algorithm()) {
            unusable = Some(name);
            continue;
        }
        let created = sub.key.created_at().as_secs();
        if best.is_none_or(|(at, _)| created >= at) {
            best = Some((created, index));
        }
    }
    if let Some((_, index)) = best {
        return Ok(Some(index));
    }
    let primary_flags = newest(self_certifications(key)).map(Signature::key_flags);
    let primary_encrypts = primary_flags.is_some_and(|f| f.encrypt_comms() || f.encrypt_storage())
        && key.primary_key.algorithm().can_encrypt();
    if primary_encrypts
        && gnupg_can_use(key.primary_key.public_params(), key.primary_key.algorithm()).is_ok()
    {
        return Ok(None);
    }
    match (unusable, expired) {
        (Some(name), _) => Err(KeyProblem::UnsupportedAlgorithm(name)),
        (None, Some(at)) => Err(KeyProblem::Expired(day(at))),
        (None, None) => Err(KeyProblem::NoEncryptionKey),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_civil_dates() {
        assert_eq!(day(0), "1970-01-01");
        assert_eq!(day(951_782_400), "2000-02-29");
        assert_eq!(day(1_735_689_599), "2024-12-31");
    }

    #[test]
    fn text_that_is_not_a_public_key_block_is_refused_by_kind() {
        assert_eq!(
            Recipient::parse("hello", 0).unwrap_err(),
            KeyProblem::NotArmored
        );
        let private =
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nxyz\n-----END PGP PRIVATE KEY BLOCK-----\n";
        assert_eq!(
            Recipient::parse(private, 0).unwrap_err(),
            KeyProblem::PrivateKey
        );
        let garbage = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot base64 !!\n-----END PGP PUBLIC KEY BLOCK-----\n";
        assert!(matches!(
            Recipient::parse(garbage, 0).unwrap_err(),
            KeyProblem::Unreadable(_)
        ));
    }
}
