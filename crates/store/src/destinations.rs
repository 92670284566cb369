//! Destinations, deliveries, alert webhooks and alert addresses. The store keeps credentials only sealed
//! (encrypted by the caller) and never looks inside them or the settings.

use async_trait::async_trait;
use ferry_domain::{AccountId, Millis};

use crate::StoreError;

/// A saved destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationRecord {
    pub id: String,
    pub account: AccountId,
    pub name: Option<String>,
    /// `s3`, `local`, `gcs`, `sftp`, `email`.
    pub kind: String,
    /// The public settings, as JSON.
    pub settings: String,
    /// The credentials, sealed.
    pub sealed: String,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Failed]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// An export's delivery: a copy of its destination and how the delivery went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub export_id: String,
    pub account: AccountId,
    /// The saved destination it was copied from (`None`: given inline).
    pub destination_id: Option<String>,
    pub kind: String,
    pub settings: String,
    pub sealed: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub error: Option<String>,
    /// Where the files went, without credentials.
    pub location: Option<String>,
    pub delivered_at: Option<Millis>,
}

/// The public key an account's exports are encrypted to when a request (or its destination)
/// names none. Public, so stored in clear; the fingerprint is kept to show without parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountKey {
    pub pgp_public_key: String,
    pub fingerprint: String,
    /// The audit actor that set it (an API key id, or `cli`).
    pub set_by: String,
    pub set_at: Millis,
}

/// How an attempt at a delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryResult {
    /// Failed this time; another attempt follows.
    Retrying {
        error: String,
    },
    Failed {
        error: String,
    },
    /// Arrived: the receipt takes `method` and `at` (whole seconds).
    Delivered {
        method: String,
        location: Option<String>,
        at: Millis,
    },
}

#[async_trait]
pub trait Destinations: Send + Sync {
    async fn create_destination(&self, d: DestinationRecord) -> Result<(), StoreError>;
    /// The account's destinations, oldest first.
    async fn destinations(&self, account: AccountId) -> Result<Vec<DestinationRecord>, StoreError>;
    async fn destination(
        &self,
        account: AccountId,
        id: &str,
    ) -> Result<Option<DestinationRecord>, StoreError>;
    /// Replaces name, settings and credentials; `false` when there is no such destination.
    async fn update_destination(&self, d: DestinationRecord) -> Result<bool, StoreError>;
    async fn delete_destination(&self, account: AccountId, id: &str) -> Result<bool, StoreError>;

    /// Records that an export is to be delivered (before its job is queued).
    async fn save_delivery(&self, d: DeliveryRecord) -> Result<(), StoreError>;
    /// Forgets a delivery whose export was never queued (refused by the daily limit).
    async fn discard_delivery(&self, export_id: &str) -> Result<(), StoreError>;
    async fn delivery(&self, export_id: &str) -> Result<Option<DeliveryRecord>, StoreError>;
    /// Records an attempt's end, on a pending delivery only. A delivery also sets the
    /// receipt's `delivered_at` and `delivery_method`, in the same transaction. Once the
    /// delivery has ended (delivered or failed) its sealed credentials are dropped: nothing
    /// needs them any more.
    async fn record_delivery(
        &self,
        export_id: &str,
        result: DeliveryResult,
        now: Millis,
    ) -> Result<(), StoreError>;

    async fn set_alert_webhook(
        &self,
        account: AccountId,
        url: &str,
        sealed: &str,
        now: Millis,
    ) -> Result<(), StoreError>;
    /// `(url, sealed secret)`.
    async fn alert_webhook(
        &self,
        account: AccountId,
    ) -> Result<Option<(String, String)>, StoreError>;

    /// Sets (or replaces) the account's default encryption key.
    async fn set_account_key(&self, account: AccountId, key: AccountKey) -> Result<(), StoreError>;
    async fn account_key(&self, account: AccountId) -> Result<Option<AccountKey>, StoreError>;
    /// `false` when the account had none.
    async fn remove_account_key(&self, account: AccountId) -> Result<bool, StoreError>;
    /// Sets (or replaces) the address the account's alerts are mailed to.
    async fn set_alert_email(
        &self,
        account: AccountId,
        address: &str,
        now: Millis,
    ) -> Result<(), StoreError>;
    async fn alert_email(&self, account: AccountId) -> Result<Option<String>, StoreError>;
    /// Forgets the address; `false` when there was none.
    async fn delete_alert_email(&self, account: AccountId) -> Result<bool, StoreError>;
}
