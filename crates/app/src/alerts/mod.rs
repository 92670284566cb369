//! Account alerts: things an account must hear about without asking (a delivery that failed
//! for good). Each alert is an audit entry (written by its cause) and, when the account set
//! one, a POST to its alert webhook:
//!
//! ```text
//! POST {url}
//! Content-Type: application/json
//! X-Ferry-Signature: sha256=<hex HMAC-SHA256 of the exact body, keyed with the webhook secret>
//!
//! {"event":"data_export.delivery_failed","export_id":"exp_…","message":"…","at":"…"}
//! ```
//!
//! The receiver recomputes the HMAC over the raw body and compares in constant time. The
//! secret (`fwh_…`) is shown once, when the webhook is set; Ferry keeps it sealed. A webhook
//! that fails is logged (its status only) and not retried: the audit entry stays the record.

use std::time::Duration;

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

impl Alerts {
    /// POSTs `alert` to the account's webhook, if it has one.
    pub async fn send(
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
