use async_trait::async_trait;
use ferry_domain::audit::AuditEvent;
use ferry_domain::privacy_statement::{PrivacyStatement, StoredStatement};
use ferry_domain::{Account, AccountId, IdentifyPolicy, Plan, ValidWebsite, Website};

use crate::StoreError;

/// Accounts and the websites they own.
#[async_trait]
pub trait Accounts: Send + Sync {
    async fn create_account(&self, name: &str, plan: Plan) -> Result<Account, StoreError>;
    async fn account_by_name(&self, name: &str) -> Result<Option<Account>, StoreError>;
    async fn accounts(&self) -> Result<Vec<Account>, StoreError>;
    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError>;
    /// The account's default download-link lifetime (`None`: 7 days).
    async fn set_link_expiry(&self, id: AccountId, secs: Option<u64>) -> Result<(), StoreError>;

    /// `id` is the new website's public id, chosen by the caller; `identify_secret` keys its
    /// signed identify calls from the start.
    async fn create_website(
        &self,
        account: AccountId,
        id: &str,
        website: ValidWebsite,
        identify_secret: &str,
    ) -> Result<Website, StoreError>;
    /// A website of `account`; another account's website is `None`, as if it did not exist.
    async fn website(&self, account: AccountId, id: &str) -> Result<Option<Website>, StoreError>;
    /// A website of any account by public id, for the public tracker endpoints.
    async fn website_for_tracker(
        &self,
        id: &str,
    ) -> Result<Option<(AccountId, Website)>, StoreError>;
    /// Websites of any account with `domain` (domains are unique per account only), at most
    /// `limit`: the tracker takes a domain only when exactly one website has it.
    async fn websites_with_domain(
        &self,
        domain: &str,
        limit: u32,
    ) -> Result<Vec<(AccountId, Website)>, StoreError>;
    async fn websites(&self, account: AccountId) -> Result<Vec<Website>, StoreError>;

    /// How the website (by public id) checks identify calls; `None` when there is no such
    /// website. The caller checks that the website is the account's.
    async fn identify_policy(&self, website_id: &str)
    -> Result<Option<IdentifyPolicy>, StoreError>;
    /// Replaces the website's identify secret, so hashes made with the old one stop working.
    /// `false` when there is no such website.
    async fn rotate_identify_secret(
        &self,
        website_id: &str,
        secret: &str,
        now: i64,
    ) -> Result<bool, StoreError>;
    /// Whether the website also takes unsigned identify calls. `false` when there is no such
    /// website.
    async fn set_unsigned_identify(
        &self,
        website_id: &str,
        allow: bool,
    ) -> Result<bool, StoreError>;

    /// The account's privacy statement (`website` `None`), or a website's overrides of it;
    /// `None` when none was set. `Err(NotFound)` for a website the account does not have.
    async fn privacy_statement(
        &self,
        account: AccountId,
        website: Option<&str>,
    ) -> Result<Option<StoredStatement>, StoreError>;
    /// Replaces the account's (or a website's) statement, with its audit entry, in one
    /// transaction. `Err(NotFound)` for a website the account does not have.
    async fn set_privacy_statement(
        &self,
        account: AccountId,
        website: Option<&str>,
        statement: PrivacyStatement,
        audit: AuditEvent,
        now: i64,
    ) -> Result<(), StoreError>;
}
