//! Settings → Privacy → Data Export: find a person by user id or email (and see every identity
//! that resolves to before anything is generated), ask for their export, and follow this
//! account's exports: status and progress (the page reloads itself while one runs), size,
//! download, receipt, delete. Generating and deleting call the export service as the API does.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use ferry_domain::export::{Include, SubjectRef};
use serde::Deserialize;

use super::Dashboard;
use super::export_list::ExportRow;
use super::login::CsrfForm;
use super::page::{Chrome, PageError, render};
use super::session::SignedIn;
use crate::error_code::Problem;
use crate::services::exports::{EncryptionOptions, ExportOptions, request_export};
use crate::services::users::find_user;

/// A person is looked up by at most this much text (longer than any id or email Ferry keeps).
const MAX_SUBJECT_CHARS: usize = 400;
const DATA_TYPES: [&str; 4] = ["pageviews", "events", "sessions", "profile"];

/// One identity the search resolved to.
pub struct IdentityRow {
    website: String,
    visitor_id: String,
    user_id: String,
    linked_by: String,
}

pub struct Found {
    user_id: String,
    email: String,
    name: String,
    identities: Vec<IdentityRow>,
}

#[derive(Template)]
#[template(path = "data_export.html")]
struct DataExportPage {
    chrome: Chrome,
    query: String,
    found: Option<Found>,
    not_found: bool,
    form: GenerateForm,
    message: Option<String>,
    error: Option<String>,
    exports: Vec<ExportRow>,
}

impl DataExportPage {
    fn checked(&self, data_type: &str) -> bool {
        self.form.includes(data_type)
    }

    fn format_is(&self, format: &str) -> bool {
        self.form.format.as_deref().unwrap_or("json") == format
    }

    fn first_day(&self) -> &str {
        self.form.from.as_deref().unwrap_or_default()
    }

    fn last_day(&self) -> &str {
        self.form.to.as_deref().unwrap_or_default()
    }

    fn pgp(&self) -> &str {
        self.form.pgp_public_key.as_deref().unwrap_or_default()
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    /// A user id or an email to look up.
    #[serde(default)]
    find: Option<String>,
    /// The export just asked for, to say so.
    #[serde(default)]
    created: Option<String>,
}

/// The Generate Export form. Checkboxes arrive only when ticked.
#[derive(Debug, Default, Deserialize)]
pub struct GenerateForm {
    #[serde(default)]
    pub subject: String,
    /// `visitor_id` when `subject` is a visitor id (the Visitors page's export button);
    /// otherwise `subject` is a user id, or an email when it has an `@`.
    #[serde(default)]
    pub subject_kind: Option<String>,
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub pageviews: Option<String>,
    #[serde(default)]
    pub events: Option<String>,
    #[serde(default)]
    pub sessions: Option<String>,
    #[serde(default)]
    pub profile: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub pgp_public_key: Option<String>,
    pub csrf: Option<String>,
}

impl GenerateForm {
    fn includes(&self, data_type: &str) -> bool {
        match data_type {
            "pageviews" => self.pageviews.is_some(),
            "events" => self.events.is_some(),
            "sessions" => self.sessions.is_some(),
            "profile" => self.profile.is_some(),
            _ => false,
        }
    }

