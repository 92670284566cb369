//! The encryptor stage: an export's bytes encrypted to a recipient's OpenPGP public key as they
//! stream past, in a form GnuPG 2.2 decrypts (SEIPDv1, AES-256, no compression inside).
//! It knows nothing of exports: it takes bytes and a key.
//!
//! - `recipient`: reading and checking the armored key, with reasons a person can act on.
//! - `writer`: [`EncryptingWriter`], the `Write` that encrypts on a thread of its own.

mod recipient;
mod writer;

pub use recipient::{KeyProblem, Recipient};
pub use writer::EncryptingWriter;

#[cfg(feature = "test-support")]
pub mod test_support;
