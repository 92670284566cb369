use async_trait::async_trait;
use ferry_domain::{AccountId, LimitSetting, Plan};

use crate::StoreError;

/// Export limits: each plan's, and an account's own settings over its plan's.
#[async_trait]
pub trait Limits: Send + Sync {
    /// The account's export limits (its own settings over its plan's).
    async fn limits(&self, account: AccountId) -> Result<ferry_domain::Limits, StoreError>;
    /// Changes the account's own settings that are given.
    async fn set_account_limits(
        &self,
        account: AccountId,
        exports_per_day: Option<LimitSetting<u32>>,
        max_export_bytes: Option<LimitSetting<u64>>,
    ) -> Result<(), StoreError>;
    async fn set_plan_limits(
        &self,
        plan: Plan,
        limits: ferry_domain::Limits,
    ) -> Result<(), StoreError>;
    async fn plan_limits(&self) -> Result<Vec<(Plan, ferry_domain::Limits)>, StoreError>;
}
