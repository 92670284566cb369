//! The `request_mail` job kind, and the escalation pass that queues some of them.
//!
//! A mail is queued in the transaction that decided it (a verification sent, an extension, a rejection),
//! so a crash loses none; a transient relay failure is retried, a permanent one fails the job
//! and the request's timeline says so. A sent mail is a `mail_sent` step. Mails name the
//! request by id; the subject's address appears only as the recipient.
//!
//! The escalation pass (the run loop, beside the scheduler) looks at every request still
//! owing an answer and queues one mail to the account's privacy contact per threshold it has
//! reached (`due_soon`, `overdue`), keyed so that however often it looks, each goes once.

use std::collections::HashMap;

use ferry_deliver::DeliveryError;
use ferry_domain::request::{Request, RequestMail, RequestSettings, Step};
use ferry_domain::time::rfc3339_millis;
use serde_json::json;

use super::{Failure, Worker};
use crate::error_code::ErrorCode;
use crate::services::requests::deadlines::{due, escalation_job, threshold};
use crate::services::requests::verification::{code_hash, secrets};
use crate::services::requests::{audit_event, day_of};

impl Worker {
    /// Queues the escalation mail of every threshold a request has reached; returns how
    /// many this call queued.
    pub async fn enqueue_request_escalations(&self) -> anyhow::Result<usize> {
        let now = self.clock.now();
        let today = day_of(now);
        let mut settings: HashMap<i64, RequestSettings> = HashMap::new();
        let mut queued = 0;
        for (account, request) in self.store.requests_awaiting_answer().await? {
            if let std::collections::hash_map::Entry::Vacant(slot) = settings.entry(account.0) {
                slot.insert(self.store.request_settings(account).await?);
            }
            let s = &settings[&account.0];
            if s.privacy_contact.is_none() {
                continue;
            }
            let Some(threshold) = threshold(&request, s, today) else {
                continue;
            };
            let due_on = due(&request, s, today).due_on;
            let job = escalation_job(&request, threshold, due_on, now);
            if self.store.enqueue(job, now).await?.is_some() {
                tracing::info!(request.id = %request.id, threshold, "request escalated");
                queued += 1;
            }
        }
        if queued > 0 {
            self.wake.notify_one();
        }
        Ok(queued)
    }
}

pub(super) fn transient(e: impl std::fmt::Display) -> Failure {
    Failure {
        code: ErrorCode::DeliveryFailed,
        message: format!("the mail could not be sent now: {e}"),
        transient: true,
    }
}

pub(super) async fn run(
    worker: &Worker,
    request_id: &str,
    mail: &RequestMail,
) -> Result<(), Failure> {
    let store = worker.store.as_ref();
    let Some((account, request)) = store.request_any(request_id).await.map_err(transient)? else {
        return Ok(()); // erased meanwhile: nobody to write to
    };
    if request.visitor_only() {
        // No address on file: the subject follows the request on their status page.
        match mail {
            RequestMail::Delivery => {
                return super::request_delivery::on_status_page(worker, account, &request).await;
            }
            RequestMail::Escalation { .. } => {}
            _ => return Ok(()),
        }
    }
    let Some(setup) = worker.mail.as_deref() else {
        return Err(Failure::permanent(
            ErrorCode::MailRelayNotConfigured,
            "Ferry has no SMTP relay: set FERRY_SMTP_URL and FERRY_SMTP_FROM",
        ));
    };
    let (to, subject, text) = match mail {
        RequestMail::Delivery => {
            return super::request_delivery::run(worker, setup, account, &request).await;
        }
        RequestMail::ErasureCompleted => {
            return super::erasure::completed_mail(worker, setup, account, &request).await;
        }
        RequestMail::Verification { nonce } => {
            let (code, token) = secrets(&setup.links, &request.id, nonce);
            // A newer code replaced this one, or the request moved on: this mail is stale.
            let current = request.verification.code_hash.as_deref()
                == Some(code_hash(&setup.links, &request.id, &code).as_str());
            if !current || !request.status.is_unverified() {
                return Ok(());
            }
            let link = format!("{}/privacy/verify/{token}", setup.public_url);
            (
                request.subject_email.clone(),
                "Confirm your data request",
                verification_text(&request, &code, &link),
            )
        }
        RequestMail::Extension { due_on, reason } => (
            request.subject_email.clone(),
            "Your data request: more time is needed",
            format!(
                "We received your {} request (reference {}) on {}.\n\n\
                 We need more time to answer it, as GDPR Article 12(3) allows. You will have \
                 our answer by {due_on}.\n\nWhy: {reason}\n",
                request.kind.as_str(),
                request.id,
                request.received_on
            ),
        ),
        RequestMail::Rejection { reason } => {
            let statement = store
                .privacy_statement(account, None)
                .await
                .map_err(transient)?
                .map(|s| s.statement)
                .unwrap_or_default();
            (
                request.subject_email.clone(),
                "Your data request: we cannot act on it",
                rejection_text(&request, reason, &statement),
            )
        }
        RequestMail::Escalation { threshold, due_on } => {
            let settings = store.request_settings(account).await.map_err(transient)?;
            let Some(contact) = settings.privacy_contact.clone() else {
                return Ok(());
            };
            let days_left = due(&request, &settings, day_of(worker.clock.now())).days_left;
            let headline = match threshold.as_str() {
                "overdue" => format!("is overdue: it was due on {due_on}"),
                _ => format!("is due on {due_on}, in {days_left} day(s)"),
            };
            (
                contact,
                "Data-subject request needs attention",
                format!(
                    "Request {} ({}, received {}, status {}) {headline}.\n\n\
                     See it at {}/api/external/v1/requests/{}\n",
                    request.id,
                    request.kind.as_str(),
                    request.received_on,
                    request.status.as_str(),
                    setup.public_url,
                    request.id
                ),
            )
        }
    };
    let sent = setup.relay.send_text(&to, subject, text).await;
    record(worker, account, &request, mail, sent).await
}

