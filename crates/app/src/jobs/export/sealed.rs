//! Between the packager and the file: the encryptor stage when the export asks for it, a
//! plain pass-through otherwise. The hash and byte count are of what lands on disk, so the
//! export's `sha256` is the `.gpg` file's.

use std::io::{self, Write};

use ferry_domain::job::Encryption;
use ferry_encrypt::{EncryptingWriter, Recipient};
use ferry_export::bulk::stage::{FileStage, StagedFile};

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

/// The encryptor stage for an unzipped bulk export: each file (parts, README, manifest) is
/// its own OpenPGP message, `NAME.gpg`, encrypted on a thread of its own as it is written.
pub(crate) struct EncryptEach(pub Recipient);

impl FileStage for EncryptEach {
    fn stored_name(&self, name: &str) -> String {
        file_name(name.to_string(), true)
    }

    fn wrap(&self, name: &str, out: HashedFile) -> io::Result<Box<dyn StagedFile>> {
        Ok(Box::new(EncryptedFile(EncryptingWriter::new(
            &self.0, name, out,
        )?)))
    }
}

struct EncryptedFile(EncryptingWriter<HashedFile>);

impl Write for EncryptedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl StagedFile for EncryptedFile {
    fn finish(self: Box<Self>) -> io::Result<HashedFile> {
        self.0.finish()
    }
}
