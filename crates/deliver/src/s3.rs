//! Delivery to S3 or any S3-compatible store: each file goes to `{path}{export_id}/{file}`
//! in the bucket, streamed from the artifact store in parts of [`PART_BYTES`] (a multipart
//! upload once a file is larger than one part), so memory stays flat whatever the size.
//!
//! Nothing counts as delivered on the uploader's word alone: the bytes sent are hashed on the
//! way and must equal the manifest's sha256, and the object's size as the server reports it
//! afterwards must equal the file's. S3's ETag is no help there (a multipart ETag is not a
//! digest of the object).
//!
//! Addressing is path-style (`{endpoint}/{bucket}/{key}`), which every S3-compatible server
//! understands; AWS still serves it. Credentials come only from the destination, never from
//! the environment or an instance profile, so one account's delivery cannot borrow the
//! operator's identity.

use async_trait::async_trait;
use opendal::{ErrorKind, Operator, services};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use crate::{Delivery, DeliveryError, FileSource, PackageFile, Sink};

/// 8 MiB: over S3's 5 MiB minimum part, small enough to keep many deliveries in memory.
pub const PART_BYTES: usize = 8 << 20;

/// Where in which bucket, and as whom. `Debug` leaves the secret out.
#[derive(Clone)]
pub struct S3Target {
    pub bucket: String,
    pub region: String,
    /// A key prefix; a `/` is added when it lacks one (`exports` → `exports/…`).
    pub path: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// An S3-compatible server instead of AWS (`http://127.0.0.1:5000`).
    pub endpoint: Option<String>,
}

impl std::fmt::Debug for S3Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Target")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("path", &self.path)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl S3Target {
    /// The key prefix every object of this destination gets (`""` or ending in `/`).
    pub fn prefix(&self) -> String {
        let path = self.path.trim_start_matches('/');
        if path.is_empty() || path.ends_with('/') {
            path.to_string()
        } else {
            format!("{path}/")
        }
    }

    fn operator(&self) -> Result<Operator, DeliveryError> {
        opendal::install_default();
        let endpoint = self
            .endpoint
            .clone()
            .unwrap_or_else(|| format!("https://s3.{}.amazonaws.com", self.region));
        let builder = services::S3::default()
            .bucket(&self.bucket)
            .region(&self.region)
            .endpoint(&endpoint)
            .access_key_id(&self.access_key_id)
            .secret_access_key(&self.secret_access_key)
            .disable_config_load()
            .disable_ec2_metadata();
        Operator::new(builder).map_err(classify)
    }
}

pub struct S3Sink {
    pub target: S3Target,
}

#[async_trait]
impl Sink for S3Sink {
    fn method(&self) -> &'static str {
        "s3"
    }

    async fn deliver(
        &self,
        export_id: &str,
        files: &[PackageFile],
        source: &dyn FileSource,
    ) -> Result<Delivery, DeliveryError> {
        let op = self.target.operator()?;
        let folder = format!("{}{export_id}/", self.target.prefix());
        for file in files {
            upload(&op, &format!("{folder}{}", file.name), file, source).await?;
        }
        Ok(Delivery {
            method: self.method(),
            delivered: true,
            location: Some(format!("s3://{}/{folder}", self.target.bucket)),
        })
    }

    async fn probe(&self) -> Result<(), DeliveryError> {
        let op = self.target.operator()?;
        let key = format!("{}.ferry-test", self.target.prefix());
        op.write(
            &key,
            "Ferry checks it can write here; this object is deleted at once.\n",
        )
        .await
        .map_err(classify)?;
        op.delete(&key).await.map_err(classify)
    }
}

async fn upload(
    op: &Operator,
    key: &str,
    file: &PackageFile,
    source: &dyn FileSource,
) -> Result<(), DeliveryError> {
    let mut reader = source
        .open(&file.name)
        .await
        .map_err(|e| DeliveryError::Transient(format!("cannot read {}: {e}", file.name)))?;
    let mut writer = op
        .writer_with(key)
        .chunk(PART_BYTES)
        .await
        .map_err(classify)?;
    let mut hasher = Sha256::new();
    let mut sent = 0u64;
    loop {
        let mut part = vec![0u8; PART_BYTES];
        let mut filled = 0;
        while filled < PART_BYTES {
            let n = reader
                .read(&mut part[filled..])
                .await
                .map_err(|e| DeliveryError::Transient(format!("cannot read {}: {e}", file.name)))?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        if filled == 0 {
            break;
        }
        part.truncate(filled);
        hasher.update(&part);
        sent += filled as u64;
        if let Err(e) = writer.write(part).await {
            let _ = writer.abort().await;
            return Err(classify(e));
        }
    }
    let digest = hex::encode(hasher.finalize());
    if sent != file.bytes || (!file.sha256.is_empty() && digest != file.sha256) {
        let _ = writer.abort().await;
        return Err(DeliveryError::Transient(format!(
            "{} changed while it was read for delivery ({sent} bytes, sha256 {digest}; the \
             manifest says {} bytes, sha256 {})",
            file.name, file.bytes, file.sha256
        )));
    }
    writer.close().await.map_err(classify)?;
    let stored = op.stat(key).await.map_err(classify)?.content_length();
    if stored != file.bytes {
        return Err(DeliveryError::Transient(format!(
            "the server holds {stored} bytes of {} after the upload, not {}",
            file.name, file.bytes
        )));
    }
    Ok(())
}

/// A message that says what went wrong without the request (opendal's context may carry
/// the URL, never a secret: signing happens on headers). A bad configuration cannot get
/// better by retrying; everything else (refused credentials included, which a rotated key or
/// a slow IAM change can cause) is retried until the attempts run out.
fn classify(e: opendal::Error) -> DeliveryError {
    let message = match e.kind() {
        ErrorKind::PermissionDenied => {
            "the S3 server refused the credentials (access denied or a bad signature): check \
             access_key_id, secret_access_key and the bucket policy"
                .to_string()
        }
        ErrorKind::NotFound => "the bucket does not exist on the S3 server".to_string(),
        kind => format!("the S3 server could not be reached or failed ({kind}): {e}"),
    };
    match e.kind() {
        ErrorKind::ConfigInvalid => DeliveryError::Permanent(message),
        _ => DeliveryError::Transient(message),
    }
}
