//! Delivery to Google Cloud Storage (`{"type":"gcs","bucket","path","service_account_json"}`,
//! optional `endpoint`): each file becomes the object `path/{export_id}/{file}`, streamed in
//! one JSON-API media upload (`POST {endpoint}/upload/storage/v1/b/{bucket}/o?uploadType=media`).
//! An object appears only when its upload completes, so no temporary name is needed; a re-run
//! replaces the objects of the same name. The JSON API, not the XML one, because the GCS
//! emulator the tests run against has only the former.
//!
//! Authorisation: a JWT signed (RS256) with the service account's key and sent as the bearer
//! token itself — Google's "self-signed JWT" for service accounts, which Cloud Storage
//! accepts with a `scope` claim. It spares a round trip to the OAuth token endpoint and
//! works the same against an emulator that has none.
//!
//! The upload's answer carries the object's size and MD5, compared with what was sent; the
//! bytes sent are compared with the manifest's SHA-256.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{StatusCode, Url};
use serde::{Deserialize, Serialize};
use tokio_util::io::ReaderStream;

use crate::checked::{Hashing, matches_manifest, md5_of};
use crate::{Delivery, DeliveryError, FileSource, PackageFile, Secret, Sink};

const GOOGLE: &str = "https://storage.googleapis.com";
const SCOPE: &str = "https://www.googleapis.com/auth/devstorage.read_write";
/// Tokens live one hour, the longest Google accepts.
const TOKEN_LIFETIME: u64 = 3600;

#[derive(Debug, Clone, Deserialize)]
pub struct GcsConfig {
    pub bucket: String,
    /// The prefix the exports go under (may be empty).
    #[serde(default)]
    pub path: String,
    /// The service account's key file, as Google's console downloads it.
    pub service_account_json: Secret,
    /// Another base URL (an emulator, a proxy); Google's by default.
    #[serde(default)]
    pub endpoint: Option<String>,
}

/// The fields of a service-account key file that signing needs.
#[derive(Deserialize)]
struct ServiceAccount {
    client_email: String,
    private_key: String,
    #[serde(default)]
    private_key_id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub scope: String,
    pub iat: u64,
    pub exp: u64,
}

/// The bearer token for `service_account_json` at `now` (seconds since the epoch).
pub fn bearer_token(service_account_json: &Secret, now: u64) -> Result<String, DeliveryError> {
    let refused = |what: &str| {
        DeliveryError::Permanent(format!(
            "service_account_json {what}; give the JSON key file of a service account \
             (type service_account) as Google's console downloads it"
        ))
    };
    let account: ServiceAccount = serde_json::from_str(service_account_json.expose())
        .map_err(|_| refused("is not a service-account key file"))?;
    let key = EncodingKey::from_rsa_pem(account.private_key.as_bytes())
        .map_err(|_| refused("holds a private_key that is not an RSA key in PEM"))?;
    let mut header = Header::new(Algorithm::RS256);
    header.kid = account.private_key_id;
    let claims = Claims {
        iss: account.client_email.clone(),
        sub: account.client_email,
        scope: SCOPE.into(),
        iat: now,
        exp: now + TOKEN_LIFETIME,
    };
    jsonwebtoken::encode(&header, &claims, &key).map_err(|_| refused("could not sign a token"))
}

pub struct GcsSink {
    pub config: GcsConfig,
}

#[async_trait]
impl Sink for GcsSink {
    fn method(&self) -> &'static str {
        "gcs"
    }

    async fn deliver(
        &self,
        export_id: &str,
        files: &[PackageFile],
        source: &dyn FileSource,
    ) -> Result<Delivery, DeliveryError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let token = bearer_token(&self.config.service_account_json, now)?;
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| DeliveryError::Transient(format!("GCS client: {e}")))?;
        let prefix = object_name(&self.config.path, export_id, "");
        for file in files {
            self.upload(&client, &token, export_id, file, source)
                .await?;
        }
        Ok(Delivery {
            method: self.method(),
            delivered: true,
            location: Some(format!("gs://{}/{prefix}", self.config.bucket)),
        })
    }
}

