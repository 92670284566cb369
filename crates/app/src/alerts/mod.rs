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
//! secret (`fwh_…`) is shown once, when the webhook is set; Ferry keeps it sealed. Each
//! channel is an `alert` job of its own (queued once per export and channel): a relay or a
//! receiver that is down is retried with the deliveries' back-off, and the other channel is
//! not sent twice. An alert that fails for good is logged (its status only); the audit entry
//! stays the record.

pub mod mail;

use std::time::Duration;

use ferry_domain::AccountId;
use ferry_domain::queue::{DELIVERY_ATTEMPTS, JobKind, Lane, NewJob};
use ferry_store::Store;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::error_code::{ErrorCode, Problem};
use crate::jobs::Failure;
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

pub use ferry_domain::alert::{Alert, AlertChannel};

/// Queues `alert` for each channel, once per export however often this is called (a
/// reclaimed delivery job that fails again finds them queued).
pub async fn enqueue(store: &dyn Store, account: AccountId, alert: &Alert, now: i64) {
    for channel in AlertChannel::ALL {
        let job = NewJob {
            max_attempts: DELIVERY_ATTEMPTS,
            unique_key: Some(format!("alert:{}:{}", alert.export_id, channel.as_str())),
            ..NewJob::now(
                JobKind::Alert {
                    account: account.0,
                    channel,
                    alert: alert.clone(),
                },
                Lane::Default,
                now,
            )
        };
        if let Err(e) = store.enqueue(job, now).await {
            tracing::error!(account = account.0, error = %e, "cannot queue an alert");
        }
    }
}

impl Alerts {
    /// POSTs `alert` to the account's webhook, if it has one. `Err` says why it did not
    /// arrive, and whether trying again may help.
    pub async fn post(
        &self,
        store: &dyn Store,
        sealer: Option<&Sealer>,
        account: AccountId,
        alert: &Value,
    ) -> Result<(), Failure> {
        let (url, sealed) = match store.alert_webhook(account).await {
            Ok(Some(set)) => set,
            Ok(None) => return Ok(()),
            Err(e) => return Err(Failure::transient(e)),
        };
        let Some(secret) = sealer.and_then(|s| s.open(account, &sealed)) else {
            return Err(Failure::permanent(
                ErrorCode::DeliveryFailed,
                "cannot open the alert webhook's secret: set the webhook again",
            ));
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
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(retry(format!(
                "the alert webhook answered {}",
                r.status().as_u16()
            ))),
            Err(_) => Err(retry("the alert webhook could not be reached")),
        }
    }
}

/// A failure worth another try later (the back-off of deliveries).
pub(crate) fn retry(message: impl Into<String>) -> Failure {
    Failure {
        code: ErrorCode::DeliveryFailed,
        message: message.into(),
        transient: true,
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
