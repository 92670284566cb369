use async_trait::async_trait;
use ferry_domain::{AccountId, ApiKeyInfo, NewApiKey};

use crate::StoreError;

/// API keys. Only a hash of a key's secret is kept.
#[async_trait]
pub trait Keys: Send + Sync {
    async fn create_key(
        &self,
        account: AccountId,
        key: NewApiKey,
    ) -> Result<ApiKeyInfo, StoreError>;
    /// The live (not revoked) key with this secret hash; records its use.
    async fn key_by_hash(&self, secret_hash: &str) -> Result<Option<ApiKeyInfo>, StoreError>;
    async fn keys(&self, account: AccountId) -> Result<Vec<ApiKeyInfo>, StoreError>;
    /// Revokes a key of `account`; `None` when there is no such key.
    async fn revoke_key(
        &self,
        account: AccountId,
        key_id: &str,
    ) -> Result<Option<ApiKeyInfo>, StoreError>;
}
