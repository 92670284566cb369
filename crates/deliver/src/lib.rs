//! Sinks carry a finished export's files to where they are wanted: the download link
//! ([`download::DownloadSink`], the default), a local path ([`path::PathSink`], `ferry export
//! -o`), a directory ([`local::LocalSink`], a `local` destination), S3 and S3-compatible stores
//! ([`s3::S3Sink`]), an SFTP server ([`sftp::SftpSink`]), a Google Cloud Storage bucket
//! ([`gcs::GcsSink`]) and a mailbox ([`email::EmailSink`], through the relay of [`smtp`], which
//! also carries account alerts). Sinks know nothing of formats or
//! rows: they get the files' names, sizes and checksums and a way to read each, and check
//! what they read against those checksums ([`checked`]) before reporting a file delivered.
//! Credentials in their configs are [`Secret`]s, hidden from `Debug` and from every message.
//!
//! Who drives: the worker calls [`Sink::deliver`] once per export attempt, after every file
//! is stored. What stops the flow: an error, classed [`DeliveryError::Transient`] (retry the
//! attempt later) or [`DeliveryError::Permanent`] (the export fails with the message).

pub mod checked;
pub mod download;
pub mod email;
pub mod gcs;
pub mod local;
pub mod path;
pub mod s3;
mod secret;
pub mod sftp;
pub mod smtp;

pub use secret::Secret;

use std::io;
use std::path::PathBuf;

use async_trait::async_trait;
use tokio::io::AsyncRead;

/// One file of a package, as the sink sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageFile {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

/// Reads a package's files (from the artifact store).
#[async_trait]
pub trait FileSource: Send + Sync {
    async fn open(&self, name: &str) -> io::Result<Box<dyn AsyncRead + Send + Unpin>>;
    /// The file on this machine's disk, when it is there (a sink may link it instead of
    /// copying).
    fn local_path(&self, name: &str) -> Option<PathBuf>;
}

/// What a delivery did, for the receipt and the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The receipt's `delivery_method`: `download`, `local`, `sftp`, `gcs`, `email`, later `s3`.
    pub method: &'static str,
    /// Delivered at once (a copy made), rather than waiting for a download.
    pub delivered: bool,
    /// Where the files went, without credentials.
    pub location: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// Worth retrying later (a network error, a full disk).
    #[error("{0}")]
    Transient(String),
    /// Retrying cannot help (a destination that refuses the credentials, a bad path).
    #[error("{0}")]
    Permanent(String),
}

impl DeliveryError {
    pub fn is_transient(&self) -> bool {
        matches!(self, DeliveryError::Transient(_))
    }
}

#[async_trait]
pub trait Sink: Send + Sync {
    /// The method this sink delivers by, as the receipt names it.
    fn method(&self) -> &'static str;
    async fn deliver(
        &self,
        export_id: &str,
        files: &[PackageFile],
        source: &dyn FileSource,
    ) -> Result<Delivery, DeliveryError>;

    /// Checks that the destination takes files (`POST /destinations/{id}/test`): writes a
    /// small object and removes it. A sink that cannot check says so rather than claim success.
    async fn probe(&self) -> Result<(), DeliveryError> {
        Err(DeliveryError::Permanent(format!(
            "`{}` destinations cannot be tested yet",
            self.method()
        )))
    }
}
