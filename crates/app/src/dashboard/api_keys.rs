//! Settings → API keys (admins only): the account's keys, a new key (its secret shown on the
//! answer page once, never put in a URL), and revoking one. Both go through the keys service,
//! as `POST /keys` and `DELETE /keys/{id}` do.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use ferry_domain::{ApiKeyInfo, Scope};
use ferry_store::DashboardRole;
use serde::Deserialize;

use super::Dashboard;
use super::login::CsrfForm;
use super::page::{Chrome, PageError, render};
use super::session::SignedIn;

pub const PATH: &str = "/settings/api-keys";

pub struct NewKey {
    id: String,
    secret: String,
}

pub struct KeyRow {
    id: String,
    name: String,
    prefix: String,
    scopes: String,
    created_at: String,
    last_used_at: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "api_keys.html")]
struct ApiKeysPage {
    chrome: Chrome,
    keys: Vec<KeyRow>,
    scopes: Vec<&'static str>,
    /// The key just made: shown here once.
    created: Option<NewKey>,
    error: Option<String>,
}

fn row(k: ApiKeyInfo) -> KeyRow {
    KeyRow {
        name: k.name.unwrap_or_default(),
        prefix: k.prefix,
        scopes: k.scopes.to_list().replace(',', ", "),
        created_at: ferry_domain::time::rfc3339(k.created_at),
        last_used_at: k
            .last_used_at
            .map(ferry_domain::time::rfc3339)
            .unwrap_or_default(),
        revoked: k.revoked_at.is_some(),
        id: k.id,
    }
}

fn admin_only(s: &SignedIn) -> Result<(), PageError> {
    if s.user.role == DashboardRole::Admin {
        return Ok(());
    }
    Err(PageError {
        status: StatusCode::FORBIDDEN,
        title: "Admins only",
        message: "API keys are managed by the account's admins.".into(),
        headers: Vec::new(),
    })
}

async fn show(
    state: &Dashboard,
    s: &SignedIn,
    status: StatusCode,
    created: Option<NewKey>,
    error: Option<String>,
) -> Result<Response, PageError> {
    let keys = state.app.store.keys(s.user.account).await?;
    let page = ApiKeysPage {
        chrome: Chrome::new(s, "api-keys"),
        keys: keys.into_iter().map(row).collect(),
        scopes: Scope::ALL.iter().map(|s| s.as_str()).collect(),
        created,
        error,
    };
    Ok(render(status, &page))
}

pub async fn page(State(state): State<Dashboard>, s: SignedIn) -> Result<Response, PageError> {
    admin_only(&s)?;
    show(&state, &s, StatusCode::OK, None, None).await
}

/// Ticked scopes arrive as `scope_<name>=on` (repeated keys do not survive form decoding).
#[derive(Debug, Deserialize)]
pub struct NewKeyForm {
    #[serde(default)]
    name: String,
    csrf: Option<String>,
    #[serde(flatten)]
    ticked: std::collections::HashMap<String, String>,
}

pub async fn create(
    State(state): State<Dashboard>,
    s: SignedIn,
    Form(form): Form<NewKeyForm>,
) -> Result<Response, PageError> {
    admin_only(&s)?;
    s.check_csrf(form.csrf.as_deref())?;
    let scopes: Vec<Scope> = Scope::ALL
        .into_iter()
        .filter(|scope| {
            form.ticked
                .contains_key(&format!("scope_{}", scope.as_str()))
        })
        .collect();
    let name = Some(form.name).filter(|n| !n.trim().is_empty());
    match crate::services::keys::create_key(state.app.store.as_ref(), &s.actor(), name, scopes)
        .await
    {
        Ok((info, secret)) => {
            show(
                &state,
                &s,
                StatusCode::CREATED,
                Some(NewKey {
                    id: info.id,
                    secret,
                }),
                None,
            )
            .await
        }
        Err(problem) => show(&state, &s, problem.status(), None, Some(problem.message)).await,
    }
}

pub async fn revoke(
    State(state): State<Dashboard>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    admin_only(&s)?;
    s.check_csrf(form.csrf.as_deref())?;
    crate::services::keys::revoke_key(state.app.store.as_ref(), &s.actor(), &id)
        .await
        .map_err(|p| match p.status() {
            StatusCode::NOT_FOUND => PageError {
                status: StatusCode::NOT_FOUND,
                title: "Not found",
                message: "There is no such key in this account.".into(),
                headers: Vec::new(),
            },
            _ => p.into(),
        })?;
    Ok(Redirect::to(PATH).into_response())
}
