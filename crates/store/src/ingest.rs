use async_trait::async_trait;
use ferry_domain::{AccountId, IngestLine, LineError, Millis};

use crate::StoreError;

/// What happened to each line of an ingest batch, in order.
pub type IngestOutcome = Vec<Result<(), LineError>>;

/// Tracked activity coming in.
#[async_trait]
pub trait Ingest: Send + Sync {
    /// Stores a batch in one transaction. Lines naming a website outside `account` (when given)
    /// are refused and change nothing; every other line is kept.
    async fn ingest(
        &self,
        account: Option<AccountId>,
        lines: Vec<IngestLine>,
        now: Millis,
    ) -> Result<IngestOutcome, StoreError>;
}
