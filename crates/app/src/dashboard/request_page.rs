//! One data-subject request: what it is, its deadline today, its timeline (every step with
//! time and actor), and the steps its status allows — each a form posting to
//! `/settings/privacy/requests/{id}/{action}`, calling the service function the API's route
//! for that step calls, as the signed-in user. A refusal shows the service's message next to
//! the form it came from and changes nothing. Another account's request is "not found".

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use ferry_domain::request::{MAX_EXTENSION_MONTHS, Request, RequestAction, RequestType, Step};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Dashboard;
use super::page::{Chrome, PageError, render};
use super::requests::{DaysLeft, PATH, days_left, rule_text};
use super::session::SignedIn;
use crate::error_code::{ErrorCode, Problem};
use crate::services::requests::deadlines::{self, Extension, due};
use crate::services::requests::fulfilment::{self, FulfilBody};
use crate::services::requests::verification::{self, Proof};
use crate::services::requests::{self, Change, day_of};
use ferry_store::DashboardRole;

/// Every step's form; each action reads the fields it needs.
#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {
    csrf: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    months: Option<String>,
    #[serde(default)]
    assignee: Option<String>,
    #[serde(default)]
    notes: Option<String>,
    /// Fulfil: each download link in the subject's mail works once (a checkbox: present or not).
    #[serde(default)]
    one_time: Option<String>,
}

pub struct StepRow {
    at: String,
    actor: String,
    step: String,
    details: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "request.html")]
struct RequestPage {
    chrome: Chrome,
    r: Request,
    due_on: NaiveDate,
    rule: &'static str,
    left: DaysLeft,
    verification: &'static str,
    steps: Vec<StepRow>,
    max_months: u32,
    /// The account requires an admin's approval before fulfilment's exports are made.
    require_approval: bool,
    /// The action whose form the error belongs next to, and the message.
    error_for: &'static str,
    error: String,
    form: ActionForm,
}

impl RequestPage {
    fn can(&self, action: &str) -> bool {
        match action {
            "extend" => {
                self.r.status.awaits_answer() && self.r.extension_months < MAX_EXTENSION_MONTHS
            }
            // The code form only once a code went out (the service would say none was sent).
            "verify" => {
                let v = &self.r.verification;
                self.r.status.after(RequestAction::Verify).is_ok()
                    && !v.locked
                    && v.code_hash.is_some()
            }
            "verification" => self.r.status.after(RequestAction::SendVerification).is_ok(),
            "update" => true,
            _ => self.r.status.allowed().iter().any(|a| a.as_str() == action),
        }
    }
    fn is_erasure(&self) -> bool {
        self.r.kind == RequestType::Erasure
    }
    fn is_portability(&self) -> bool {
        self.r.kind == RequestType::Portability
    }
    fn needs_approval(&self) -> bool {
        self.require_approval
    }
    fn error_at(&self, action: &str) -> bool {
        self.error_for == action && !self.error.is_empty()
    }
    /// An error of a step whose form is not on the page (a stale page, a hand-made post):
    /// shown above the forms rather than lost.
    fn error_without_form(&self) -> bool {
        !self.error.is_empty() && !self.can(self.error_for)
    }
    fn typed_reason(&self, action: &str) -> &str {
        if self.error_for == action {
            self.form.reason.as_deref().unwrap_or_default()
        } else {
            ""
        }
    }
    fn months_left(&self) -> Vec<u32> {
        (1..=MAX_EXTENSION_MONTHS - self.r.extension_months.min(MAX_EXTENSION_MONTHS)).collect()
    }
}

/// A step's details as a person reads them: the fields that say something, not the ids
/// the page already shows.
fn details(v: &Value) -> Vec<(String, String)> {
    let Value::Object(map) = v else {
        return Vec::new();
    };
    map.iter()
        .filter(|(k, v)| !v.is_null() && k.as_str() != "request_id" && k.as_str() != "type")
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            (k.replace('_', " "), text)
        })
        .collect()
}

fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

fn step_row(s: Step) -> StepRow {
    StepRow {
        at: when(s.at),
        details: details(&s.details),
        step: s.step.replace('_', " "),
        actor: s.actor,
    }
}

/// Fulfilling ends in a mail to the subject (their download links): refused before anything
/// changes when Ferry has no relay, as the API's route refuses it.
fn require_mail(configured: bool) -> Result<(), Problem> {
    if configured {
        return Ok(());
    }
    Err(Problem::new(
        ErrorCode::MailRelayNotConfigured,
        "Ferry has no SMTP relay to mail the subject their data through: start it with \
         FERRY_SMTP_URL and FERRY_SMTP_FROM",
    ))
}

fn not_found(problem: Problem) -> PageError {
    if problem.status() == StatusCode::NOT_FOUND {
        PageError {
            message: "There is no such request in this account.".into(),
            ..PageError::not_found()
        }
    } else {
        problem.into()
    }
}

