//! Data-subject requests: receiving one, listing, assigning, and moving it through its status
//! machine (`ferry_domain::request::status`). Every change is one store write that carries
//! its timeline step, its `request.*` audit entry and any mail it sends, so nothing is done
//! that is not recorded. The audit entry names the subject as `email:…`, as an export's
//! entries do; log lines name only the request id.
//!
//! - [`settings`]: the account's rule, holidays, clock and escalation settings.
//! - [`verification`]: the one-time code and link that prove the subject's identity.
//! - [`deadlines`]: the due date as it stands today, extensions and escalations.
//! - [`fulfilment`]: the subject's export for an access or portability request, approval,
//!   and the subject's "I received it".
//! - [`erasure`]: an erasure request's start (the `erasure` job does the deleting) and its
//!   deletion report.
//! - [`import`]: many requests at once from CSV or NDJSON, idempotent by `external_ref`.
//! - [`queue`]: the account's requests filtered by status and deadline (API and dashboard).
//! - [`self_service`]: a request from the subject's own privacy page, and its page tokens.
//! - [`by_visitor`]: a request by visitor id alone, from the privacy page in that browser.
//!
//! Fulfilment (the export), erasure and the privacy page build on [`advance`]: it takes any
//! action the status machine allows.

pub mod by_visitor;
pub mod deadlines;
pub mod erasure;
pub mod fulfilment;
pub mod import;
pub mod queue;
pub mod self_service;
pub mod settings;
pub mod verification;

use chrono::NaiveDate;
use ferry_domain::Millis;
use ferry_domain::audit::AuditEvent;
use ferry_domain::queue::{JobKind, Lane, NewJob};
use ferry_domain::request::{
    Deadline, Request, RequestAction, RequestMail, RequestStatus, RequestType, Step, Verification,
    normalize_email,
};
use ferry_store::{Created, RequestChange, Store, StoreError};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Actor;
use crate::clock::Clock;
use crate::error_code::{ErrorCode, Problem};
use crate::keys::random_id;

/// Longest user id, visitor id, external reference or assignee taken.
pub const MAX_NAME: usize = 200;
/// Longest notes or reason taken.
pub const MAX_TEXT: usize = 10_000;

/// `POST /requests`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    #[serde(rename = "type")]
    pub kind: String,
    pub subject_email: String,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub visitor_id: Option<String>,
    /// `YYYY-MM-DD` or RFC 3339; default now. Never in the future.
    #[serde(default)]
    pub received_at: Option<String>,
    #[serde(default)]
    pub assignee: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub external_ref: Option<String>,
}

/// The UTC day of `at`.
pub fn day_of(at: Millis) -> NaiveDate {
    chrono::DateTime::from_timestamp_millis(at)
        .unwrap_or_default()
        .date_naive()
}

/// The entry every request change writes: the subject named as an export's entries name
/// them, so the audit trail's subject filter finds requests and exports of one person.
pub fn audit_event(actor: &str, action: &str, request: &Request, details: Value) -> AuditEvent {
    let mut details = details;
    if let Value::Object(map) = &mut details {
        map.insert("request_id".into(), json!(request.id));
        map.insert("type".into(), json!(request.kind.as_str()));
    }
    AuditEvent {
        actor: actor.to_string(),
        action: format!("request.{action}"),
        subject: Some(request.audit_subject()),
        data_types: Vec::new(),
        status: "ok".into(),
        export_id: None,
        details,
        person: None,
    }
}

/// One step and its audit entry, with the same details.
pub fn recorded(
    actor: &str,
    step: &str,
    request: &Request,
    details: Value,
    now: Millis,
) -> RequestChange {
    RequestChange {
        steps: vec![Step {
            at: now,
            actor: actor.to_string(),
            step: step.to_string(),
            details: details.clone(),
        }],
        audit: vec![audit_event(actor, step, request, details)],
        jobs: Vec::new(),
    }
}

pub fn not_found(id: &str) -> Problem {
    Problem::new(
        ErrorCode::RequestNotFound,
        format!("no request `{id}` in this account: list them with GET /api/external/v1/requests"),
    )
}

