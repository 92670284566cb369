//! Answering an erasure request (Art. 17): `fulfil` on a verified erasure request queues
//! one `erasure` job (keyed per request, so it is queued once) that deletes the person on
//! every website of the account and ends with a deletion report (`jobs::erasure`).
//!
//! - `export_first`: the person's export is asked for first, through the same path as an
//!   access request's (`fulfilment::generate`); the erasure job is queued once it completed
//!   (`jobs::request_delivery`), and that export is the one the erasure leaves to its link's
//!   expiry, so the subject can still fetch their copy.
//! - The account's `require_approval` stops it at `awaiting_approval`, as for an export;
//!   `approve` starts it.
//! - Status: `verified → in_progress` (erasing) `→ delivered` (the subject was mailed that it
//!   is done) `→ closed`, as for an export: the machine is the same.

use ferry_domain::queue::{JobKind, Lane, NewJob};
use ferry_domain::request::{Fulfilment, Request, RequestAction, RequestStatus, RequestType};
use ferry_domain::{AccountId, Millis};
use ferry_store::Store;
use serde_json::{Value, json};

use super::{find, next_status, recorded, save};
use crate::clock::Clock;
use crate::error_code::{ErrorCode, Problem};
use crate::services::Actor;

/// A crashed run is retried; each phase is recorded, so a retry resumes.
const ATTEMPTS: u32 = 5;

/// The erasure job of a request: one per request, ever.
pub fn erasure_job(request_id: &str, now: Millis) -> NewJob {
    NewJob {
        unique_key: Some(format!("request:{request_id}:erasure")),
        max_attempts: ATTEMPTS,
        ..NewJob::now(
            JobKind::Erasure {
                request_id: request_id.to_string(),
            },
            Lane::Default,
            now,
        )
    }
}

/// `fulfil` on an erasure request (the one entry the API, the CLI and the dashboard share).
pub async fn fulfil(
    store: &dyn Store,
    clock: &dyn Clock,
    actor: &Actor,
    mut request: Request,
    asked: Fulfilment,
) -> Result<Request, Problem> {
    next_status(&request, RequestAction::Fulfil)?;
    if request.visitor_only() {
        // The privacy page takes none; a visitor id proves a browser, not a person.
        return Err(Problem::new(
            ErrorCode::IllegalTransition,
            format!(
                "request `{}` names a visitor id alone: erasure needs a verified email",
                request.id
            ),
        ));
    }
    if request.status == RequestStatus::InProgress {
        return retry(store, clock, actor, request).await;
    }
    let export_first = asked.export_first;
    request.fulfilment = asked;
    let now = clock.now();
    if store
        .request_settings(actor.account())
        .await?
        .require_approval
    {
        request.status = RequestStatus::AwaitingApproval;
        let details = json!({"export_first": export_first});
        let change = recorded(
            actor.audit_name(),
            "approval_requested",
            &request,
            details,
            now,
        );
        return save(store, actor, request, change, now).await;
    }
    start(store, clock, actor, request, "erasure_started", None).await
}

/// `fulfil` again on an erasure under way: queues another run, for an erasure whose job
/// failed for good (a cap raised since, a disk that was full). A second run beside a live
/// one is harmless — every phase is recorded and done once — so no job state is consulted;
/// once the report exists there is nothing left to run.
async fn retry(
    store: &dyn Store,
    clock: &dyn Clock,
    actor: &Actor,
    request: Request,
) -> Result<Request, Problem> {
    let reported = store
        .erasure(actor.account(), &request.id)
        .await?
        .is_some_and(|r| r.report.is_some());
    let exporting = request.fulfilment.export_first && !request.fulfilment.export_ids.is_empty();
    if reported || exporting {
        return Err(Problem::new(
            ErrorCode::IllegalTransition,
            format!(
                "request `{}` is being answered already ({}): follow it with GET /requests/{}",
                request.id,
                if reported {
                    "erased; the mail follows"
                } else {
                    "its export comes first"
                },
                request.id
            ),
        ));
    }
    let now = clock.now();
    let mut change = recorded(
        actor.audit_name(),
        "erasure_retried",
        &request,
        json!({}),
        now,
    );
    let mut job = erasure_job(&request.id, now);
    job.unique_key = Some(format!("request:{}:erasure:{now}", request.id));
    change.jobs.push(job);
    save(store, actor, request, change, now).await
}

/// Starts the erasure (or the export before it), from `fulfil` or `approve`.
pub async fn start(
    store: &dyn Store,
    clock: &dyn Clock,
    actor: &Actor,
    mut request: Request,
    step: &str,
    why: Option<String>,
) -> Result<Request, Problem> {
    if request.fulfilment.export_first {
        return super::fulfilment::generate(store, clock, actor, request, step, why).await;
    }
    let now = clock.now();
    request.status = RequestStatus::InProgress;
    let mut details = json!({"export_first": false});
    if let Some(why) = why {
        details["reason"] = json!(why);
    }
    let mut change = recorded(actor.audit_name(), step, &request, details, now);
    change.jobs.push(erasure_job(&request.id, now));
    let saved = save(store, actor, request, change, now).await?;
    tracing::info!(request.id = %saved.id, "erasure queued");
    Ok(saved)
}

/// `GET /requests/{id}/deletion-report`: the report and its SHA-256 (the digest the audit
/// entry `request.erasure_completed` carries).
pub async fn deletion_report(store: &dyn Store, actor: &Actor, id: &str) -> Result<Value, Problem> {
    let request = find(store, actor, id).await?;
    if request.kind != RequestType::Erasure {
        return Err(Problem::new(
            ErrorCode::DeletionReportNotReady,
            format!(
                "request `{id}` is an {} request: only erasure requests have a deletion report",
                request.kind.as_str()
            ),
        ));
    }
    match report_of(store, actor.account(), id).await? {
        Value::Null => Err(Problem::new(
            ErrorCode::DeletionReportNotReady,
            format!(
                "the erasure of request `{id}` has not finished (status `{}`): follow it with \
                 GET /requests/{id}, and fulfil it first if it is only verified",
                request.status.as_str()
            ),
        )),
        report => Ok(report),
    }
}

/// The report as `GET /requests/{id}` shows it (`null` until there is one).
pub async fn report_of(store: &dyn Store, account: AccountId, id: &str) -> Result<Value, Problem> {
    let Some(record) = store.erasure(account, id).await? else {
        return Ok(Value::Null);
    };
    Ok(match (record.report, record.report_sha256) {
        (Some(report), Some(sha)) => json!({"report": report, "report_sha256": sha}),
        _ => Value::Null,
    })
}