/// `path/export_id/file`, without doubled or leading slashes.
pub fn object_name(path: &str, export_id: &str, file: &str) -> String {
    [path, export_id, file]
        .iter()
        .flat_map(|p| p.split('/'))
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("/")
        + if file.is_empty() { "/" } else { "" }
}

/// The part of the upload's answer compared with what was sent.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Uploaded {
    size: String,
    #[serde(default)]
    md5_hash: Option<String>,
}

impl GcsSink {
    fn base(&self) -> Result<Url, DeliveryError> {
        let base = self.config.endpoint.as_deref().unwrap_or(GOOGLE);
        Url::parse(base.trim_end_matches('/')).map_err(|_| {
            DeliveryError::Permanent(
                "endpoint is not a URL; give one like http://127.0.0.1:4443, or leave it out \
                 for Google's"
                    .into(),
            )
        })
    }

    async fn upload(
        &self,
        client: &reqwest::Client,
        token: &str,
        export_id: &str,
        file: &PackageFile,
        source: &dyn FileSource,
    ) -> Result<(), DeliveryError> {
        let name = object_name(&self.config.path, export_id, &file.name);
        let mut url = self.base()?;
        url.path_segments_mut()
            .map_err(|_| DeliveryError::Permanent("endpoint cannot take a path".into()))?
            .pop_if_empty()
            .extend(["upload", "storage", "v1", "b", &self.config.bucket, "o"]);
        url.query_pairs_mut()
            .append_pair("uploadType", "media")
            .append_pair("name", &name);
        let reader = source
            .open(&file.name)
            .await
            .map_err(|e| DeliveryError::Transient(format!("cannot read {}: {e}", file.name)))?;
        let (reader, digests) = Hashing::new(reader);
        let body = reqwest::Body::wrap_stream(ReaderStream::with_capacity(reader, 256 * 1024));
        let response = client
            .post(url)
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(reqwest::header::CONTENT_LENGTH, file.bytes)
            .body(body)
            .send()
            .await
            .map_err(|e| self.transient(&e.without_url().to_string()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(self.refused(status));
        }
        let uploaded: Uploaded = response
            .json()
            .await
            .map_err(|e| self.transient(&format!("unreadable upload answer: {e}")))?;
        matches_manifest(file, &digests)?;
        let md5 = base64::engine::general_purpose::STANDARD.encode(md5_of(&digests));
        let size_ok = uploaded.size == file.bytes.to_string();
        let md5_ok = uploaded.md5_hash.as_deref().is_none_or(|m| m == md5);
        if !size_ok || !md5_ok {
            return Err(self.transient(&format!(
                "{} arrived as {} bytes, MD5 {:?}; sent {} bytes, MD5 {md5}",
                file.name, uploaded.size, uploaded.md5_hash, file.bytes
            )));
        }
        Ok(())
    }

    fn transient(&self, what: &str) -> DeliveryError {
        DeliveryError::Transient(format!("GCS bucket {}: {what}", self.config.bucket))
    }

    fn refused(&self, status: StatusCode) -> DeliveryError {
        let bucket = &self.config.bucket;
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => DeliveryError::Permanent(format!(
                "GCS refused the service account for bucket {bucket} ({status}); give the \
                 account the Storage Object Creator role on it"
            )),
            StatusCode::NOT_FOUND => DeliveryError::Permanent(format!(
                "GCS has no bucket {bucket} ({status}); create it or correct the name"
            )),
            s if s.is_server_error()
                || s == StatusCode::TOO_MANY_REQUESTS
                || s == StatusCode::REQUEST_TIMEOUT =>
            {
                self.transient(&format!("answered {status}"))
            }
            _ => DeliveryError::Permanent(format!("GCS bucket {bucket} answered {status}")),
        }
    }
}
