//! The Scheduled page's schedule forms: create, edit, turn on or off, run the next window
//! now, delete. Each calls `services::schedules` (as `POST /schedules`, `PATCH
//! /schedules/{id}`, `POST /schedules/{id}/run` and `DELETE /schedules/{id}` do; editing is
//! the service's `update`), as the signed-in user.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use ferry_domain::export::Include;
use ferry_domain::schedule::{Frequency, Schedule};
use serde::Deserialize;

use super::Dashboard;
use super::login::CsrfForm;
use super::page::PageError;
use super::scheduled::{Extras, PATH, show};
use super::session::SignedIn;
use crate::error_code::{ErrorCode, Problem};
use crate::services::exports::EncryptionOptions;
use crate::services::schedules::{self, ScheduleOptions};

/// The data types a schedule's bulk export may hold, in the form's order.
pub const DATA_TYPES: [(&str, &str); 5] = [
    ("pageviews", "Page views"),
    ("events", "Events"),
    ("sessions", "Sessions"),
    ("visitors", "Visitors"),
    ("summary", "Daily summary"),
];

/// The new-schedule form. Checkboxes arrive only when ticked (`dt_<type>`, `enabled`).
#[derive(Debug, Default, Deserialize)]
pub struct ScheduleForm {
    #[serde(default)]
    pub website_id: String,
    /// `daily`, `weekly`, `monthly` or `cron` (then `cron` holds the expression).
    #[serde(default)]
    pub frequency: String,
    #[serde(default)]
    pub cron: String,
    #[serde(default)]
    pub format: String,
    #[serde(default)]
    pub destination_id: String,
    #[serde(default)]
    pub pgp_public_key: String,
    #[serde(default)]
    pub starts_on: String,
    #[serde(default)]
    pub enabled: Option<String>,
    #[serde(default)]
    pub dt_pageviews: Option<String>,
    #[serde(default)]
    pub dt_events: Option<String>,
    #[serde(default)]
    pub dt_sessions: Option<String>,
    #[serde(default)]
    pub dt_visitors: Option<String>,
    #[serde(default)]
    pub dt_summary: Option<String>,
    pub csrf: Option<String>,
}

impl ScheduleForm {
    /// The form as a new page shows it: daily CSV of page views and events, on.
    pub fn fresh() -> Self {
        let on = Some("on".to_string());
        ScheduleForm {
            frequency: "daily".into(),
            format: "csv".into(),
            enabled: on.clone(),
            dt_pageviews: on.clone(),
            dt_events: on,
            ..Default::default()
        }
    }

    /// The form of an existing schedule, to edit it.
    pub fn of(s: &Schedule) -> Self {
        let on = |t: &str| {
            s.data_types
                .iter()
                .any(|d| d.as_str() == t)
                .then(|| "on".to_string())
        };
        let (frequency, cron) = match &s.frequency {
            Frequency::Cron(expr) => ("cron".to_string(), expr.clone()),
            other => (other.as_str().to_string(), String::new()),
        };
        ScheduleForm {
            website_id: s.website_id.clone(),
            frequency,
            cron,
            format: s.format.as_str().to_string(),
            destination_id: s.destination_id.clone().unwrap_or_default(),
            pgp_public_key: s
                .encryption
                .as_ref()
                .map(|e| e.pgp_public_key.clone())
                .unwrap_or_default(),
            starts_on: String::new(),
            enabled: s.enabled.then(|| "on".to_string()),
            dt_pageviews: on("pageviews"),
            dt_events: on("events"),
            dt_sessions: on("sessions"),
            dt_visitors: on("visitors"),
            dt_summary: on("summary"),
            csrf: None,
        }
    }

    pub fn ticked(&self, data_type: &str) -> bool {
        match data_type {
            "pageviews" => self.dt_pageviews.is_some(),
            "events" => self.dt_events.is_some(),
            "sessions" => self.dt_sessions.is_some(),
            "visitors" => self.dt_visitors.is_some(),
            "summary" => self.dt_summary.is_some(),
            _ => false,
        }
    }

