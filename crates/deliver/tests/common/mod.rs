//! What the sink tests share: package files in a directory (as the artifact store hands them
//! over), checksums, and the real servers the scripts in `scripts/services/` start.

#![allow(dead_code)]

use std::io;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use ferry_deliver::{FileSource, PackageFile};
use sha2::{Digest, Sha256};

pub struct Dir(pub PathBuf);

#[async_trait]
impl FileSource for Dir {
    async fn open(&self, name: &str) -> io::Result<Box<dyn tokio::io::AsyncRead + Send + Unpin>> {
        Ok(Box::new(tokio::fs::File::open(self.0.join(name)).await?))
    }

    fn local_path(&self, name: &str) -> Option<PathBuf> {
        Some(self.0.join(name))
    }
}

pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Writes `bytes` as `name` in `dir` and describes it as the manifest would.
pub fn package_file(dir: &Path, name: &str, bytes: &[u8]) -> PackageFile {
    std::fs::write(dir.join(name), bytes).unwrap();
    PackageFile {
        name: name.into(),
        bytes: bytes.len() as u64,
        sha256: sha256(bytes),
    }
}

/// Bytes that do not compress and differ per seed (so a stale copy cannot pass).
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 56) as u8
        })
        .collect()
}

/// A name no other test run uses.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

/// A loopback port nothing listens on: a destination that is down.
pub fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The server the test needs is up, or the test fails saying how to start it.
pub fn require_server(port: u16, script: &str) {
    if TcpStream::connect(("127.0.0.1", port)).is_err() {
        panic!("nothing answers on 127.0.0.1:{port}; run `bash scripts/services/{script}`");
    }
}
