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

/// The audit trail as CSV, as `GET /audit?format=csv` and the dashboard's download answer it:
/// every field an entry's hash covers, so an account can recompute its own hashes.
pub fn entries_csv(entries: &[ferry_domain::audit::AuditEntry]) -> anyhow::Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "seq",
        "at",
        "actor",
        "action",
        "subject",
        "data_types",
        "status",
        "export_id",
        "details",
        "prev_hash",
        "hash",
        // Last, so that scripts reading columns by position keep working.
        "person",
        "hash_version",
        "account",
        // An erasure replaced `subject` and `person` with their SHA-256 (hash version 3).
        "pseudonymised",
    ])?;
    for e in entries {
        out.write_record([
            e.seq.to_string(),
            ferry_domain::time::rfc3339(e.at),
            e.event.actor.clone(),
            e.event.action.clone(),
            e.event.subject.clone().unwrap_or_default(),
            e.event.data_types.join(","),
            e.event.status.clone(),
            e.event.export_id.clone().unwrap_or_default(),
            e.event.details.to_string(),
            e.prev_hash.clone(),
            e.hash.clone(),
            e.event.person.clone().unwrap_or_default(),
            e.hash_version.to_string(),
            e.account.clone(),
            e.pseudonymised.to_string(),
        ])?;
    }
    Ok(out.into_inner()?)
}
