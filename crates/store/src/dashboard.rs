use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ferry_domain::audit::AuditEvent;
use ferry_domain::{AccountId, Millis};

use crate::StoreError;

/// What a dashboard user may do. Members read and export; admins also manage the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DashboardRole {
    Admin,
    Member,
}

impl DashboardRole {
    pub fn as_str(self) -> &'static str {
        match self {
            DashboardRole::Admin => "admin",
            DashboardRole::Member => "member",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(DashboardRole::Admin),
            "member" => Some(DashboardRole::Member),
            _ => None,
        }
    }
}

/// A person who signs in to one account's dashboard.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardUser {
    /// Public id (`usr_…`).
    pub id: String,
    pub account: AccountId,
    pub email: String,
    pub role: DashboardRole,
    pub created_at: DateTime<Utc>,
}

/// A user to create; `password_hash` is an argon2id PHC string made by the caller.
#[derive(Debug, Clone)]
pub struct NewDashboardUser {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub role: DashboardRole,
}

/// Dashboard users and their sessions. Passwords arrive hashed and session tokens as their
/// SHA-256: the store never sees either secret.
#[async_trait]
pub trait DashboardUsers: Send + Sync {
    /// `Conflict` when the email (in any case) signs in somewhere already.
    async fn create_dashboard_user(
        &self,
        account: AccountId,
        user: NewDashboardUser,
    ) -> Result<DashboardUser, StoreError>;
    /// The user an email (in any case) names, with their password hash, for signing in.
    async fn dashboard_login(
        &self,
        email: &str,
    ) -> Result<Option<(DashboardUser, String)>, StoreError>;
    async fn dashboard_users(&self, account: AccountId) -> Result<Vec<DashboardUser>, StoreError>;
    async fn create_dashboard_session(
        &self,
        token_hash: &str,
        user_id: &str,
        now: Millis,
        expires_at: Millis,
    ) -> Result<(), StoreError>;
    /// The user of a session that has not expired at `now`.
    async fn dashboard_session(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> Result<Option<DashboardUser>, StoreError>;
    /// Ends a session (sign-out); also drops every session that expired before `now`.
    async fn delete_dashboard_session(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> Result<(), StoreError>;
    /// Removes a user of `account` and ends every session of theirs at once, with its audit
    /// entry, in one transaction; `false` when the account has no such user.
    async fn delete_dashboard_user(
        &self,
        account: AccountId,
        user_id: &str,
        audit: AuditEvent,
    ) -> Result<bool, StoreError>;
}
