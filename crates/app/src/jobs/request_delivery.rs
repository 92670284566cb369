//! Delivering a fulfilled request: once every export of an `in_progress` request has
//! completed, one `request_mail` job (kind `delivery`, unique per request) mails the subject
//! the download links and the "I received it" link; sending it makes the request
//! `delivered` and sets its exports' receipts to `delivery_method: "email"` and
//! `delivered_at`, in one transaction.
//!
//! Who notices that the exports completed: the driver, as an export job ends (at once), and
//! the run loop's pass over requests (every few seconds), so a crash between an export's
//! completion and the queueing of its mail loses nothing. The job's unique key makes the two
//! queue it once. The export job itself knows nothing of requests.

use ferry_domain::AccountId;
use ferry_domain::job::ExportStatus;
use ferry_domain::queue::{JobKind, Lane, NewJob};
use ferry_domain::request::{Request, RequestAction, RequestMail, RequestStatus};
use ferry_domain::time::{rfc3339_millis, whole_seconds};
use ferry_store::StoreError;
use serde_json::json;

use super::{Failure, MailSetup, Worker};
use crate::audit::export_event;
use crate::error_code::ErrorCode;
use crate::services::requests::fulfilment::receipt_token;
use crate::services::requests::recorded;

/// The driver's call as an export job completes.
pub(super) async fn export_finished(worker: &Worker, export_id: &str) {
    match worker.store.request_by_export(export_id).await {
        Ok(Some((account, request))) => {
            if let Err(e) = queue_if_ready(worker, account, &request).await {
                tracing::warn!(error = %e, request.id = %request.id, "cannot queue a request's delivery");
            }
        }
        Ok(None) => {}
        Err(e) => {
            tracing::warn!(error = %e, export.id = %export_id, "cannot look up an export's request")
        }
    }
}

/// The driver's call as an export job fails for good: the request's timeline says so, and
/// `fulfil` may then ask for new exports.
pub(super) async fn export_failed(worker: &Worker, export_id: &str, code: &str) {
    let Ok(Some((account, request))) = worker.store.request_by_export(export_id).await else {
        return;
    };
    let details = json!({"export_id": export_id, "code": code});
    let entry = crate::services::requests::audit_event(
        "worker",
        "export_failed",
        &request,
        details.clone(),
    );
    let step = ferry_domain::request::Step {
        at: worker.clock.now(),
        actor: "worker".into(),
        step: "export_failed".into(),
        details,
    };
    if let Err(e) = worker
        .store
        .add_request_step(account, &request.id, step, entry)
        .await
    {
        tracing::warn!(error = %e, request.id = %request.id, "cannot record a request's failed export");
    }
}

impl Worker {
    /// Queues the delivery of every `in_progress` request whose exports have all completed
    /// and whose delivery is not queued yet; returns how many this call queued.
    pub async fn enqueue_request_deliveries(&self) -> anyhow::Result<usize> {
        let mut queued = 0;
        for (account, request) in self.store.requests_awaiting_answer().await? {
            if request.status == RequestStatus::InProgress
                && !request.fulfilment.export_ids.is_empty()
                && queue_if_ready(self, account, &request).await?
            {
                queued += 1;
            }
        }
        Ok(queued)
    }
}

async fn queue_if_ready(
    worker: &Worker,
    account: AccountId,
    request: &Request,
) -> Result<bool, StoreError> {
    for id in &request.fulfilment.export_ids {
        match worker.store.export_job(account, id).await? {
            Some(job) if job.status == ExportStatus::Completed => {}
            _ => return Ok(false),
        }
    }
    let now = worker.clock.now();
    // An erasure that exported first erases now; its mail goes out when the erasure ends.
    if request.kind == ferry_domain::request::RequestType::Erasure {
        let job = crate::services::requests::erasure::erasure_job(&request.id, now);
        let queued = worker.store.enqueue(job, now).await?.is_some();
        if queued {
            worker.wake.notify_one();
        }
        return Ok(queued);
    }
    let job = NewJob {
        unique_key: Some(format!("request:{}:delivery", request.id)),
        ..NewJob::now(
            JobKind::RequestMail {
                request_id: request.id.clone(),
                mail: RequestMail::Delivery,
            },
            Lane::Default,
            now,
        )
    };
    let queued = worker.store.enqueue(job, now).await?.is_some();
    if queued {
        tracing::info!(request.id = %request.id, "request delivery queued");
        worker.wake.notify_one();
    }
    Ok(queued)
}

/// Sends the mail and records the delivery. A request no longer `in_progress` (rejected or
/// cancelled meanwhile) gets no mail.
pub(super) async fn run(
    worker: &Worker,
    setup: &MailSetup,
    account: AccountId,
    request: &Request,
) -> Result<(), Failure> {
    let Some(jobs) = completed(worker, account, request).await? else {
        return Ok(());
    };
    let text = mail_text(setup, request, &jobs);
    let sent = setup
        .relay
        .send_text(&request.subject_email, "Your data is ready", text)
        .await;
    match sent {
        Ok(()) => {}
        Err(ferry_deliver::DeliveryError::Transient(e)) => {
            return Err(super::request_mail::transient(e));
        }
        Err(ferry_deliver::DeliveryError::Permanent(e)) => {
            return Err(Failure::permanent(ErrorCode::DeliveryFailed, e));
        }
    }
    record(worker, account, &request.id, &jobs, "email").await
}

