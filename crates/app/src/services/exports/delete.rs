//! Cancelling a queued or running export, or deleting a finished one's files early: what
//! `DELETE /exports/{id}` and the dashboard's Delete button both do, audited under whoever
//! asked.

use ferry_domain::job::{ExportJob, ExportStatus};
use ferry_store::Store;
use serde_json::json;

use crate::artifacts::ArtifactStore;
use crate::clock::Clock;
use crate::error_code::{ErrorCode, Problem};
use crate::services::Actor;

/// The export as it is now; `export_not_found` for an export of another account, as for none.
pub async fn delete_export(
    store: &dyn Store,
    artifacts: &dyn ArtifactStore,
    clock: &dyn Clock,
    actor: &Actor,
    id: &str,
) -> Result<ExportJob, Problem> {
    let (job, artifact) = store
        .cancel_export(actor.account(), id, clock.now())
        .await?
        .ok_or_else(|| not_found(id))?;
    if let Some(prefix) = artifact
        && let Err(e) = artifacts.delete(&prefix).await
    {
        tracing::warn!(error = %e, export.id = %job.id, "cannot delete an export's files");
    }
    let action = match job.status {
        ExportStatus::Cancelled => "data_export.cancelled",
        _ => "data_export.deleted",
    };
    let entry = crate::audit::export_event(
        actor.audit_name(),
        action,
        &job.id,
        &job.spec,
        "ok",
        json!({}),
    );
    store.audit(actor.account(), entry).await?;
    tracing::info!(export.id = %job.id, status = job.status.as_str(), actor = actor.log_name(), "export cancelled or deleted");
    Ok(job)
}

pub fn not_found(id: &str) -> Problem {
    Problem::new(
        ErrorCode::ExportNotFound,
        format!("no export `{id}` in this account: list them with GET /api/external/v1/exports"),
    )
}
