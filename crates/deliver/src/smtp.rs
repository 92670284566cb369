//! The SMTP relay every mail of Ferry goes through: `email` deliveries and account alerts.
//!
//! `FERRY_SMTP_URL` follows lettre's connection URLs: `smtp://user:pass@host:port` (plain),
//! `smtp://…?tls=required` (STARTTLS, refused when the relay does not offer it),
//! `smtp://…?tls=opportunistic` (STARTTLS when offered), `smtps://…` (TLS from the first
//! byte). TLS trusts the webpki roots, or, when a CA file is given (`--smtp-ca-file`), that
//! private CA instead: rustls rejects a bare self-signed certificate, so a relay with its own
//! certificate needs the CA that signed it.

use std::sync::Arc;
use std::time::Duration;

use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::{DeliveryError, Secret};

/// The relay, from configuration.
#[derive(Debug, Clone)]
pub struct SmtpRelay {
    /// `FERRY_SMTP_URL`; holds the relay's password.
    pub url: Secret,
    /// `FERRY_SMTP_FROM`.
    pub from: String,
    /// PEM certificates of the CA the relay's certificate must chain to (`None`: the webpki
    /// roots).
    pub ca_pem: Option<Arc<Vec<u8>>>,
}

impl SmtpRelay {
    /// A relay that trusts the public roots.
    pub fn new(url: impl Into<String>, from: impl Into<String>) -> Self {
        SmtpRelay {
            url: Secret::new(url.into()),
            from: from.into(),
            ca_pem: None,
        }
    }

    /// Checks what can be checked without connecting: the URL's form, the From address and
    /// the CA file. Start-up calls this, so a typo stops the process instead of every mail.
    pub fn check(&self) -> Result<(), DeliveryError> {
        self.transport()?;
        self.from.parse::<lettre::message::Mailbox>().map_err(|_| {
            DeliveryError::Permanent(
                "FERRY_SMTP_FROM is not an email address; set it to the sender's".into(),
            )
        })?;
        Ok(())
    }

    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, DeliveryError> {
        let url = self.url.expose();
        let bad_url = || {
            DeliveryError::Permanent(
                "FERRY_SMTP_URL is not a relay URL; set it like smtp://user:pass@host:587 \
                 (?tls=required for STARTTLS, smtps:// for TLS)"
                    .into(),
            )
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|_| bad_url())?
            .timeout(Some(Duration::from_secs(30)));
        if let Some(pem) = &self.ca_pem {
            let host = host_of(url).ok_or_else(bad_url)?;
            let ca = Certificate::from_pem(pem).map_err(|_| {
                DeliveryError::Permanent(
                    "the SMTP CA file holds no PEM certificate; give --smtp-ca-file the CA's \
                     certificate (BEGIN CERTIFICATE)"
                        .into(),
                )
            })?;
            let parameters = TlsParameters::builder(host)
                .certificate_store(CertificateStore::None)
                .add_root_certificate(ca)
                .build_rustls()
                .map_err(|_| {
                    DeliveryError::Permanent("cannot use the SMTP CA file's certificate".into())
                })?;
            builder = match tls_mode(url) {
                Mode::Wrapper => builder.tls(Tls::Wrapper(parameters)),
                Mode::Required => builder.tls(Tls::Required(parameters)),
                Mode::Opportunistic => builder.tls(Tls::Opportunistic(parameters)),
                Mode::Plain => {
                    return Err(DeliveryError::Permanent(
                        "--smtp-ca-file is set but FERRY_SMTP_URL asks for no TLS: add \
                         ?tls=required (STARTTLS) or use smtps://"
                            .into(),
                    ));
                }
            };
        }
        Ok(builder.build())
    }

    /// Sends a plain-text mail from the configured sender to `to`.
    pub async fn send_text(
        &self,
        to: &str,
        subject: &str,
        text: String,
    ) -> Result<(), DeliveryError> {
        let to: lettre::message::Mailbox = to.parse().map_err(|_| {
            DeliveryError::Permanent("the recipient is not an email address".into())
        })?;
        let from: lettre::message::Mailbox = self.from.parse().map_err(|_| {
            DeliveryError::Permanent(
                "FERRY_SMTP_FROM is not an email address; set it to the sender's".into(),
            )
        })?;
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(subject)
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(text)
            .map_err(|e| DeliveryError::Permanent(format!("cannot build the mail: {e}")))?;
        self.send(message).await
    }

    /// Sends `message`. The relay's own words may echo an address: only its reply code goes
    /// into the error.
    pub async fn send(&self, message: Message) -> Result<(), DeliveryError> {
        let transport = self.transport()?;
        transport.send(message).await.map_err(|e| {
            let code = e.status().map(|c| c.to_string()).unwrap_or_default();
            if e.is_tls() || certificate_refused(&e) {
                DeliveryError::Permanent(
                    "TLS with the SMTP relay failed (is its certificate trusted?); give \
                     --smtp-ca-file (FERRY_SMTP_CA_FILE) the CA that signed it"
                        .into(),
                )
            } else if e.is_permanent() {
                DeliveryError::Permanent(format!(
                    "the SMTP relay refused the mail ({code}); check FERRY_SMTP_URL's user and \
                     password and the recipient's address"
                ))
            } else {
                DeliveryError::Transient(format!(
                    "the SMTP relay could not take the mail now {code}"
                ))
            }
        })?;
        Ok(())
    }
}

/// A STARTTLS handshake that refused the relay's certificate: lettre reports it as a
/// connection error, with the TLS library's reason ("invalid peer certificate: …") beneath.
fn certificate_refused(e: &lettre::transport::smtp::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(error) = source {
        if error.to_string().contains("certificate") {
            return true;
        }
        source = error.source();
    }
    false
}

/// One plain address (`dpo@example.com`): no display name, brackets or line breaks.
pub fn is_address(text: &str) -> bool {
    text.parse::<lettre::Address>().is_ok()
}

enum Mode {
    Plain,
    Required,
    Opportunistic,
    Wrapper,
}

/// The TLS mode `from_url` reads from the URL, so a private CA can replace its parameters.
fn tls_mode(url: &str) -> Mode {
    if url.starts_with("smtps://") {
        return Mode::Wrapper;
    }
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let tls = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("tls="))
        .unwrap_or_default();
    match tls {
        "required" => Mode::Required,
        "opportunistic" => Mode::Opportunistic,
        _ => Mode::Plain,
    }
}

/// The host of `scheme://user:pass@host:port/?…`, as the certificate must name it.
fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split_once(']')?.0,
        None => host_port.split(':').next()?,
    };
    (!host.is_empty()).then(|| host.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_and_tls_mode_are_read_as_lettre_reads_them() {
        assert_eq!(
            host_of("smtp://u:p@relay.example:587?tls=required").as_deref(),
            Some("relay.example")
        );
        assert_eq!(host_of("smtps://[::1]:465").as_deref(), Some("::1"));
        assert_eq!(host_of("smtp://u:p@@x:1").as_deref(), Some("x"));
        assert!(matches!(tls_mode("smtp://h?tls=required"), Mode::Required));
        assert!(matches!(tls_mode("smtp://h:25"), Mode::Plain));
        assert!(matches!(tls_mode("smtps://h"), Mode::Wrapper));
    }
}
