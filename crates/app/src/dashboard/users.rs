//! Settings → Users (admins only): the account's dashboard users, a new one (its generated
//! password shown once, on the page that answers the form, never in a URL), and removing
//! one (not oneself). Both go through `services::dashboard_users`, as `ferry users create`
//! does, audited with the signed-in admin's email.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use ferry_store::DashboardRole;
use serde::Deserialize;

use super::Dashboard;
use super::login::CsrfForm;
use super::page::{Chrome, PageError, render};
use super::session::SignedIn;
use crate::services::dashboard_users;

pub const PATH: &str = "/settings/users";

pub struct UserRow {
    id: String,
    email: String,
    role: &'static str,
    created_at: String,
    is_me: bool,
}

/// The user just made, with their password: shown here once.
pub struct NewUser {
    email: String,
    password: String,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<UserRow>,
    created: Option<NewUser>,
    error: Option<String>,
    /// The form as sent, when it comes back with an error.
    email: String,
    member: bool,
}

fn admin_only(s: &SignedIn) -> Result<(), PageError> {
    if s.user.role == DashboardRole::Admin {
        return Ok(());
    }
    Err(PageError {
        status: StatusCode::FORBIDDEN,
        title: "Admins only",
        message: "Dashboard users are managed by the account's admins.".into(),
        headers: Vec::new(),
    })
}

async fn show(
    state: &Dashboard,
    s: &SignedIn,
    status: StatusCode,
    created: Option<NewUser>,
    error: Option<(String, NewUserForm)>,
) -> Result<Response, PageError> {
    let users = state.app.store.dashboard_users(s.user.account).await?;
    let (error, form) = match error {
        Some((message, form)) => (Some(message), form),
        None => (None, NewUserForm::default()),
    };
    let page = UsersPage {
        chrome: Chrome::new(s, "users"),
        users: users
            .into_iter()
            .map(|u| UserRow {
                is_me: u.id == s.user.id,
                role: u.role.as_str(),
                created_at: u
                    .created_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                email: u.email,
                id: u.id,
            })
            .collect(),
        created,
        error,
        email: form.email,
        member: form.role == "member",
    };
    Ok(render(status, &page))
}

pub async fn page(State(state): State<Dashboard>, s: SignedIn) -> Result<Response, PageError> {
    admin_only(&s)?;
    show(&state, &s, StatusCode::OK, None, None).await
}

#[derive(Debug, Default, Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    email: String,
    /// `admin` or `member`.
    #[serde(default)]
    role: String,
    csrf: Option<String>,
}

pub async fn create(
    State(state): State<Dashboard>,
    s: SignedIn,
    Form(form): Form<NewUserForm>,
) -> Result<Response, PageError> {
    s.check_csrf(form.csrf.as_deref())?;
    admin_only(&s)?;
    let role = match form.role.as_str() {
        "admin" => Some(DashboardRole::Admin),
        "member" => Some(DashboardRole::Member),
        _ => None,
    };
    let Some(role) = role else {
        let message = "choose a role: admin or member".to_string();
        return show(
            &state,
            &s,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some((message, form)),
        )
        .await;
    };
    let password = dashboard_users::new_password();
    let made = dashboard_users::create_user(
        state.app.store.as_ref(),
        s.user.account,
        &form.email,
        password.clone(),
        role,
        s.actor().audit_name(),
    )
    .await;
    match made {
        Ok(user) => {
            let created = NewUser {
                email: user.email,
                password,
            };
            show(&state, &s, StatusCode::CREATED, Some(created), None).await
        }
        Err(p) => {
            let status = p.status();
            // Emails are unique across accounts (an email signs in to one account only).
            let message = match status {
                StatusCode::CONFLICT => "that email signs in to a Ferry dashboard already".into(),
                _ => p.message,
            };
            show(&state, &s, status, None, Some((message, form))).await
        }
    }
}

pub async fn remove(
    State(state): State<Dashboard>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    s.check_csrf(form.csrf.as_deref())?;
    admin_only(&s)?;
    match dashboard_users::remove_user(state.app.store.as_ref(), &s.actor(), &id).await {
        Ok(()) => Ok(Redirect::to(PATH).into_response()),
        Err(p) if p.status() == StatusCode::NOT_FOUND => Err(PageError {
            status: StatusCode::NOT_FOUND,
            title: "Not found",
            message: "There is no such user in this account.".into(),
            headers: Vec::new(),
        }),
        Err(p) => {
            let status = p.status();
            show(
                &state,
                &s,
                status,
                None,
                Some((p.message, NewUserForm::default())),
            )
            .await
        }
    }
}
