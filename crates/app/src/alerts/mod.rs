//! Account alerts: things an account must hear about without asking (a delivery that failed
//! for good). Each alert is an audit entry (written by its cause) and, where the account set
//! them, a mail to its alert address ([`mail`]) and a POST to its alert webhook:
//!
//! ```text
//! POST {url}
//! Content-Type: application/json
//! X-Ferry-Signature: sha256=<hex HMAC-SHA256 of the exact body, keyed with the webhook secret>
//!
//! {"event":"data_export.delivery_failed","export_id":"exp_…","destination_id":"dst_…",
//!  "destination_name":"warehouse","type":"s3","attempts":6,"message":"…","at":"…"}
//! ```
//!
//! The receiver recomputes the HMAC over the raw body and compares in constant time. The
//! secret (`fwh_…`) is shown once, when the webhook is set; Ferry keeps it sealed. A webhook
//! or mail that fails is logged (its status only) and not retried: the audit entry stays the
//! record.

pub mod mail;

use std::time::Duration;

use chrono::{DateTime, Utc};
use ferry_domain::AccountId;
use ferry_store::Store;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::error_code::{ErrorCode, Problem};
use crate::sealing::Sealer;
use crate::services::Actor;

pub const SIGNATURE_HEADER: &str = "X-Ferry-Signature";

#[derive(Clone)]
pub struct Alerts {
    client: reqwest::Client,
}

impl Default for Alerts {
    fn default() -> Self {
        Alerts {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        }
    }
}

/// `sha256=` + hex HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A delivery that failed for good: which export, where it was going, and why.
#[derive(Debug, Clone)]
pub struct Alert {
    pub export_id: String,
    /// The saved destination (`None`: one given inline with the request).
    pub destination_id: Option<String>,
    pub destination_name: Option<String>,
    /// `s3`, `gcs`, `sftp`, `email`, `local`.
    pub kind: Option<String>,
    pub attempts: Option<u32>,
    pub message: String,
    pub at: DateTime<Utc>,
}

impl Alert {
    pub const EVENT: &'static str = "data_export.delivery_failed";

    /// The webhook's body.
    pub fn to_json(&self) -> Value {
        json!({
            "event": Self::EVENT,
            "export_id": self.export_id,
            "destination_id": self.destination_id,
            "destination_name": self.destination_name,
            "type": self.kind,
            "attempts": self.attempts,
            "message": self.message,
            "at": self.at,
        })
    }

    /// `"warehouse" (s3, dst_…)`, or `an s3 destination given with the request`.
    pub fn destination_label(&self) -> String {
        let kind = self.kind.as_deref().unwrap_or("unknown");
        match (&self.destination_name, &self.destination_id) {
            (Some(name), Some(id)) => format!("\"{name}\" ({kind}, {id})"),
            (None, Some(id)) => format!("{id} ({kind})"),
            _ => format!("a {kind} destination given with the request"),
        }
    }
}

impl Alerts {
    /// Mails `alert` to the account's alert address and POSTs it to its webhook, each if set.
    pub async fn send(
        &self,
        store: &dyn Store,
        sealer: Option<&Sealer>,
        mail: Option<&crate::jobs::MailSetup>,
        account: AccountId,
        alert: &Alert,
    ) {
        mail::send(store, mail, account, alert).await;
        self.post(store, sealer, account, &alert.to_json()).await;
    }

    /// POSTs `alert` to the account's webhook, if it has one.
    async fn post(
        &self,
        store: &dyn Store,
        sealer: Option<&Sealer>,
        account: AccountId,
        alert: &Value,
    ) {
        let Ok(Some((url, sealed))) = store.alert_webhook(account).await else {
            return;
        };
        let Some(secret) = sealer.and_then(|s| s.open(account, &sealed)) else {
            tracing::warn!(
                account = account.0,
                "cannot open the alert webhook's secret: alert not sent"
            );
            return;
        };
        let body = alert.to_string();
        let sent = self
            .client
            .post(&url)
            .header("Content-Type", "application/json")
            .header(SIGNATURE_HEADER, signature(&secret, body.as_bytes()))
            .body(body)
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => tracing::warn!(
                account = account.0,
                status = r.status().as_u16(),
                "the alert webhook refused an alert"
            ),
            Err(_) => tracing::warn!(
                account = account.0,
                "the alert webhook could not be reached"
            ),
        }
    }
}

/// Sets the account's alert webhook; returns it with a new secret, shown this once.
pub async fn set_webhook(
    store: &dyn Store,
    sealer: &Sealer,
    actor: &Actor,
    url: &str,
    now: i64,
) -> Result<Value, Problem> {
    if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 2048 {
        return Err(Problem::new(
            ErrorCode::InvalidValue,
            "`url` must be an http:// or https:// URL of at most 2048 characters",
        ));
    }
    let account = actor.account();
    let secret = crate::keys::random_id("fwh_", 32);
    let sealed = sealer.seal(account, secret.as_bytes());
    store.set_alert_webhook(account, url, &sealed, now).await?;
    let entry = crate::audit::event(actor.audit_name(), "alert_webhook.set", json!({}));
    store.audit(account, entry).await?;
    Ok(json!({
        "url": url,
        "secret": secret,
        "notice": "store this secret now: Ferry signs each alert with it (X-Ferry-Signature) and cannot show it again",
    }))
}
