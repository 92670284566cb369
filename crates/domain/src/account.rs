//! Tenants and their API keys, as the rest of Ferry sees them (never a key's secret).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Plan, Scopes};

/// The store's id of an account. Not shown to API users, who only ever see their own account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AccountId(pub i64);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Account {
    #[serde(skip)]
    pub id: AccountId,
    pub name: String,
    pub plan: Plan,
    /// Download links' lifetime when a request does not set one; `None`: 7 days.
    pub link_expiry_secs: Option<u64>,
    pub created_at: DateTime<Utc>,
}

/// An API key's public side. The secret exists only in the response that created it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiKeyInfo {
    /// Public id, e.g. `key_3f9a0c1b2d4e`; shown in listings and the audit trail.
    pub id: String,
    #[serde(skip)]
    pub account: AccountId,
    pub name: Option<String>,
    /// The first characters of the secret, so a person can tell keys apart.
    pub prefix: String,
    pub scopes: Scopes,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What the store needs to keep a new key: everything but the secret itself.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub id: String,
    pub name: Option<String>,
    pub prefix: String,
    /// Hex SHA-256 of the secret; keys are looked up by it.
    pub secret_hash: String,
    pub scopes: Scopes,
}
