//! Settings → Privacy → Requests: the account's data-subject requests with their due dates
//! and days left (marked, in words as well as colour, once within the account's escalation
//! days or overdue), filtered by status and deadline; and a new request (type, email, day of
//! receipt). Listing and creating call the request services `GET /requests` and
//! `POST /requests` call, as the signed-in user; a request's own page is `request_page`.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use ferry_domain::request::{RequestStatus, RequestType};
use serde::Deserialize;

use super::Dashboard;
use super::page::{Chrome, PageError, render};
use super::session::SignedIn;
use crate::error_code::{ErrorCode, Problem};
use crate::services::requests::deadlines::Due;
use crate::services::requests::{self, NewRequest, day_of, queue};

pub const PATH: &str = "/settings/privacy/requests";
/// Rows one page shows; the filters narrow a longer queue.
const SHOWN: usize = 200;

/// How far off a due date is, in words, and whether it needs attention now: within the
/// account's escalation days, or past. The words carry the warning, not only the colour.
pub struct DaysLeft {
    pub text: String,
    pub late: bool,
}

pub fn days_left(due: &Due, awaits_answer: bool, escalate_days: u32) -> DaysLeft {
    if !awaits_answer {
        return DaysLeft {
            text: "answered".into(),
            late: false,
        };
    }
    let n = due.days_left;
    let days = |n: i64| {
        if n == 1 {
            "1 day".to_string()
        } else {
            format!("{n} days")
        }
    };
    if due.overdue {
        DaysLeft {
            text: format!("Overdue by {}", days(-n)),
            late: true,
        }
    } else if n <= i64::from(escalate_days) {
        let when = if n == 0 {
            "due today".to_string()
        } else {
            format!("{} left", days(n))
        };
        DaysLeft {
            text: format!("Due soon: {when}"),
            late: true,
        }
    } else {
        DaysLeft {
            text: format!("{} left", days(n)),
            late: false,
        }
    }
}

/// The rule that gave a due date, as a person reads it.
pub fn rule_text(rule: &str) -> &'static str {
    match rule {
        "thirty_days" => "30 days from receipt",
        "calendar_month" => "one calendar month (Art. 12(3))",
        _ => "earlier of 30 days and one month",
    }
}

pub struct QueueRow {
    id: String,
    kind: &'static str,
    email: String,
    received_on: NaiveDate,
    due_on: NaiveDate,
    rule: &'static str,
    extended: u32,
    left: DaysLeft,
    status: &'static str,
    assignee: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    #[serde(default)]
    status: String,
    /// `overdue`, `due_soon` (within the escalation days, or overdue), or empty.
    #[serde(default)]
    deadline: String,
}

/// The new-request form, as sent (shown again with what to fix).
#[derive(Debug, Default, Deserialize)]
pub struct NewRequestForm {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    subject_email: String,
    #[serde(default)]
    received_at: String,
    csrf: Option<String>,
}

#[derive(Template)]
#[template(path = "requests.html")]
struct RequestsPage {
    chrome: Chrome,
    q: QueueQuery,
    statuses: Vec<&'static str>,
    types: Vec<&'static str>,
    escalate_days: u32,
    rows: Vec<QueueRow>,
    more: usize,
    form: NewRequestForm,
    today: NaiveDate,
    error: Option<String>,
}

impl RequestsPage {
    fn status_is(&self, s: &str) -> bool {
        self.q.status == s
    }
    fn deadline_is(&self, d: &str) -> bool {
        self.q.deadline == d
    }
    fn type_is(&self, t: &str) -> bool {
        self.form.kind == t || (self.form.kind.is_empty() && t == "access")
    }
}

impl QueueQuery {
    fn filter(&self, today: NaiveDate, escalate_days: u32) -> Result<queue::Filter, Problem> {
        let status = match self.status.as_str() {
            "" => None,
            s => Some(RequestStatus::parse(s).ok_or_else(|| {
                Problem::new(ErrorCode::InvalidQuery, "Choose a status from the list.")
            })?),
        };
        let (due_before, overdue) = match self.deadline.as_str() {
            "" => (None, None),
            "overdue" => (None, Some(true)),
            "due_soon" => (
                today.checked_add_days(chrono::Days::new(escalate_days.into())),
                None,
            ),
            _ => {
                return Err(Problem::new(
                    ErrorCode::InvalidQuery,
                    "Choose a deadline filter from the list.",
                ));
            }
        };
        Ok(queue::Filter {
            status,
            due_before,
            overdue,
        })
    }
}

pub async fn page(
    State(state): State<Dashboard>,
    s: SignedIn,
    Query(q): Query<QueueQuery>,
) -> Result<Response, PageError> {
    show(&state, &s, q, NewRequestForm::default(), None).await
}

async fn show(
    state: &Dashboard,
    s: &SignedIn,
    q: QueueQuery,
    form: NewRequestForm,
    error: Option<Problem>,
) -> Result<Response, PageError> {
    let today = day_of(state.app.clock.now());
    let actor = s.actor();
    let settings = state.app.store.request_settings(actor.account()).await?;
    let (status, error, filter) = match (error, q.filter(today, settings.escalate_days)) {
        (Some(p), Ok(f)) => (p.status(), Some(p.message), f),
        (None, Ok(f)) => (StatusCode::OK, None, f),
        // A filter from a hand-made URL: say so, and list everything.
        (_, Err(p)) => (p.status(), Some(p.message), queue::Filter::default()),
    };
    let (listed, settings) = queue::list(
        state.app.store.as_ref(),
        state.app.clock.as_ref(),
        &actor,
        &filter,
    )
    .await?;
    let more = listed.len().saturating_sub(SHOWN);
    let rows = listed
        .into_iter()
        .take(SHOWN)
        .map(|(due, r)| QueueRow {
            email: r.subject_label(),
            left: days_left(&due, r.status.awaits_answer(), settings.escalate_days),
            kind: r.kind.as_str(),
            received_on: r.received_on,
            due_on: due.due_on,
            rule: rule_text(r.due_rule.as_str()),
            extended: r.extension_months,
            status: r.status.as_str(),
            assignee: r.assignee.unwrap_or_default(),
            id: r.id,
        })
        .collect();
    let page = RequestsPage {
        chrome: Chrome::new(s, "requests"),
        q,
        statuses: RequestStatus::ALL.iter().map(|s| s.as_str()).collect(),
        types: RequestType::ALL.iter().map(|t| t.as_str()).collect(),
        escalate_days: settings.escalate_days,
        rows,
        more,
        form,
        today,
        error,
    };
    Ok(render(status, &page))
}

pub async fn create(
    State(state): State<Dashboard>,
    s: SignedIn,
    Form(form): Form<NewRequestForm>,
) -> Result<Response, PageError> {
    s.check_csrf(form.csrf.as_deref())?;
    let body = NewRequest {
        kind: form.kind.clone(),
        subject_email: form.subject_email.clone(),
        received_at: Some(form.received_at.trim().to_string()).filter(|d| !d.is_empty()),
        user_id: None,
        visitor_id: None,
        assignee: None,
        notes: None,
        external_ref: None,
    };
    let created = requests::create(
        state.app.store.as_ref(),
        state.app.clock.as_ref(),
        &s.actor(),
        body,
    )
    .await;
    match created {
        Ok((request, _)) => Ok(Redirect::to(&format!("{PATH}/{}", request.id)).into_response()),
        Err(problem) => show(&state, &s, QueueQuery::default(), form, Some(problem)).await,
    }
}