async fn show(
    state: &Dashboard,
    s: &SignedIn,
    id: &str,
    status: StatusCode,
    error: Option<(&'static str, String)>,
    form: ActionForm,
) -> Result<Response, PageError> {
    let actor = s.actor();
    let store = state.app.store.as_ref();
    let r = requests::find(store, &actor, id).await.map_err(not_found)?;
    let settings = store.request_settings(actor.account()).await?;
    let today = day_of(state.app.clock.now());
    let due = due(&r, &settings, today);
    let steps = store.request_steps(actor.account(), &r.id).await?;
    let v = &r.verification;
    let verification = match () {
        _ if v.verified_at.is_some() => "verified",
        _ if v.locked => "locked after too many wrong codes",
        _ if v.code_hash.is_some() => "code sent",
        _ => "not started",
    };
    let (error_for, error) = error.unwrap_or(("", String::new()));
    let page = RequestPage {
        chrome: Chrome::new(s, "requests"),
        left: days_left(&due, r.status.awaits_answer(), settings.escalate_days),
        due_on: due.due_on,
        rule: rule_text(r.due_rule.as_str()),
        verification,
        steps: steps.into_iter().map(step_row).collect(),
        max_months: MAX_EXTENSION_MONTHS,
        require_approval: settings.require_approval,
        error_for,
        error,
        form,
        r,
    };
    Ok(render(status, &page))
}

pub async fn page(
    State(state): State<Dashboard>,
    s: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    show(&state, &s, &id, StatusCode::OK, None, ActionForm::default()).await
}

/// One step, through the service function of the API's route for it.
pub async fn act(
    State(state): State<Dashboard>,
    s: SignedIn,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Result<Response, PageError> {
    s.check_csrf(form.csrf.as_deref())?;
    let app = &state.app;
    let (store, clock, actor) = (app.store.as_ref(), app.clock.as_ref(), s.actor());
    let (action, done): (&'static str, Result<Request, Problem>) = match action.as_str() {
        "verification" => (
            "verification",
            async {
                verification::require_relay(app.worker.mail.is_some())?;
                verification::send(store, clock, &app.links, &actor, &id).await
            }
            .await,
        ),
        "verify" => {
            let code = form.code.clone().unwrap_or_default();
            let done = if code.trim().is_empty() || code.len() > 64 {
                Err(Problem::new(
                    ErrorCode::InvalidValue,
                    "Enter the 8-digit code from the verification mail.",
                ))
            } else {
                let proof = Proof::Code(code.trim());
                verification::verify(store, clock, &app.links, &actor, &id, proof).await
            };
            ("verify", done)
        }
        "start" | "reject" | "cancel" | "close" => {
            let (name, step) = match action.as_str() {
                "start" => ("start", RequestAction::Start),
                "reject" => ("reject", RequestAction::Reject),
                "cancel" => ("cancel", RequestAction::Cancel),
                _ => ("close", RequestAction::Close),
            };
            let done = match requests::reason(form.reason.clone(), step == RequestAction::Reject) {
                Ok(reason) => {
                    let details = json!({"reason": reason});
                    requests::advance(store, clock, &actor, &id, step, details).await
                }
                Err(p) => Err(p),
            };
            (name, done)
        }
        "extend" => {
            let done = match form.months.as_deref().map(str::parse::<u32>) {
                Some(Ok(months)) => {
                    let body = Extension {
                        months,
                        reason: form.reason.clone(),
                    };
                    deadlines::extend(store, clock, &actor, &id, body).await
                }
                _ => Err(Problem::new(
                    ErrorCode::InvalidValue,
                    format!("`months` is 1 or {MAX_EXTENSION_MONTHS}"),
                )),
            };
            ("extend", done)
        }
        "fulfil" => {
            let done = async {
                require_mail(app.worker.mail.is_some())?;
                let body = FulfilBody {
                    one_time: Some(form.one_time.is_some()),
                    ..FulfilBody::default()
                };
                fulfilment::fulfil(store, clock, &actor, &id, body).await
            }
            .await;
            ("fulfil", done)
        }
        "approve" => {
            // The API asks for an `admin` key: the approval is a person's, and here an admin's.
            let done = if s.user.role == DashboardRole::Admin {
                fulfilment::approve(store, clock, &actor, &id, form.reason.clone()).await
            } else {
                Err(Problem::new(
                    ErrorCode::InsufficientScope,
                    "Only an admin of this account may approve sending a subject their data: ask one to approve it.",
                ))
            };
            ("approve", done)
        }
        "update" => {
            let change = Change {
                assignee: Some(form.assignee.clone().unwrap_or_default()),
                notes: Some(form.notes.clone().unwrap_or_default()),
            };
            (
                "update",
                requests::update(store, clock, &actor, &id, change).await,
            )
        }
        _ => return Err(PageError::not_found()),
    };
    match done {
        Ok(_) => {
            // Verification and extension mails are queued with the change.
            app.worker.wake.notify_one();
            Ok(Redirect::to(&format!("{PATH}/{id}")).into_response())
        }
        Err(p) if p.status() == StatusCode::NOT_FOUND => Err(not_found(p)),
        Err(p) => show(&state, &s, &id, p.status(), Some((action, p.message)), form).await,
    }
}