fn text_field(name: &str, value: Option<String>, max: usize) -> Result<Option<String>, Problem> {
    let Some(value) = value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    if value.chars().count() > max
        || value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(Problem::new(
            ErrorCode::InvalidValue,
            format!("`{name}` must be at most {max} characters of text"),
        ));
    }
    Ok(Some(value))
}

fn received_at(raw: Option<&str>, now: Millis) -> Result<Millis, Problem> {
    let Some(raw) = raw else { return Ok(now) };
    let at = match raw.parse::<NaiveDate>() {
        Ok(day) => day
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_millis()),
        Err(_) => chrono::DateTime::parse_from_rfc3339(raw)
            .ok()
            .map(|t| t.timestamp_millis()),
    };
    let earliest = chrono::NaiveDate::from_ymd_opt(2016, 4, 27)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or_default();
    match at {
        Some(at) if at <= now && at >= earliest => Ok(at),
        _ => Err(Problem::new(
            ErrorCode::InvalidTimestamp,
            "`received_at` is the day (YYYY-MM-DD) or instant (RFC 3339) the request arrived: \
             not in the future, not before the GDPR (2016-04-27)",
        )),
    }
}

/// Receives a request: its deadline under the account's settings now, linked to an open
/// request of the same email if there is one. With an `external_ref` the account used before,
/// nothing is written and that request is returned (`false`).
pub async fn create(
    store: &dyn Store,
    clock: &dyn Clock,
    actor: &Actor,
    body: NewRequest,
) -> Result<(Request, bool), Problem> {
    let now = clock.now();
    let settings = store.request_settings(actor.account()).await?;
    let (request, change) = prepare(actor, body, &settings, now)?;
    match store
        .create_request(actor.account(), request, change, now)
        .await?
    {
        Created::New(created) => {
            tracing::info!(request.id = %created.id, linked = created.linked_to.is_some(), "request received");
            Ok((created, true))
        }
        Created::Existing(existing) => Ok((existing, false)),
    }
}

/// A checked new request under the account's settings, and what records its receipt.
pub fn prepare(
    actor: &Actor,
    body: NewRequest,
    settings: &ferry_domain::request::RequestSettings,
    now: Millis,
) -> Result<(Request, RequestChange), Problem> {
    let kind = RequestType::parse(&body.kind).ok_or_else(|| {
        Problem::new(
            ErrorCode::InvalidValue,
            "`type` is `access`, `portability` or `erasure`",
        )
    })?;
    let email = normalize_email(&body.subject_email)
        .map_err(|m| Problem::new(ErrorCode::InvalidValue, m))?;
    build(actor, kind, email, body, settings, now)
}

/// The new request for `email` (checked, or `""` for a request by visitor id alone).
fn build(
    actor: &Actor,
    kind: RequestType,
    email: String,
    body: NewRequest,
    settings: &ferry_domain::request::RequestSettings,
    now: Millis,
) -> Result<(Request, RequestChange), Problem> {
    let received_at = received_at(body.received_at.as_deref(), now)?;
    let received_on = day_of(received_at);
    let deadline = Deadline {
        received_on,
        rule: settings.due_rule,
        paused_days: 0,
        extension_months: 0,
    };
    let request = Request {
        id: random_id("req_", 8),
        kind,
        subject_email: email,
        user_id: text_field("user_id", body.user_id, MAX_NAME)?,
        visitor_id: text_field("visitor_id", body.visitor_id, MAX_NAME)?,
        subject_website_id: None,
        received_at,
        received_on,
        due_rule: settings.due_rule,
        clock_runs_while_unverified: settings.clock_runs_while_unverified,
        paused_days: 0,
        extension_months: 0,
        due_on: deadline.due_on(&settings.holidays),
        status: RequestStatus::Received,
        assignee: text_field("assignee", body.assignee, MAX_NAME)?,
        notes: text_field("notes", body.notes, MAX_TEXT)?,
        linked_to: None,
        external_ref: text_field("external_ref", body.external_ref, MAX_NAME)?,
        verification: Verification::default(),
        fulfilment: Default::default(),
        version: 0,
        created_at: now,
        updated_at: now,
    };
    let details = json!({
        "received_on": received_on,
        "due_on": request.due_on,
        "due_rule": request.due_rule.as_str(),
        "external_ref": request.external_ref,
    });
    let change = recorded(actor.audit_name(), "received", &request, details, now);
    Ok((request, change))
}

