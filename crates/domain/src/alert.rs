//! An account alert: a delivery that failed for good. Carried by the `alert` job, one job per
//! channel (mail, webhook), so a relay or receiver that is down is retried without sending
//! the other channel twice.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Where an alert goes: the account's alert address or its alert webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertChannel {
    Mail,
    Webhook,
}

impl AlertChannel {
    pub const ALL: [AlertChannel; 2] = [AlertChannel::Mail, AlertChannel::Webhook];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertChannel::Mail => "mail",
            AlertChannel::Webhook => "webhook",
        }
    }
}

/// A delivery that failed for good: which export, where it was going, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
