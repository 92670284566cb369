//! The `erasure` job kind: one erasure request's deletion, phase by phase
//! ([`ferry_domain::erasure::ErasurePhase`]), each recorded by the store before the next
//! starts, so a run killed anywhere is retried and resumes to the same report:
//!
//! 1. rows: the store deletes the person's rows, rebuilds their rollup buckets and forgets
//!    their days' segments, in one transaction with the counts;
//! 2. artifacts: the files of the exports that held them are deleted from the artifact store,
//!    and segment files no record points to any more are removed;
//! 3. report: the check after the fact ([`super::erasure_report`]), the report, its SHA-256
//!    in the audit entry `request.erasure_completed`, and the subject's mail queued — in one
//!    transaction;
//! 4. after the mail ([`completed_mail`]): the request is `delivered` and the store scrubs the
//!    person's identifiers from the request and the audit trail.

use ferry_domain::AccountId;
use ferry_domain::erasure::{ErasurePhase, ErasureRecord};
use ferry_domain::queue::{JobKind, Lane, NewJob};
use ferry_domain::request::{Request, RequestAction, RequestMail, RequestStatus, RequestType};
use serde_json::json;

use super::{Failure, MailSetup, Worker};
use crate::error_code::ErrorCode;
use crate::services::requests::recorded;

fn transient(e: impl std::fmt::Display) -> Failure {
    Failure {
        code: ErrorCode::InternalError,
        message: format!("the erasure could not go on now and will be retried: {e}"),
        transient: true,
    }
}

pub(super) async fn run(worker: &Worker, request_id: &str) -> Result<(), Failure> {
    let store = worker.store.as_ref();
    let Some((account, request)) = store.request_any(request_id).await.map_err(transient)? else {
        return Ok(());
    };
    if request.kind != RequestType::Erasure {
        return Ok(());
    }
    let mut record = match store
        .erasure(account, request_id)
        .await
        .map_err(transient)?
    {
        Some(record) => record,
        // Rejected or cancelled before it started: nothing to do.
        None if request.status != RequestStatus::InProgress => return Ok(()),
        None => {
            check_size(worker, account, &request).await?;
            let record = store
                .erase_rows(
                    account,
                    request_id,
                    &request.subject_email,
                    request.fulfilment.export_ids.clone(),
                    worker.clock.now(),
                )
                .await
                .map_err(transient)?;
            tracing::info!(request.id = %request_id, "erasure: rows deleted");
            record
        }
    };
    if record.phase == Some(ErasurePhase::RowsDeleted) {
        record = delete_files(worker, account, request_id, &record).await?;
        tracing::info!(request.id = %request_id, "erasure: files deleted");
    }
    if record.phase == Some(ErasurePhase::ArtifactsDeleted) {
        report(worker, account, request, &record).await?;
        tracing::info!(request.id = %request_id, "erasure: reported");
    }
    Ok(())
}

/// A "person" linked to more visitors than one export reads is a bot or an attack (anyone may
/// link anonymous visitors to a user id they made up): erasing them all at their word would
/// delete other people's traffic, so the erasure stops and a person decides.
async fn check_size(worker: &Worker, account: AccountId, request: &Request) -> Result<(), Failure> {
    let by = ferry_domain::export::SubjectRef::Email(request.subject_email.clone());
    let found = worker
        .store
        .find_subject(account, &by, None)
        .await
        .map_err(transient)?;
    let linked = found.map_or(0, |s| s.identities.len());
    let cap = worker.settings.max_subject_visitors;
    if linked > cap {
        return Err(Failure::permanent(
            ErrorCode::TooManyVisitors,
            format!(
                "this email resolves to {linked} visitors, more than the {cap} one person may \
                 have: check GET /requests/{{id}} identities, and ask the operator to raise \
                 --max-subject-visitors if they are all this person's"
            ),
        ));
    }
    Ok(())
}

async fn delete_files(
    worker: &Worker,
    account: AccountId,
    request_id: &str,
    record: &ErasureRecord,
) -> Result<ErasureRecord, Failure> {
    let mut artifact_files = 0u64;
    for export in &record.exports {
        artifact_files += worker.artifacts.list(export).await.map_or(0, |f| f.len()) as u64;
        worker.artifacts.delete(export).await.map_err(transient)?;
    }
    let segment_files = match &worker.segments {
        Some(files) => super::erasure_report::remove_orphan_segments(worker, files)
            .await
            .map_err(transient)?,
        None => 0,
    };
    worker
        .store
        .erase_exports(
            account,
            request_id,
            artifact_files,
            segment_files,
            worker.clock.now(),
        )
        .await
        .map_err(transient)
}

