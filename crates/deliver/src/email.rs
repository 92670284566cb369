//! Delivery by email (`{"type":"email","to"}`) through the relay in `FERRY_SMTP_URL`
//! (`smtp://user:pass@host:port`; `smtps://` for TLS from the start, `?tls=required` for
//! STARTTLS) from `FERRY_SMTP_FROM`. The mail reads like the reference page's example: the
//! download link, when it expires, and what the export holds (data types, date range, size).
//! The files are attached only when together they are at most `attach_limit` bytes (10 MB by
//! default); a larger export is sent as the link alone.

use std::fmt::Write as _;
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;
use tokio::io::AsyncReadExt;

use crate::checked::{Hashing, matches_manifest};
use crate::{Delivery, DeliveryError, FileSource, PackageFile, Secret, Sink};

pub const DEFAULT_ATTACH_LIMIT: u64 = 10 * 1000 * 1000;

#[derive(Debug, Clone, Deserialize)]
pub struct EmailConfig {
    pub to: String,
}

/// The relay every email destination sends through, from configuration.
#[derive(Debug, Clone)]
pub struct SmtpRelay {
    /// `FERRY_SMTP_URL`; holds the relay's password.
    pub url: Secret,
    /// `FERRY_SMTP_FROM`.
    pub from: String,
}

impl SmtpRelay {
    /// `FERRY_SMTP_URL` and `FERRY_SMTP_FROM`, or `None` when either is unset.
    pub fn from_env() -> Option<SmtpRelay> {
        Some(SmtpRelay {
            url: Secret::new(std::env::var("FERRY_SMTP_URL").ok()?),
            from: std::env::var("FERRY_SMTP_FROM").ok()?,
        })
    }
}

/// What the mail tells the recipient about the export, from the export job.
#[derive(Debug, Clone)]
pub struct ExportNotice {
    pub download_url: String,
    /// When the link stops working, as shown (e.g. `2026-12-08 14:00 UTC`).
    pub expires_at: String,
    /// `pageviews`, `events`, `sessions`, `profile`, …
    pub data_types: Vec<String>,
    /// First and last day, when the export was limited to a range.
    pub date_range: Option<(String, String)>,
}

pub struct EmailSink {
    pub config: EmailConfig,
    pub relay: SmtpRelay,
    pub notice: ExportNotice,
    pub attach_limit: u64,
}

#[async_trait]
impl Sink for EmailSink {
    fn method(&self) -> &'static str {
        "email"
    }

    async fn deliver(
        &self,
        _export_id: &str,
        files: &[PackageFile],
        source: &dyn FileSource,
    ) -> Result<Delivery, DeliveryError> {
        let to: Mailbox = self.config.to.parse().map_err(|_| {
            DeliveryError::Permanent(
                "the email destination's `to` is not an email address; correct it".into(),
            )
        })?;
        let from: Mailbox = self.relay.from.parse().map_err(|_| {
            DeliveryError::Permanent(
                "FERRY_SMTP_FROM is not an email address; set it to the sender's".into(),
            )
        })?;
        let total: u64 = files.iter().map(|f| f.bytes).sum();
        let attach = total <= self.attach_limit;
        let text = body(&self.notice, files, attach, self.attach_limit);
        let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(text));
        if attach {
            for file in files {
                let bytes = read_whole(source, file).await?;
                let kind = ContentType::parse(content_type(&file.name)).expect("known type");
                parts = parts.singlepart(Attachment::new(file.name.clone()).body(bytes, kind));
            }
        }
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject("Your data export is ready")
            .multipart(parts)
            .map_err(|e| DeliveryError::Permanent(format!("cannot build the mail: {e}")))?;
        send(&self.relay, message).await?;
        Ok(Delivery {
            method: self.method(),
            delivered: true,
            location: None,
        })
    }
}