    fn all_ticked() -> Self {
        let on = Some("on".to_string());
        GenerateForm {
            format: Some("json".into()),
            pageviews: on.clone(),
            events: on.clone(),
            sessions: on.clone(),
            profile: on,
            ..Default::default()
        }
    }
}

/// A user id, or an email when it has an `@`.
fn subject_of(text: &str) -> Option<SubjectRef> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_SUBJECT_CHARS {
        return None;
    }
    Some(if text.contains('@') {
        SubjectRef::Email(text.to_string())
    } else {
        SubjectRef::UserId(text.to_string())
    })
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

pub async fn page(
    State(state): State<Dashboard>,
    signed_in: SignedIn,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    let mut form = GenerateForm::all_ticked();
    let query = non_empty(q.find).unwrap_or_default();
    let (found, not_found) = lookup(&state, &signed_in, &query).await?;
    if let Some(found) = &found {
        form.subject = found.user_id.clone();
    }
    let message = q.created.filter(|id| id.len() <= 64);
    show(
        &state,
        &signed_in,
        StatusCode::OK,
        query,
        found,
        not_found,
        form,
        message,
        None,
    )
    .await
}

async fn lookup(
    state: &Dashboard,
    signed_in: &SignedIn,
    query: &str,
) -> Result<(Option<Found>, bool), PageError> {
    if query.is_empty() {
        return Ok((None, false));
    }
    let Some(subject) = subject_of(query) else {
        return Ok((None, true));
    };
    match find_user(state.app.store.as_ref(), signed_in.user.account, &subject).await {
        Ok(user) => Ok((
            Some(Found {
                user_id: user.profile.user_id,
                email: user.profile.email.unwrap_or_default(),
                name: user.profile.name.unwrap_or_default(),
                identities: user
                    .identities
                    .into_iter()
                    .map(|i| IdentityRow {
                        website: format!("{} ({})", i.domain, i.website_id),
                        visitor_id: i.visitor_id,
                        user_id: i.user_id.unwrap_or_default(),
                        linked_by: i.linked_by.map_or("—", |l| l.as_str()).replace('_', " "),
                    })
                    .collect(),
            }),
            false,
        )),
        Err(p) if p.status() == StatusCode::NOT_FOUND => Ok((None, true)),
        Err(p) => Err(p.into()),
    }
}

#[allow(clippy::too_many_arguments)]
async fn show(
    state: &Dashboard,
    signed_in: &SignedIn,
    status: StatusCode,
    query: String,
    found: Option<Found>,
    not_found: bool,
    form: GenerateForm,
    message: Option<String>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let exports = super::export_list::exports(state, signed_in).await?;
    // `message` names the export just asked for: say where it stands now.
    let message = message.and_then(|id| {
        let row = exports.iter().find(|e| e.id == id)?;
        Some(match row.status.as_str() {
            "queued" | "running" => format!(
                "Export {id} is {}. This page follows it until it completes.",
                row.status
            ),
            "completed" => format!("Export {id} is ready: download it below."),
            other => format!("Export {id} is {other}."),
        })
    });
    let mut chrome = Chrome::new(signed_in, "data-export");
    chrome.refresh = exports
        .iter()
        .any(|e| e.status == "queued" || e.status == "running");
    let page = DataExportPage {
        chrome,
        query,
        found,
        not_found,
        form,
        message,
        error,
        exports,
    };
    Ok(render(status, &page))
}

pub async fn generate(
    State(state): State<Dashboard>,
    signed_in: SignedIn,
    Form(form): Form<GenerateForm>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(form.csrf.as_deref())?;
    let subject = match form.subject_kind.as_deref() {
        Some("visitor_id") => Some(form.subject.trim())
            .filter(|v| !v.is_empty() && v.chars().count() <= MAX_SUBJECT_CHARS)
            .map(|v| SubjectRef::VisitorId(v.to_string())),
        _ => subject_of(&form.subject),
    };
    let requested = match subject {
        None => Err(Problem::new(
            crate::error_code::ErrorCode::SubjectRequired,
            "Enter the person's user ID or email.",
        )),
        Some(subject) => {
            let include: Vec<String> = DATA_TYPES
                .iter()
                .filter(|t| form.includes(t))
                .map(|t| t.to_string())
                .collect();
            let options = ExportOptions {
                format: non_empty(form.format.clone()),
                include: Some(Include::List(include)),
                from: non_empty(form.from.clone()),
                to: non_empty(form.to.clone()),
                encryption: non_empty(form.pgp_public_key.clone()).map(EncryptionOptions::key),
                ..Default::default()
            };
            request_export(
                state.app.store.as_ref(),
                state.app.clock.as_ref(),
                &signed_in.actor(),
                Some(subject),
                options,
            )
            .await
        }
    };
    match requested {
        Ok(requested) => {
            state.app.worker.wake.notify_one();
            Ok(
                Redirect::to(&format!("{}?created={}", super::HOME, requested.job.id))
                    .into_response(),
            )
        }
        // The form comes back as it was sent, with what to fix.
        Err(problem) => {
            let status = problem.status();
            let query = form.subject.trim().to_string();
            let (found, not_found) = lookup(&state, &signed_in, &query).await?;
            let mut response = show(
                &state,
                &signed_in,
                status,
                query,
                found,
                not_found,
                form,
                None,
                Some(problem.message),
            )
            .await?;
            for (name, value) in problem.headers {
                if let Ok(v) = axum::http::HeaderValue::from_str(&value) {
                    response.headers_mut().insert(name, v);
                }
            }
            Ok(response)
        }
    }
}

pub async fn delete(
    State(state): State<Dashboard>,
    signed_in: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(form.csrf.as_deref())?;
    crate::services::exports::delete_export(
        state.app.store.as_ref(),
        state.app.worker.artifacts.as_ref(),
        state.app.clock.as_ref(),
        &signed_in.actor(),
        &id,
    )
    .await
    .map_err(|p| match p.status() {
        StatusCode::NOT_FOUND => PageError::not_found(),
        _ => p.into(),
    })?;
    Ok(Redirect::to(super::HOME).into_response())
}