async fn report(
    worker: &Worker,
    account: AccountId,
    request: Request,
    record: &ErasureRecord,
) -> Result<(), Failure> {
    let (report, sha) = super::erasure_report::build(worker, account, &request, record)
        .await
        .map_err(transient)?;
    let now = worker.clock.now();
    let details = json!({
        "report_sha256": sha,
        "removed": report["removed"],
        "nothing_remains": report["nothing_remains"],
    });
    let mut change = recorded("worker", "erasure_completed", &request, details, now);
    change.jobs.push(NewJob {
        unique_key: Some(format!("request:{}:erasure_mail", request.id)),
        ..NewJob::now(
            JobKind::RequestMail {
                request_id: request.id.clone(),
                mail: RequestMail::ErasureCompleted,
            },
            Lane::Default,
            now,
        )
    });
    worker
        .store
        .record_erasure_report(account, request, change, report, sha, now)
        .await
        .map_err(transient)?;
    worker.wake.notify_one();
    Ok(())
}

/// The subject's mail that their data is erased (with their copy's links when they asked
/// for one first); then the request is `delivered` and the person scrubbed. A retry after the
/// mail went out only finishes the scrub.
pub(super) async fn completed_mail(
    worker: &Worker,
    setup: &MailSetup,
    account: AccountId,
    request: &Request,
) -> Result<(), Failure> {
    let store = worker.store.as_ref();
    let record = store
        .erasure(account, &request.id)
        .await
        .map_err(transient)?;
    let Some(record) = record else {
        return Ok(());
    };
    if request.status == RequestStatus::InProgress {
        let text = mail_text(worker, setup, account, request, &record).await?;
        let sent = setup
            .relay
            .send_text(&request.subject_email, "Your data has been erased", text)
            .await;
        match sent {
            Ok(()) => {}
            Err(ferry_deliver::DeliveryError::Transient(e)) => {
                return Err(super::request_mail::transient(e));
            }
            Err(ferry_deliver::DeliveryError::Permanent(e)) => {
                // The address bounces for good: the person's identifiers must not wait for a
                // mail that will never go, so the scrub runs all the same.
                if record.phase != Some(ErasurePhase::Scrubbed) {
                    scrub(worker, setup, account, request).await?;
                }
                return Err(Failure::permanent(ErrorCode::DeliveryFailed, e));
            }
        }
        delivered(worker, account, &request.id, &record).await?;
    }
    if record.phase == Some(ErasurePhase::Scrubbed) {
        return Ok(());
    }
    scrub(worker, setup, account, request).await
}

/// Keeps only digests of the person: the request a keyed hash of the email, the audit trail
/// SHA-256 of the identifiers.
async fn scrub(
    worker: &Worker,
    setup: &MailSetup,
    account: AccountId,
    request: &Request,
) -> Result<(), Failure> {
    let erased = format!(
        "erased:{}",
        hex(setup.links.derive("erased-email", &request.subject_email))
    );
    let pseudonymised = worker
        .store
        .scrub_erasure(account, &request.id, &erased, worker.clock.now())
        .await
        .map_err(transient)?;
    tracing::info!(request.id = %request.id, audit_entries = pseudonymised, "erasure: scrubbed");
    Ok(())
}

fn hex(bytes: impl AsRef<[u8]>) -> String {
    bytes.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

async fn mail_text(
    worker: &Worker,
    setup: &MailSetup,
    account: AccountId,
    request: &Request,
    record: &ErasureRecord,
) -> Result<String, Failure> {
    let mut copy = String::new();
    let mut jobs = Vec::new();
    for id in &request.fulfilment.export_ids {
        if let Some(job) = worker
            .store
            .export_job(account, id)
            .await
            .map_err(transient)?
        {
            jobs.push(job);
        }
    }
    if !jobs.is_empty() {
        let (links, until) = super::request_delivery::links(setup, &jobs);
        copy = format!(
            "As you asked, here is a copy of the data first. The links work until {}; then the \
             copy is deleted too.\n\n{links}",
            until
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default()
        );
    }
    Ok(format!(
        "Your erasure request (reference {}) is done: the data we held about you is deleted, \
         from our analytics, their aggregates and every export file that held it.\n\n\
         Our deletion report (digest {}) records what was removed and that nothing remains.\n\n\
         {copy}",
        request.id,
        record.report_sha256.as_deref().unwrap_or("")
    ))
}

/// `delivered`, retried when someone changed the request meanwhile (the mail went out).
async fn delivered(
    worker: &Worker,
    account: AccountId,
    id: &str,
    record: &ErasureRecord,
) -> Result<(), Failure> {
    let store = worker.store.as_ref();
    for _ in 0..3 {
        let Some(mut request) = store.request(account, id).await.map_err(transient)? else {
            return Ok(());
        };
        let Ok(next) = request.status.after(RequestAction::Deliver) else {
            return Ok(());
        };
        request.status = next;
        let now = worker.clock.now();
        let details = json!({"delivery_method": "email", "report_sha256": record.report_sha256});
        let change = recorded("worker", "delivered", &request, details, now);
        match store.save_request(account, request, change, now).await {
            Ok(_) => return Ok(()),
            Err(ferry_store::StoreError::Conflict(_)) => continue,
            Err(e) => return Err(transient(e)),
        }
    }
    Err(transient(
        "the request kept changing while its delivery was recorded",
    ))
}
