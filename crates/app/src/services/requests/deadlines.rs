//! Deadlines as they stand today: the due date shown and filtered on, extensions (Art.
//! 12(3): by at most two further months in all, with a reason the subject is told), and the
//! escalation thresholds a request has reached.

use chrono::NaiveDate;
use ferry_domain::queue::{JobKind, Lane, NewJob};
use ferry_domain::request::deadline::days_between;
use ferry_domain::request::{MAX_EXTENSION_MONTHS, Request, RequestMail, RequestSettings};
use ferry_store::Store;
use serde::Deserialize;
use serde_json::json;

use super::{day_of, find, reason, recorded, save};
use crate::clock::Clock;
use crate::error_code::{ErrorCode, Problem};
use crate::services::Actor;

/// A request's due date today, and how far off it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    pub due_on: NaiveDate,
    /// Negative once overdue.
    pub days_left: i64,
    /// Still owes an answer and the day has passed.
    pub overdue: bool,
}

pub fn due(request: &Request, settings: &RequestSettings, today: NaiveDate) -> Due {
    let due_on = request.deadline(today).due_on(&settings.holidays);
    let days_left = days_between(today, due_on);
    Due {
        due_on,
        days_left,
        overdue: request.status.awaits_answer() && days_left < 0,
    }
}

/// The escalation a request awaiting an answer has reached today, if any: `overdue` past
/// its due day, `due_soon` within `escalate_days` of it.
pub fn threshold(
    request: &Request,
    settings: &RequestSettings,
    today: NaiveDate,
) -> Option<&'static str> {
    if !request.status.awaits_answer() {
        return None;
    }
    let due = due(request, settings, today);
    if due.days_left < 0 {
        Some("overdue")
    } else if due.days_left <= i64::from(settings.escalate_days) {
        Some("due_soon")
    } else {
        None
    }
}

/// The mail of one threshold of one request: keyed so that it is queued once, whoever
/// looks how often. An extension starts the thresholds anew.
pub fn escalation_job(request: &Request, threshold: &str, due_on: NaiveDate, now: i64) -> NewJob {
    NewJob {
        unique_key: Some(format!(
            "request:{}:escalation:{threshold}:{}",
            request.id, request.extension_months
        )),
        ..NewJob::now(
            JobKind::RequestMail {
                request_id: request.id.clone(),
                mail: RequestMail::Escalation {
                    threshold: threshold.into(),
                    due_on,
                },
            },
            Lane::Default,
            now,
        )
    }
}

/// `POST /requests/{id}/extend`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Extension {
    pub months: u32,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Extends the answer by `months`, telling the subject why by mail (queued with the change).
pub async fn extend(
    store: &dyn Store,
    clock: &dyn Clock,
    actor: &Actor,
    id: &str,
    body: Extension,
) -> Result<Request, Problem> {
    if !(1..=MAX_EXTENSION_MONTHS).contains(&body.months) {
        return Err(Problem::new(
            ErrorCode::InvalidValue,
            format!("`months` is 1 or {MAX_EXTENSION_MONTHS}"),
        ));
    }
    let reason = reason(body.reason, true)?.unwrap_or_default();
    let mut request = find(store, actor, id).await?;
    if !request.status.awaits_answer() {
        return Err(Problem::new(
            ErrorCode::IllegalTransition,
            format!(
                "a request that is {} owes no answer any more: only one that is received, \
                 verification_sent, verified or in_progress can be extended",
                request.status.as_str()
            ),
        ));
    }
    let total = request.extension_months + body.months;
    if total > MAX_EXTENSION_MONTHS {
        return Err(Problem::new(
            ErrorCode::ExtensionLimit,
            format!(
                "this request was extended by {} month(s) already; GDPR Art. 12(3) allows at most \
                 {MAX_EXTENSION_MONTHS} further months in all",
                request.extension_months
            ),
        ));
    }
    let now = clock.now();
    let settings = store.request_settings(actor.account()).await?;
    request.extension_months = total;
    request.due_on = request.deadline(day_of(now)).due_on(&settings.holidays);
    let details = json!({
        "months": body.months,
        "extension_months": total,
        "due_on": request.due_on,
        "reason": reason,
    });
    let mut change = recorded(actor.audit_name(), "extended", &request, details, now);
    change.jobs.push(NewJob {
        unique_key: Some(format!("request:{}:extension:{total}", request.id)),
        ..NewJob::now(
            JobKind::RequestMail {
                request_id: request.id.clone(),
                mail: RequestMail::Extension {
                    due_on: request.due_on,
                    reason,
                },
            },
            Lane::Default,
            now,
        )
    });
    let saved = save(store, actor, request, change, now).await?;
    tracing::info!(request.id = %saved.id, months = total, "request extended");
    Ok(saved)
}
