//! How a data-subject request looks in the API: its deadline as it stands today, its
//! verification (never a code, token or hash), the steps it can take, and its timeline.

use chrono::NaiveDate;
use ferry_domain::request::{
    MAX_EXTENSION_MONTHS, MAX_VERIFICATION_ATTEMPTS, Request, RequestSettings, Step,
};
use ferry_domain::time::rfc3339_millis;
use serde_json::{Value, json};

use crate::services::requests::deadlines::due;

fn verification(r: &Request) -> Value {
    let v = &r.verification;
    let state = if v.verified_at.is_some() {
        "verified"
    } else if v.locked {
        "locked"
    } else if v.code_hash.is_some() {
        "sent"
    } else {
        "none"
    };
    json!({
        "state": state,
        "method": v.method,
        "verified_at": v.verified_at.map(rfc3339_millis),
        "expires_at": v.expires_at.filter(|_| state == "sent").map(rfc3339_millis),
        "attempts_left": MAX_VERIFICATION_ATTEMPTS.saturating_sub(v.attempts),
    })
}

/// How the request is being answered (never the subject's key itself: its fingerprint is on
/// the exports).
fn fulfilment(r: &Request) -> Value {
    let f = &r.fulfilment;
    if f.export_ids.is_empty()
        && !r
            .status
            .eq(&ferry_domain::request::RequestStatus::AwaitingApproval)
    {
        return Value::Null;
    }
    let encryption = if f.no_encryption {
        "none"
    } else if f.pgp_public_key.is_some() {
        "subject_key"
    } else {
        "account_default"
    };
    json!({"export_ids": f.export_ids, "one_time": f.one_time, "encryption": encryption})
}

pub fn view(r: &Request, settings: &RequestSettings, today: NaiveDate) -> Value {
    let due = due(r, settings, today);
    json!({
        "id": r.id,
        "type": r.kind.as_str(),
        "status": r.status.as_str(),
        "subject": {
            "email": (!r.visitor_only()).then_some(&r.subject_email),
            "user_id": r.user_id,
            "visitor_id": r.visitor_id,
            "website_id": r.subject_website_id,
            "label": r.subject_label(),
        },
        "received_at": rfc3339_millis(r.received_at),
        "received_on": r.received_on,
        "due_on": due.due_on,
        "due_rule": r.due_rule.as_str(),
        "days_left": due.days_left,
        "overdue": due.overdue,
        "clock": {
            "runs_while_unverified": r.clock_runs_while_unverified,
            "stopped": r.clock_stopped(),
            "paused_days": r.deadline(today).paused_days,
        },
        "extension": {"months": r.extension_months, "max_months": MAX_EXTENSION_MONTHS},
        "verification": verification(r),
        "fulfilment": fulfilment(r),
        "assignee": r.assignee,
        "notes": r.notes,
        "linked_to": r.linked_to,
        "external_ref": r.external_ref,
        "allowed_actions": r.status.allowed().iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        "created_at": rfc3339_millis(r.created_at),
        "updated_at": rfc3339_millis(r.updated_at),
    })
}

pub fn timeline(steps: &[Step]) -> Value {
    json!(
        steps
            .iter()
            .map(|s| json!({
                "at": rfc3339_millis(s.at),
                "actor": s.actor,
                "step": s.step,
                "details": s.details,
            }))
            .collect::<Vec<_>>()
    )
}