    pub fn frequency_choice(&self) -> &str {
        match self.frequency.as_str() {
            "" => "daily",
            other => other,
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled.is_some()
    }

    fn options(&self) -> ScheduleOptions {
        let frequency = match self.frequency_choice() {
            "cron" => self.cron.trim().to_string(),
            other => other.to_string(),
        };
        let include: Vec<String> = DATA_TYPES
            .iter()
            .filter(|(t, _)| self.ticked(t))
            .map(|(t, _)| t.to_string())
            .collect();
        let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        ScheduleOptions {
            website_id: self.website_id.trim().to_string(),
            frequency,
            include: Some(Include::List(include)),
            format: text(&self.format),
            destination_id: text(&self.destination_id),
            encryption: text(&self.pgp_public_key).map(EncryptionOptions::key),
            enabled: Some(self.is_enabled()),
            starts_on: text(&self.starts_on),
        }
    }
}

fn done(word: &str) -> Response {
    Redirect::to(&format!("{PATH}?done={word}")).into_response()
}

/// Another account's schedule, or none: the same page either way.
fn not_found(p: Problem) -> PageError {
    match p.status() {
        StatusCode::NOT_FOUND => PageError {
            status: StatusCode::NOT_FOUND,
            title: "Not found",
            message: "There is no such schedule in this account.".into(),
            headers: Vec::new(),
        },
        _ => p.into(),
    }
}

pub async fn create(
    State(state): State<Dashboard>,
    s: SignedIn,
    Form(form): Form<ScheduleForm>,
) -> Result<Response, PageError> {
    s.check_csrf(form.csrf.as_deref())?;
    let app = &state.app;
    match schedules::create(
        app.store.as_ref(),
        app.clock.as_ref(),
        &s.actor(),
        form.options(),
    )
    .await
    {
        Ok(_) => {
            app.worker.wake.notify_one();
            Ok(done("schedule-created"))
        }
        // The form comes back as sent, with the service's reason beside it.
        Err(problem) => {
            let extras = Extras {
                schedule_error: Some(problem.message.clone()),
                schedule_form: Some(form),
                ..Default::default()
            };
            show(&state, &s, problem.status(), extras).await
        }
    }
}

/// The page with the schedule's form filled in, to change it.
pub async fn edit_page(
    State(state): State<Dashboard>,
    s: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let schedule = schedules::find(state.app.store.as_ref(), &s.actor(), &id)
        .await
        .map_err(not_found)?;
    let extras = Extras {
        schedule_form: Some(ScheduleForm::of(&schedule)),
        editing: Some(schedule.id),
        ..Default::default()
    };
    show(&state, &s, StatusCode::OK, extras).await
}

pub async fn edit(
    State(state): State<Dashboard>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<ScheduleForm>,
) -> Result<Response, PageError> {
    s.check_csrf(form.csrf.as_deref())?;
    let app = &state.app;
    let mut options = form.options();
    // The edit form has no first day: a series keeps the one it started on.
    options.starts_on = None;
    match schedules::update(
        app.store.as_ref(),
        app.clock.as_ref(),
        &s.actor(),
        &id,
        options,
    )
    .await
    {
        Ok(_) => {
            app.worker.wake.notify_one();
            Ok(done("schedule-updated"))
        }
        Err(p) if p.status() == StatusCode::NOT_FOUND && p.code == ErrorCode::ScheduleNotFound => {
            Err(not_found(p))
        }
        Err(problem) => {
            let extras = Extras {
                schedule_error: Some(problem.message.clone()),
                schedule_form: Some(form),
                editing: Some(id),
                ..Default::default()
            };
            show(&state, &s, problem.status(), extras).await
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct EnableForm {
    pub csrf: Option<String>,
    /// `true` turns it on, anything else off.
    #[serde(default)]
    pub enabled: String,
}

pub async fn set_enabled(
    State(state): State<Dashboard>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<EnableForm>,
) -> Result<Response, PageError> {
    s.check_csrf(form.csrf.as_deref())?;
    let on = form.enabled == "true";
    schedules::set_enabled(state.app.store.as_ref(), &s.actor(), &id, on)
        .await
        .map_err(not_found)?;
    if on {
        state.app.worker.wake.notify_one();
    }
    Ok(done(if on {
        "schedule-enabled"
    } else {
        "schedule-disabled"
    }))
}

pub async fn run_now(
    State(state): State<Dashboard>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    s.check_csrf(form.csrf.as_deref())?;
    let app = &state.app;
    schedules::run_now(app.store.as_ref(), app.clock.as_ref(), &s.actor(), &id)
        .await
        .map_err(not_found)?;
    app.worker.wake.notify_one();
    Ok(done("schedule-run"))
}

pub async fn delete(
    State(state): State<Dashboard>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    s.check_csrf(form.csrf.as_deref())?;
    schedules::delete(state.app.store.as_ref(), &s.actor(), &id)
        .await
        .map_err(not_found)?;
    Ok(done("schedule-deleted"))
}
