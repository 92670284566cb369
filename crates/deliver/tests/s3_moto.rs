//! The S3 sink against moto (started by `scripts/services/s3.sh` on 127.0.0.1:5000): a file
//! larger than one part goes up as a multipart upload (moto enforces S3's 5 MiB minimum part)
//! and reads back byte for byte; a file whose bytes do not match its manifest is refused and
//! not reported delivered. Fails, not skips, when moto is not there.

use std::io;
use std::path::PathBuf;

use async_trait::async_trait;
use ferry_deliver::s3::{PART_BYTES, S3Sink, S3Target};
use ferry_deliver::{DeliveryError, FileSource, PackageFile, Sink};
use sha2::Digest;

const MOTO: &str = "http://127.0.0.1:5000";

struct Dir(PathBuf);

#[async_trait]
impl FileSource for Dir {
    async fn open(&self, name: &str) -> io::Result<Box<dyn tokio::io::AsyncRead + Send + Unpin>> {
        Ok(Box::new(tokio::fs::File::open(self.0.join(name)).await?))
    }

    fn local_path(&self, _name: &str) -> Option<PathBuf> {
        None
    }
}

fn target(bucket: &str) -> S3Target {
    S3Target {
        bucket: bucket.into(),
        region: "us-east-1".into(),
        path: "nightly".into(),
        access_key_id: "ferry-test".into(),
        secret_access_key: "any".into(),
        endpoint: Some(MOTO.into()),
    }
}

fn new_bucket() -> String {
    let bucket = format!("ferry-sink-{}", std::process::id());
    // CreateBucket: moto takes unsigned requests for it.
    let status = std::process::Command::new("python3")
        .args([
            "-c",
            &format!(
                "import urllib.request as u; u.urlopen(u.Request('{MOTO}/{bucket}', method='PUT'))"
            ),
        ])
        .status()
        .unwrap();
    assert!(
        status.success(),
        "moto is not answering on {MOTO} (scripts/services/s3.sh starts it)"
    );
    bucket
}

#[tokio::test]
async fn a_file_over_one_part_is_uploaded_in_parts_and_reads_back_whole() {
    let bucket = new_bucket();
    let dir = tempfile::tempdir().unwrap();
    // Two and a half parts of bytes that differ from part to part.
    let bytes: Vec<u8> = (0..PART_BYTES * 5 / 2)
        .map(|i| (i * 7 % 251) as u8)
        .collect();
    std::fs::write(dir.path().join("big.zip"), &bytes).unwrap();
    let file = PackageFile {
        name: "big.zip".into(),
        bytes: bytes.len() as u64,
        sha256: hex::encode(sha2::Sha256::digest(&bytes)),
    };
    let sink = S3Sink {
        target: target(&bucket),
    };
    let source = Dir(dir.path().to_path_buf());
    let done = sink
        .deliver("exp_big", std::slice::from_ref(&file), &source)
        .await
        .unwrap();
    assert_eq!(done.method, "s3");
    assert_eq!(
        done.location.as_deref(),
        Some(&*format!("s3://{bucket}/nightly/exp_big/"))
    );

    opendal::install_default();
    let op = opendal::Operator::new(
        opendal::services::S3::default()
            .bucket(&bucket)
            .region("us-east-1")
            .endpoint(MOTO)
            .access_key_id("ferry-test")
            .secret_access_key("any")
            .disable_config_load()
            .disable_ec2_metadata(),
    )
    .unwrap();
    let back = op.read("nightly/exp_big/big.zip").await.unwrap().to_vec();
    assert_eq!(back.len(), bytes.len());
    assert_eq!(hex::encode(sha2::Sha256::digest(&back)), file.sha256);

    // Bytes that are not the manifest's: refused, and nothing is left under that name.
    let wrong = PackageFile {
        name: "big.zip".into(),
        bytes: file.bytes,
        sha256: "0".repeat(64),
    };
    let refused = sink.deliver("exp_wrong", &[wrong], &source).await;
    assert!(
        matches!(refused, Err(DeliveryError::Transient(_))),
        "{refused:?}"
    );
    assert!(!op.exists("nightly/exp_wrong/big.zip").await.unwrap());
}
