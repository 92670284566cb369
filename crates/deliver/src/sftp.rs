//! Delivery over SFTP (`{"type":"sftp","host","port","username","password" | "private_key",
//! "path","host_key"}`): each file is streamed to `path/{export_id}/{file}`, written first as
//! `.{file}.part` and renamed when whole, so a reader never sees half a file; a re-run replaces
//! the files of the same name.
//!
//! The server's host key is pinned: `host_key` holds the key as a `known_hosts` line or as
//! `ssh-ed25519 AAAA…` (several lines may pin several keys). A server presenting any other
//! key is refused before any credential is sent, as a permanent error: a changed key is
//! either an attack or a change the operator must confirm by updating `host_key`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use russh::client;
use russh::keys::{Algorithm, HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKey};
use russh::keys::{PublicKeyOrCertificate, decode_secret_key};
use russh_sftp::client::SftpSession;
use russh_sftp::protocol::StatusCode;
use serde::Deserialize;
use tokio::io::{AsyncWriteExt, BufReader};

use crate::checked::{Hashing, matches_manifest};
use crate::{Delivery, DeliveryError, FileSource, PackageFile, Secret, Sink};

/// Connecting and each step after it give up after this long (then retry later).
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Deserialize)]
pub struct SftpConfig {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    pub username: String,
    #[serde(default)]
    pub password: Option<Secret>,
    /// An OpenSSH or PEM private key without a passphrase.
    #[serde(default)]
    pub private_key: Option<Secret>,
    /// The directory the exports go under (created when missing).
    pub path: String,
    pub host_key: String,
}

fn default_port() -> u16 {
    22
}

pub struct SftpSink {
    pub config: SftpConfig,
}

#[async_trait]
impl Sink for SftpSink {
    fn method(&self) -> &'static str {
        "sftp"
    }

    async fn deliver(
        &self,
        export_id: &str,
        files: &[PackageFile],
        source: &dyn FileSource,
    ) -> Result<Delivery, DeliveryError> {
        let c = &self.config;
        let dir = join(&c.path, export_id);
        let sftp = self.open().await?;
        make_dirs(&sftp, &dir).await?;
        for file in files {
            upload(&sftp, source, file, &dir).await?;
        }
        let _ = sftp.close().await;
        Ok(Delivery {
            method: self.method(),
            delivered: true,
            location: Some(format!("sftp://{}:{}{}", c.host, c.port, absolute(&dir))),
        })
    }
}

impl SftpSink {
    async fn open(&self) -> Result<SftpSession, DeliveryError> {
        let c = &self.config;
        let pinned = pinned_keys(&c.host_key)?;
        let auth = Auth::from_config(c)?;
        let mut config = client::Config {
            inactivity_timeout: Some(TIMEOUT),
            ..Default::default()
        };
        // Ask only for the algorithms pinned, so a server with several host keys shows the
        // one we can compare.
        config.preferred.key = negotiable(&pinned).into();
        let presented = Arc::new(Mutex::new(None));
        let handler = Pinned {
            keys: pinned,
            presented: presented.clone(),
        };
        let connected = tokio::time::timeout(
            TIMEOUT,
            client::connect(Arc::new(config), (c.host.as_str(), c.port), handler),
        )
        .await;
        let mut session = match connected {
            Err(_) => return Err(self.transient("connecting timed out")),
            Ok(Err(russh::Error::UnknownKey)) => {
                let fingerprint = presented.lock().expect("key lock").take();
                return Err(DeliveryError::Permanent(format!(
                    "the SFTP server {}:{} presented host key {} which is not the pinned \
                     host_key; nothing was sent. If the server's key was changed on purpose, \
                     put its new key in the destination's host_key",
                    c.host,
                    c.port,
                    fingerprint.unwrap_or_else(|| "(none)".into())
                )));
            }
            Ok(Err(e)) => return Err(self.transient(&e.to_string())),
            Ok(Ok(session)) => session,
        };
        let accepted = match auth {
            Auth::Password(p) => session
                .authenticate_password(&c.username, p.expose())
                .await
                .map_err(|e| self.transient(&e.to_string()))?,
            Auth::Key(key) => {
                let hash = match key.algorithm().is_rsa() {
                    true => session
                        .best_supported_rsa_hash()
                        .await
                        .map_err(|e| self.transient(&e.to_string()))?
                        .flatten(),
                    false => None,
                };
                session
                    .authenticate_publickey(&c.username, PrivateKeyWithHashAlg::new(key, hash))
                    .await
                    .map_err(|e| self.transient(&e.to_string()))?
            }
        };
        if !accepted.success() {
            return Err(DeliveryError::Permanent(format!(
                "the SFTP server {}:{} refused the credentials for user {}; check username \
                 and password or private_key",
                c.host, c.port, c.username
            )));
        }
        let channel = session
            .channel_open_session()
            .await
            .map_err(|e| self.transient(&e.to_string()))?;
        channel
            .request_subsystem(true, "sftp")
            .await
            .map_err(|e| self.transient(&e.to_string()))?;
        SftpSession::new(channel.into_stream())
            .await
            .map_err(|e| self.transient(&e.to_string()))
    }

