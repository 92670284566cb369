//! Counts and hashes a file's bytes as they go to disk (and into the meter, when given).

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use ferry_domain::job::ArtifactFile;
use ferry_export::bulk::parts::Meter;
use sha2::{Digest, Sha256};

pub(crate) struct Hashing<W> {
    pub inner: W,
    pub hasher: Sha256,
    pub bytes: u64,
    pub meter: Option<Arc<Meter>>,
}

impl<W> Hashing<W> {
    pub fn new(inner: W, meter: Option<Arc<Meter>>) -> Self {
        Hashing {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
            meter,
        }
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        if let Some(meter) = &self.meter {
            meter.bytes.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Hashing<io::BufWriter<std::fs::File>> {
    /// Flushes (and with `durable`, syncs) the file; returns its entry.
    pub fn finish(self, name: &str, durable: bool) -> io::Result<ArtifactFile> {
        let sha256 = hex::encode(self.hasher.finalize());
        let file = self.inner.into_inner().map_err(|e| e.into_error())?;
        if durable {
            file.sync_all()?;
        }
        Ok(ArtifactFile {
            name: name.to_string(),
            bytes: self.bytes,
            sha256,
        })
    }
}