/// Sends `message` through the relay. The relay's own words may echo the address, so only
/// its status code goes into an error.
async fn send(relay: &SmtpRelay, message: Message) -> Result<(), DeliveryError> {
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(relay.url.expose())
        .map_err(|_| {
            DeliveryError::Permanent(
                "FERRY_SMTP_URL is not a relay URL; set it like smtp://user:pass@host:587".into(),
            )
        })?
        .timeout(Some(Duration::from_secs(30)))
        .build();
    transport.send(message).await.map_err(|e| {
        let code = e.status().map(|c| c.to_string()).unwrap_or_default();
        if e.is_permanent() {
            DeliveryError::Permanent(format!(
                "the SMTP relay refused the mail ({code}); check FERRY_SMTP_URL's user and \
                 password and the recipient's address"
            ))
        } else {
            DeliveryError::Transient(format!("the SMTP relay could not take the mail now {code}"))
        }
    })?;
    Ok(())
}

/// A plain-text mail of Ferry's own (a verification code, a deadline notice) to `to`.
pub async fn send_text(
    relay: &SmtpRelay,
    to: &str,
    subject: &str,
    text: String,
) -> Result<(), DeliveryError> {
    let to: Mailbox = to.parse().map_err(|_| {
        DeliveryError::Permanent("the recipient is not an email address; correct it".into())
    })?;
    let from: Mailbox = relay.from.parse().map_err(|_| {
        DeliveryError::Permanent(
            "FERRY_SMTP_FROM is not an email address; set it to the sender's".into(),
        )
    })?;
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .singlepart(SinglePart::plain(text))
        .map_err(|e| DeliveryError::Permanent(format!("cannot build the mail: {e}")))?;
    send(relay, message).await
}

/// The reference page's example, filled in.
pub fn body(notice: &ExportNotice, files: &[PackageFile], attached: bool, limit: u64) -> String {
    let mut text = String::new();
    let total: u64 = files.iter().map(|f| f.bytes).sum();
    let _ = writeln!(text, "Your data export is ready.\n");
    let _ = writeln!(text, "Download your data here: {}\n", notice.download_url);
    let _ = writeln!(text, "This link expires on {}.\n", notice.expires_at);
    let _ = writeln!(text, "The export includes:");
    for data_type in &notice.data_types {
        let _ = writeln!(text, "- {}", label(data_type));
    }
    match &notice.date_range {
        Some((from, to)) => {
            let _ = writeln!(text, "\nDate range: {from} to {to}");
        }
        None => {
            let _ = writeln!(text, "\nDate range: all recorded data");
        }
    }
    let _ = writeln!(text, "Size: {} ({} bytes)\n", human(total), total);
    let _ = writeln!(text, "Files (SHA-256 checksums):");
    for file in files {
        let _ = writeln!(
            text,
            "- {} ({}) {}",
            file.name,
            human(file.bytes),
            file.sha256
        );
    }
    let _ = writeln!(text);
    if attached {
        let _ = writeln!(text, "The files are also attached to this message.");
    } else {
        let _ = writeln!(
            text,
            "The export is larger than {}, so it is not attached: download it from the link above.",
            human(limit)
        );
    }
    text
}

fn label(data_type: &str) -> &str {
    match data_type {
        "pageviews" => "Page view history",
        "events" => "Event tracking data",
        "sessions" => "Session information",
        "profile" => "Your profile data",
        other => other,
    }
}

fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000_000 => format!("{:.1} GB", b as f64 / 1e9),
        b if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        b if b >= 1_000 => format!("{:.1} kB", b as f64 / 1e3),
        b => format!("{b} bytes"),
    }
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("zip") => "application/zip",
        Some("json") => "application/json",
        Some("csv") => "text/csv",
        Some("gpg") => "application/pgp-encrypted",
        _ => "application/octet-stream",
    }
}

/// A file small enough to attach, read whole and checked against the manifest.
async fn read_whole(source: &dyn FileSource, file: &PackageFile) -> Result<Vec<u8>, DeliveryError> {
    let reader = source
        .open(&file.name)
        .await
        .map_err(|e| DeliveryError::Transient(format!("cannot read {}: {e}", file.name)))?;
    let (mut reader, digests) = Hashing::new(reader);
    let mut bytes = Vec::with_capacity(file.bytes as usize);
    reader
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| DeliveryError::Transient(format!("cannot read {}: {e}", file.name)))?;
    matches_manifest(file, &digests)?;
    Ok(bytes)
}