pub async fn find(store: &dyn Store, actor: &Actor, id: &str) -> Result<Request, Problem> {
    store
        .request(actor.account(), id)
        .await?
        .ok_or_else(|| not_found(id))
}

/// Saves `request` (changed from a copy read just before) with what records the change.
pub async fn save(
    store: &dyn Store,
    actor: &Actor,
    request: Request,
    change: RequestChange,
    now: Millis,
) -> Result<Request, Problem> {
    let id = request.id.clone();
    match store
        .save_request(actor.account(), request, change, now)
        .await
    {
        Ok(saved) => Ok(saved),
        Err(StoreError::NotFound) => Err(not_found(&id)),
        Err(e) => Err(e.into()),
    }
}

/// The status `action` leads to from `request`'s, or a 409 saying what is allowed.
pub fn next_status(request: &Request, action: RequestAction) -> Result<RequestStatus, Problem> {
    request
        .status
        .after(action)
        .map_err(|e| Problem::new(ErrorCode::IllegalTransition, e.to_string()))
}

/// Takes `action` (any the status machine allows from the request's status), recording
/// `details` with the step. Verification has its own calls, which check the code first.
pub async fn advance(
    store: &dyn Store,
    clock: &dyn Clock,
    actor: &Actor,
    id: &str,
    action: RequestAction,
    details: Value,
) -> Result<Request, Problem> {
    let mut request = find(store, actor, id).await?;
    request.status = next_status(&request, action)?;
    let now = clock.now();
    let step = match request.status {
        RequestStatus::InProgress => "started",
        other => other.as_str(),
    };
    let reason = details["reason"].as_str().map(str::to_string);
    let mut change = recorded(actor.audit_name(), step, &request, details, now);
    if let (RequestStatus::Rejected, Some(reason)) = (request.status, reason) {
        change.jobs.push(rejection_mail(&request, reason, now));
    }
    let saved = save(store, actor, request, change, now).await?;
    tracing::info!(request.id = %saved.id, status = saved.status.as_str(), "request moved");
    Ok(saved)
}

/// The subject is told a refusal, its reason and their remedies (Art. 12(4)), by a mail
/// queued with the change, so a crash loses none; one per request (it is rejected once).
fn rejection_mail(request: &Request, reason: String, now: Millis) -> NewJob {
    NewJob {
        unique_key: Some(format!("request:{}:rejection", request.id)),
        ..NewJob::now(
            JobKind::RequestMail {
                request_id: request.id.clone(),
                mail: RequestMail::Rejection { reason },
            },
            Lane::Default,
            now,
        )
    }
}

/// `PATCH /requests/{id}`: who handles it, and the notes. `""` clears either.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    #[serde(default)]
    pub assignee: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

pub async fn update(
    store: &dyn Store,
    clock: &dyn Clock,
    actor: &Actor,
    id: &str,
    change: Change,
) -> Result<Request, Problem> {
    if change.assignee.is_none() && change.notes.is_none() {
        return Err(Problem::new(
            ErrorCode::MissingField,
            "send `assignee` and/or `notes` (\"\" clears one)",
        ));
    }
    let mut request = find(store, actor, id).await?;
    let mut fields = Vec::new();
    if let Some(assignee) = change.assignee {
        request.assignee = text_field("assignee", Some(assignee), MAX_NAME)?;
        fields.push("assignee");
    }
    if let Some(notes) = change.notes {
        request.notes = text_field("notes", Some(notes), MAX_TEXT)?;
        fields.push("notes");
    }
    let now = clock.now();
    // The notes themselves stay on the request; the trail records that they changed.
    let details = json!({"fields": fields, "assignee": request.assignee});
    let recorded = recorded(actor.audit_name(), "updated", &request, details, now);
    save(store, actor, request, recorded, now).await
}

/// A reason, required (`reject`) or optional, checked.
pub fn reason(value: Option<String>, required: bool) -> Result<Option<String>, Problem> {
    let reason = text_field("reason", value, MAX_TEXT)?;
    if required && reason.is_none() {
        return Err(Problem::new(
            ErrorCode::MissingField,
            "a `reason` is required: the subject is owed one (GDPR Art. 12(4))",
        ));
    }
    Ok(reason)
}