    fn transient(&self, what: &str) -> DeliveryError {
        let c = &self.config;
        DeliveryError::Transient(format!("SFTP server {}:{}: {what}", c.host, c.port))
    }
}

enum Auth {
    Password(Secret),
    Key(Arc<PrivateKey>),
}

impl Auth {
    fn from_config(c: &SftpConfig) -> Result<Auth, DeliveryError> {
        match (&c.password, &c.private_key) {
            (Some(p), None) => Ok(Auth::Password(p.clone())),
            (None, Some(k)) => decode_secret_key(k.expose(), None)
                .map(|k| Auth::Key(Arc::new(k)))
                .map_err(|_| {
                    DeliveryError::Permanent(
                        "private_key is not an unencrypted OpenSSH or PEM private key; give \
                         the key file's text, without a passphrase"
                            .into(),
                    )
                }),
            _ => Err(DeliveryError::Permanent(
                "give exactly one of password or private_key for the SFTP destination".into(),
            )),
        }
    }
}

/// The keys in `host_key`: each line either `[host]:port algo base64 …` (known_hosts, host
/// patterns and markers ignored: the host comes from the destination) or `algo base64 …`.
pub fn pinned_keys(host_key: &str) -> Result<Vec<PublicKey>, DeliveryError> {
    let mut keys = Vec::new();
    for line in host_key.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let found = words
            .windows(2)
            .find_map(|w| PublicKey::from_openssh(&format!("{} {}", w[0], w[1])).ok());
        match found {
            Some(key) => keys.push(key),
            None => {
                return Err(DeliveryError::Permanent(
                    "host_key holds a line that is not an SSH public key; give the server's \
                     key as a known_hosts line or as `ssh-ed25519 AAAA…` (ssh-keyscan prints it)"
                        .into(),
                ));
            }
        }
    }
    if keys.is_empty() {
        return Err(DeliveryError::Permanent(
            "host_key is empty; give the server's key (ssh-keyscan -p PORT HOST prints it) so \
             Ferry can tell the server from an impostor"
                .into(),
        ));
    }
    Ok(keys)
}

fn negotiable(keys: &[PublicKey]) -> Vec<Algorithm> {
    let mut algorithms = Vec::new();
    for key in keys {
        let names = match key.algorithm() {
            Algorithm::Rsa { .. } => vec![
                Algorithm::Rsa {
                    hash: Some(HashAlg::Sha512),
                },
                Algorithm::Rsa {
                    hash: Some(HashAlg::Sha256),
                },
            ],
            other => vec![other],
        };
        for name in names {
            if !algorithms.contains(&name) {
                algorithms.push(name);
            }
        }
    }
    algorithms
}

struct Pinned {
    keys: Vec<PublicKey>,
    /// The fingerprint of a refused key, for the error message.
    presented: Arc<Mutex<Option<String>>>,
}

impl client::Handler for Pinned {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        // A certificate is not a pinned key: refused like any other key.
        let PublicKeyOrCertificate::PublicKey { key, .. } = server else {
            *self.presented.lock().expect("key lock") = Some("(a certificate)".into());
            return Ok(false);
        };
        let known = self.keys.iter().any(|k| k.key_data() == key.key_data());
        if !known {
            *self.presented.lock().expect("key lock") =
                Some(key.fingerprint(HashAlg::Sha256).to_string());
        }
        Ok(known)
    }
}

