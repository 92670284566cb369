//! Reading a package file while hashing it, so a sink can say whether what it sent is what
//! the manifest lists (`PackageFile::sha256`) before it reports the file delivered.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use md5::Md5;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, ReadBuf};

use crate::{DeliveryError, PackageFile};

/// Digests of the bytes read so far, shared with whoever reads the stream.
#[derive(Default)]
pub struct Digests {
    pub bytes: u64,
    pub sha256: Sha256,
    pub md5: Md5,
}

pub type SharedDigests = Arc<Mutex<Digests>>;

pub struct Hashing<R> {
    inner: R,
    digests: SharedDigests,
}

impl<R> Hashing<R> {
    pub fn new(inner: R) -> (Self, SharedDigests) {
        let digests = SharedDigests::default();
        (
            Hashing {
                inner,
                digests: digests.clone(),
            },
            digests,
        )
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for Hashing<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let fresh = &buf.filled()[before..];
            let mut d = self.digests.lock().expect("digest lock");
            d.bytes += fresh.len() as u64;
            d.sha256.update(fresh);
            d.md5.update(fresh);
        }
        polled
    }
}

/// The file read whole is the file the manifest lists. A mismatch means the stored artifact
/// is not what was packaged: retrying the delivery cannot fix it.
pub fn matches_manifest(file: &PackageFile, digests: &SharedDigests) -> Result<(), DeliveryError> {
    let d = digests.lock().expect("digest lock");
    let sha256 = hex::encode(d.sha256.clone().finalize());
    if d.bytes != file.bytes || sha256 != file.sha256 {
        return Err(DeliveryError::Permanent(format!(
            "{} read from the artifact store ({} bytes, sha256 {sha256}) is not the file the \
             manifest lists ({} bytes, sha256 {}); export again",
            file.name, d.bytes, file.bytes, file.sha256
        )));
    }
    Ok(())
}

pub fn md5_of(digests: &SharedDigests) -> [u8; 16] {
    digests
        .lock()
        .expect("digest lock")
        .md5
        .clone()
        .finalize()
        .into()
}
