//! Between the packager and the file: the encryptor stage when the export asks for it, a
//! plain pass-through otherwise. The hash and byte count are of what lands on disk, so the
//! export's `sha256` is the `.gpg` file's.

use std::io::{self, Write};

use ferry_domain::job::Encryption;
use ferry_encrypt::{EncryptingWriter, Recipient};

use super::hashing::HashedFile;
use crate::error_code::ErrorCode;
use crate::jobs::Failure;

pub(crate) enum Sealed {
    Plain(HashedFile),
    Encrypted(EncryptingWriter<HashedFile>),
}

impl Sealed {
    /// `name` is the file's name before encryption (recorded inside the OpenPGP message).
    pub(crate) fn new(
        out: HashedFile,
        recipient: Option<&Recipient>,
        name: &str,
    ) -> io::Result<Sealed> {
        Ok(match recipient {
            Some(r) => Sealed::Encrypted(EncryptingWriter::new(r, name, out)?),
            None => Sealed::Plain(out),
        })
    }

    /// Ends the OpenPGP message, if any; the file is then whole.
    pub(crate) fn finish(self) -> io::Result<HashedFile> {
        match self {
            Sealed::Plain(out) => Ok(out),
            Sealed::Encrypted(w) => w.finish(),
        }
    }
}

impl Write for Sealed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sealed::Plain(out) => out.write(buf),
            Sealed::Encrypted(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sealed::Plain(out) => out.flush(),
            Sealed::Encrypted(w) => w.flush(),
        }
    }
}

/// The recipient of an export that asks for encryption, checked again as of `now` (ms): a key
/// can expire or be found revoked between the request and the run.
pub(crate) fn recipient(
    encryption: Option<&Encryption>,
    now: i64,
) -> Result<Option<Recipient>, Failure> {
    encryption
        .map(|e| {
            Recipient::parse(&e.pgp_public_key, now.div_euclid(1000)).map_err(|problem| {
                Failure::permanent(ErrorCode::InvalidEncryptionKey, problem.to_string())
            })
        })
        .transpose()
}

/// The stored name: `.gpg` appended when encrypted.
pub(crate) fn file_name(name: String, encrypted: bool) -> String {
    if encrypted {
        format!("{name}.gpg")
    } else {
        name
    }
}
