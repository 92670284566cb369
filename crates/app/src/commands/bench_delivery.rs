//! `ferry bench --bulk --s3-endpoint`: the time to deliver the benchmark's ZIP through the S3
//! destination's sink, to a local S3-compatible server.

use std::path::Path;
use std::time::Instant;

/// Delivers `zip` to a new bucket on `endpoint` through the S3 destination's sink; the time
/// of the delivery alone (the bucket and the file's checksum are made before).
pub(super) async fn deliver_to_s3(zip: &Path, endpoint: &str) -> anyhow::Result<(f64, u64)> {
    use ferry_deliver::s3::{S3Sink, S3Target};
    use ferry_deliver::{PackageFile, Sink};
    let bucket = format!("ferry-bench-{}", std::process::id());
    reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await?
        .error_for_status()?;
    let bytes = std::fs::metadata(zip)?.len();
    let sha256 = {
        use sha2::Digest;
        let mut hasher = sha2::Sha256::new();
        std::io::copy(&mut std::fs::File::open(zip)?, &mut hasher)?;
        hex::encode(hasher.finalize())
    };
    let name = zip
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let file = PackageFile {
        name,
        bytes,
        sha256,
    };
    let sink = S3Sink {
        target: S3Target {
            bucket,
            region: "us-east-1".into(),
            path: "bench/".into(),
            access_key_id: "bench".into(),
            secret_access_key: "bench".into(),
            endpoint: Some(endpoint.to_string()),
        },
    };
    let source = Folder(zip.parent().unwrap_or(Path::new(".")).to_path_buf());
    let started = Instant::now();
    sink.deliver("bench", &[file], &source)
        .await
        .map_err(|e| anyhow::anyhow!("the delivery to {endpoint} failed: {e}"))?;
    Ok((started.elapsed().as_secs_f64(), bytes))
}

/// The benchmark's directory as the files a sink reads.
struct Folder(std::path::PathBuf);

#[async_trait::async_trait]
impl ferry_deliver::FileSource for Folder {
    async fn open(
        &self,
        name: &str,
    ) -> std::io::Result<Box<dyn tokio::io::AsyncRead + Send + Unpin>> {
        Ok(Box::new(tokio::fs::File::open(self.0.join(name)).await?))
    }

    fn local_path(&self, name: &str) -> Option<std::path::PathBuf> {
        Some(self.0.join(name))
    }
}