fn verification_text(request: &Request, code: &str, link: &str) -> String {
    format!(
        "We received a {} request for the data we hold about this email address \
         (reference {}).\n\n\
         To confirm it is you, open this link and press \"Confirm\":\n\n{link}\n\n\
         or give us this code: {code}\n\n\
         The link and code work for 24 hours, until {}. If you did not ask, ignore this mail: \
         nothing happens without your confirmation.\n",
        request.kind.as_str(),
        request.id,
        request
            .verification
            .expires_at
            .map(rfc3339_millis)
            .unwrap_or_default()
    )
}

/// Art. 12(4): the reasons for not taking action, and the possibility of lodging a
/// complaint with a supervisory authority and seeking a judicial remedy. Names the
/// authority and a contact when the account's privacy statement has them.
fn rejection_text(
    request: &Request,
    reason: &str,
    statement: &ferry_domain::privacy_statement::PrivacyStatement,
) -> String {
    let mut text = format!(
        "We received your {} request (reference {}) on {}.\n\n\
         We are not taking action on it, for this reason:\n\n{reason}\n\n\
         You have the right to lodge a complaint with a data protection supervisory authority, \
         in particular in the EU country where you live or work or where you think the \
         infringement took place (GDPR Articles 12(4) and 77).\n\n",
        request.kind.as_str(),
        request.id,
        request.received_on,
    );
    if let Some(authority) = &statement.supervisory_authority {
        text.push_str(&format!(
            "The authority responsible for us:\n\n{authority}\n\n"
        ));
    }
    text.push_str(
        "You also have the right to seek a judicial remedy before a court (GDPR Article 79).\n\n",
    );
    if let Some(contact) = statement
        .dpo_contact
        .as_ref()
        .or(statement.controller.as_ref())
    {
        text.push_str(&format!(
            "To ask us about this decision, write to:\n\n{contact}\n"
        ));
    }
    text
}

/// The timeline's record of the attempt, and the job's outcome.
async fn record(
    worker: &Worker,
    account: ferry_domain::AccountId,
    request: &Request,
    mail: &RequestMail,
    sent: Result<(), DeliveryError>,
) -> Result<(), Failure> {
    let kind = match mail {
        RequestMail::Verification { .. } => "verification",
        RequestMail::Extension { .. } => "extension",
        RequestMail::Rejection { .. } => "rejection",
        RequestMail::Escalation { .. } => "escalation",
        RequestMail::Delivery => "delivery",
        RequestMail::ErasureCompleted => "erasure_completed",
    };
    let mut details = json!({"mail": kind});
    if let RequestMail::Escalation { threshold, .. } = mail {
        details["threshold"] = json!(threshold);
    }
    let (step, result) = match sent {
        Ok(()) => ("mail_sent", Ok(())),
        Err(DeliveryError::Transient(e)) => return Err(transient(e)),
        Err(DeliveryError::Permanent(e)) => {
            details["error"] = json!(e);
            (
                "mail_failed",
                Err(Failure::permanent(ErrorCode::DeliveryFailed, e)),
            )
        }
    };
    let now = worker.clock.now();
    let entry = audit_event("worker", step, request, details.clone());
    let step = Step {
        at: now,
        actor: "worker".into(),
        step: step.into(),
        details,
    };
    worker
        .store
        .add_request_step(account, &request.id, step, entry)
        .await
        .map_err(transient)?;
    result
}
