use async_trait::async_trait;
use ferry_domain::audit::AuditEvent;
use ferry_domain::job::ExportJob;
use ferry_domain::{AccountId, Millis};

use crate::StoreError;

/// Why an export's files are no longer needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetireReason {
    /// Its link expired.
    LinkExpired,
    /// Its one-time link is used up: every file was downloaded whole, or a file's claim is
    /// older than the resume window.
    LinkUsed,
}

impl RetireReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RetireReason::LinkExpired => "link_expired",
            RetireReason::LinkUsed => "link_used",
        }
    }
}

/// A completed export whose files nobody can download any more.
#[derive(Debug, Clone)]
pub struct DeadArtifact {
    pub account: AccountId,
    pub export: ExportJob,
    pub reason: RetireReason,
}

/// Who, if anyone, still needs files an export's id names in the artifact store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactOwner {
    pub export_id: String,
    pub account: AccountId,
    /// The prefix the export's download links serve (`{export_id}/{lease token}`).
    pub artifact: Option<String>,
    /// The lease token of the export's job while it runs: its attempt's files and scratch
    /// directory are being written.
    pub running_lease: Option<String>,
}

/// What the sweep asks of the store: which files are dead, and marking an export's files gone.
#[async_trait]
pub trait Sweeping: Send + Sync {
    /// Completed exports that still have files but whose links can no longer serve them, at
    /// most `limit`, oldest first. A one-time export with a file not yet fetched whole and
    /// not claimed (or claimed within the resume window) is still live.
    async fn dead_artifacts(
        &self,
        now: Millis,
        limit: u32,
    ) -> Result<Vec<DeadArtifact>, StoreError>;
    /// Marks the export `expired` without files and appends `audit`, in one transaction, if
    /// its files are still `artifact`; `false` when something else retired them first (a
    /// `DELETE /exports/{id}`, another sweep).
    async fn retire_artifact(
        &self,
        id: &str,
        artifact: &str,
        audit: (AccountId, AuditEvent),
        now: Millis,
    ) -> Result<bool, StoreError>;
    /// The owners of the exports `ids` names that exist, as of one moment.
    async fn artifact_owners(&self, ids: Vec<String>) -> Result<Vec<ArtifactOwner>, StoreError>;
}