/// A request by visitor id alone: nothing is mailed (there is no address); the subject's
/// status page in their browser shows the links once the request is `delivered`.
pub(super) async fn on_status_page(
    worker: &Worker,
    account: AccountId,
    request: &Request,
) -> Result<(), Failure> {
    let Some(jobs) = completed(worker, account, request).await? else {
        return Ok(());
    };
    record(worker, account, &request.id, &jobs, "privacy_page").await
}

/// The request's completed exports, or `None` when it is no longer `in_progress`.
async fn completed(
    worker: &Worker,
    account: AccountId,
    request: &Request,
) -> Result<Option<Vec<ferry_domain::job::ExportJob>>, Failure> {
    if request.status != RequestStatus::InProgress {
        return Ok(None);
    }
    let store = worker.store.as_ref();
    let mut jobs = Vec::new();
    for id in &request.fulfilment.export_ids {
        let job = store
            .export_job(account, id)
            .await
            .map_err(super::request_mail::transient)?
            .filter(|j| j.status == ExportStatus::Completed)
            .ok_or_else(|| {
                Failure::permanent(
                    ErrorCode::DeliveryFailed,
                    format!("export {id} of the request is no longer available: fulfil it again"),
                )
            })?;
        jobs.push(job);
    }
    Ok(Some(jobs))
}

/// One signed download link per file of `jobs`, and when the last of them expires.
pub(super) fn links(
    setup: &MailSetup,
    jobs: &[ferry_domain::job::ExportJob],
) -> (String, Option<chrono::DateTime<chrono::Utc>>) {
    let mut links = String::new();
    let mut until = None;
    for job in jobs {
        let expires = job.expires_at.map_or(0, |t| t.timestamp_millis());
        until = until.max(job.expires_at);
        for (i, file) in job.files.iter().enumerate() {
            links.push_str(&format!(
                "{} ({} bytes)\n{}/download/{}\n\n",
                file.name,
                file.bytes,
                setup.public_url,
                setup.links.sign(&job.id, i, expires)
            ));
        }
    }
    (links, until)
}

fn mail_text(
    setup: &MailSetup,
    request: &Request,
    jobs: &[ferry_domain::job::ExportJob],
) -> String {
    let (links, until) = links(setup, jobs);
    let once = if request.fulfilment.one_time {
        " Each link works once."
    } else {
        ""
    };
    let encrypted = jobs
        .iter()
        .find_map(|j| j.spec.encryption.as_ref())
        .map(|e| {
            format!(
                "The files are encrypted to the OpenPGP key {}.\n\n",
                e.fingerprint
            )
        })
        .unwrap_or_default();
    format!(
        "Your {} request (reference {}) is answered: here is the data we hold about you.\n\n\
         {links}The links work until {}.{once}\n\n{encrypted}\
         Once you have it, please tell us you received it:\n\n{}/privacy/received/{}\n",
        request.kind.as_str(),
        request.id,
        until
            .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default(),
        setup.public_url,
        receipt_token(&setup.links, &request.id)
    )
}

/// `delivered`, with the receipts and an audit entry per export. Re-read and retried when
/// someone changed the request meanwhile (a note, an assignee): the mail went out, so the
/// record must follow.
async fn record(
    worker: &Worker,
    account: AccountId,
    id: &str,
    jobs: &[ferry_domain::job::ExportJob],
    method: &str,
) -> Result<(), Failure> {
    let store = worker.store.as_ref();
    for _ in 0..3 {
        let Some(mut request) = store
            .request(account, id)
            .await
            .map_err(super::request_mail::transient)?
        else {
            return Ok(());
        };
        let Ok(delivered) = request.status.after(RequestAction::Deliver) else {
            return Ok(());
        };
        request.status = delivered;
        let now = worker.clock.now();
        let at = whole_seconds(now).timestamp_millis();
        let details = json!({
            "delivery_method": method,
            "export_ids": request.fulfilment.export_ids,
            "links_expire_at": jobs.iter().filter_map(|j| j.expires_at).min().map(|t| rfc3339_millis(t.timestamp_millis())),
        });
        let mut change = recorded("worker", "delivered", &request, details, now);
        for job in jobs {
            let details = json!({"delivery_method": method, "request_id": request.id});
            change.audit.push(export_event(
                "worker",
                "data_export.delivered",
                &job.id,
                &job.spec,
                "ok",
                details,
            ));
        }
        match store
            .deliver_request(account, request, change, method, at, now)
            .await
        {
            Ok(_) => {
                tracing::info!(request.id = %id, "request delivered");
                return Ok(());
            }
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(super::request_mail::transient(e)),
        }
    }
    Err(super::request_mail::transient(
        "the request kept changing while its delivery was recorded",
    ))
}
