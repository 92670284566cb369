//! Writing the audit trail from the app: one helper so that every entry has the same shape.

use ferry_domain::AccountId;
use ferry_domain::audit::AuditEvent;
use ferry_domain::job::ExportSpec;
use ferry_store::{Store, StoreError};
use serde_json::Value;

/// An entry about an export: `subject` is the identifier the request used, `person` whom it
/// resolved to then (kept on the spec, so every entry of the export names the same person).
pub fn export_event(
    actor: &str,
    action: &str,
    export_id: &str,
    spec: &ExportSpec,
    status: &str,
    details: Value,
) -> AuditEvent {
    AuditEvent {
        actor: actor.to_string(),
        action: action.to_string(),
        subject: Some(spec.subject_label()),
        data_types: spec
            .data_types
            .iter()
            .map(|t| t.as_str().to_string())
            .collect(),
        status: status.to_string(),
        export_id: Some(export_id.to_string()),
        details,
        person: spec.person.clone(),
    }
}

/// An entry about anything else (keys, settings).
pub fn event(actor: &str, action: &str, details: Value) -> AuditEvent {
    AuditEvent {
        actor: actor.to_string(),
        action: action.to_string(),
        subject: None,
        data_types: Vec::new(),
        status: "ok".into(),
        export_id: None,
        details,
        person: None,
    }
}

/// Appends where the caller cannot fail the operation any more (the work is done): a failure
/// to record is logged loudly instead.
pub async fn record_or_log(store: &dyn Store, account: AccountId, event: AuditEvent) {
    let action = event.action.clone();
    if let Err(e) = store.audit(account, event).await {
        report(&action, &e);
    }
}

fn report(action: &str, e: &StoreError) {
    tracing::error!(action, error = %e, "cannot write to the audit trail");
}