fn join(dir: &str, name: &str) -> String {
    let dir = dir.trim_end_matches('/');
    match dir {
        "" => name.to_string(),
        _ => format!("{dir}/{name}"),
    }
}

fn absolute(path: &str) -> String {
    match path.starts_with('/') {
        true => path.to_string(),
        false => format!("/{path}"),
    }
}

/// `mkdir -p`: each missing component of `dir`, in order.
async fn make_dirs(sftp: &SftpSession, dir: &str) -> Result<(), DeliveryError> {
    let mut at = String::from(if dir.starts_with('/') { "/" } else { "" });
    for part in dir.split('/').filter(|p| !p.is_empty()) {
        at = join(&at, part);
        if !sftp.try_exists(at.as_str()).await.map_err(sftp_error)? {
            sftp.create_dir(at.as_str()).await.map_err(sftp_error)?;
        }
    }
    Ok(())
}

async fn upload(
    sftp: &SftpSession,
    source: &dyn FileSource,
    file: &PackageFile,
    dir: &str,
) -> Result<(), DeliveryError> {
    let partial = join(dir, &format!(".{}.part", file.name));
    let target = join(dir, &file.name);
    let reader = source
        .open(&file.name)
        .await
        .map_err(|e| DeliveryError::Transient(format!("cannot read {}: {e}", file.name)))?;
    let (mut reader, digests) = Hashing::new(BufReader::with_capacity(256 * 1024, reader));
    let mut remote = sftp.create(partial.as_str()).await.map_err(sftp_error)?;
    tokio::io::copy(&mut reader, &mut remote)
        .await
        .map_err(|e| DeliveryError::Transient(format!("uploading {}: {e}", file.name)))?;
    remote
        .shutdown()
        .await
        .map_err(|e| DeliveryError::Transient(format!("uploading {}: {e}", file.name)))?;
    drop(remote);
    if let Err(e) = matches_manifest(file, &digests) {
        let _ = sftp.remove_file(partial.as_str()).await;
        return Err(e);
    }
    let arrived = sftp.metadata(partial.as_str()).await.map_err(sftp_error)?;
    if arrived.size != Some(file.bytes) {
        return Err(DeliveryError::Transient(format!(
            "{} arrived with {:?} bytes instead of {}",
            file.name, arrived.size, file.bytes
        )));
    }
    // SFTP v3 renames onto no existing file: a re-run replaces the earlier copy.
    if sftp.try_exists(target.as_str()).await.map_err(sftp_error)? {
        sftp.remove_file(target.as_str())
            .await
            .map_err(sftp_error)?;
    }
    sftp.rename(partial, target).await.map_err(sftp_error)
}

fn sftp_error(e: russh_sftp::client::error::Error) -> DeliveryError {
    use russh_sftp::client::error::Error;
    match &e {
        Error::Status(s)
            if matches!(
                s.status_code,
                StatusCode::PermissionDenied | StatusCode::NoSuchFile | StatusCode::OpUnsupported
            ) =>
        {
            DeliveryError::Permanent(format!(
                "the SFTP server refused: {e}; check the destination's path and the user's rights"
            ))
        }
        _ => DeliveryError::Transient(format!("SFTP: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIHqZRG/KHkC1CqfBqv9Qhfgbs/8mUPS5cNWexHkA7ljT";

    #[test]
    fn host_key_is_read_from_a_known_hosts_line_or_a_bare_key() {
        for text in [
            format!("ssh-ed25519 {KEY}"),
            format!("ssh-ed25519 {KEY} root@box"),
            format!("[127.0.0.1]:2222 ssh-ed25519 {KEY}"),
            format!("# ssh-keyscan\n|1|abc=|def= ssh-ed25519 {KEY}\n"),
        ] {
            let keys = pinned_keys(&text).unwrap();
            assert_eq!(keys.len(), 1, "{text}");
        }
        for bad in ["", "ssh-ed25519", "ssh-ed25519 notbase64", "hello world"] {
            assert!(
                matches!(pinned_keys(bad), Err(DeliveryError::Permanent(_))),
                "{bad:?}"
            );
        }
    }
}
