//! A request by visitor id alone: `POST /privacy/{account}/browser` is where `ferry.privacy()`
//! on the account's site sends this browser's visitor id and website (a form post, so the id
//! stays out of URLs, history, logs and Referer headers). It answers a form to ask for this
//! browser's data — access or portability; erasure needs an email — and
//! `POST /privacy/{account}/browser/ask` takes it (form token, honeypot, the per-client limit)
//! and creates the request, verified by `visitor_id_possession`, then sends the browser to its
//! status page (`303`). Ferry never looks the visitor id up here, so a made-up id gets the
//! same pages as a real one.

use crate::api::client_ip::ClientIp;
use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::ask::Choice;
use super::limits::{form_token, form_token_valid};
use super::{Org, PrivacyPage, client_limited, failed, message, not_found, org, render};
use crate::services::requests::by_visitor::{self, MAX_VISITOR_ID, MAX_WEBSITE_ID, well_formed};
use crate::services::requests::self_service;
use crate::startup::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct BrowserForm {
    #[serde(default)]
    form_token: String,
    #[serde(default)]
    visitor_id: String,
    #[serde(default)]
    website_id: String,
    /// `ferry.js` with `data-domain` instead of `data-website-id` sends the domain.
    #[serde(default)]
    domain: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    homepage: String,
}

#[derive(Template)]
#[template(path = "privacy_browser.html")]
struct BrowserPage<'a> {
    org: &'a str,
    contact: Option<&'a str>,
    action: String,
    ask_by_email: String,
    form_token: String,
    visitor_id: &'a str,
    website_id: &'a str,
    error: Option<&'a str>,
    invalid: &'static str,
    choices: Vec<Choice>,
}

fn choices(kind: &str) -> Vec<Choice> {
    [
        (
            "access",
            "A copy of this browser's data",
            "what was recorded under its visitor id, and what is done with it (Art. 15)",
        ),
        (
            "portability",
            "This browser's data to take elsewhere",
            "in files another service can read, JSON and CSV (Art. 20)",
        ),
    ]
    .into_iter()
    .map(|(value, label, hint)| Choice {
        value,
        label,
        hint,
        checked: value == kind,
    })
    .collect()
}

fn form_page(
    app: &AppState,
    org: &Org,
    status: StatusCode,
    form: &BrowserForm,
    website_id: &str,
    error: Option<(&str, &'static str)>,
) -> Response {
    render(
        status,
        &BrowserPage {
            org: &org.name,
            contact: org.contact.as_deref(),
            action: org.path("/browser/ask"),
            ask_by_email: org.path(""),
            form_token: form_token(&app.links, org.id, app.clock.now()),
            visitor_id: &form.visitor_id,
            website_id,
            error: error.map(|(text, _)| text),
            invalid: error.map_or("", |(_, field)| field),
            choices: choices(&form.kind),
        },
    )
}

/// The one refusal of an id a tracker does not make: said, never echoed.
fn malformed(org: &Org) -> Response {
    message(
        StatusCode::UNPROCESSABLE_ENTITY,
        Some(org),
        "This browser's id cannot be used",
        &format!(
            "The visitor id this page received is not one the site's tracker makes (letters, \
             digits and dashes, 8 to {MAX_VISITOR_ID} characters). Open this page again from \
             the site, or ask with your email address."
        ),
    )
}

/// The website the form names, as its public id, if it is this account's.
async fn website(
    app: &AppState,
    org: &Org,
    form: &BrowserForm,
) -> Result<Option<String>, Response> {
    let store = app.store.as_ref();
    if !form.website_id.is_empty() {
        if !well_formed(&form.website_id, MAX_WEBSITE_ID) {
            return Ok(None);
        }
        let found = store
            .website_for_tracker(&form.website_id)
            .await
            .map_err(failed)?;
        return Ok(found.filter(|(a, _)| *a == org.id).map(|(_, w)| w.id));
    }
    if form.domain.is_empty() || form.domain.len() > 253 {
        return Ok(None);
    }
    let found = store
        .websites_with_domain(&form.domain, 100)
        .await
        .map_err(failed)?;
    let mut own = found.into_iter().filter(|(a, _)| *a == org.id);
    Ok(match (own.next(), own.next()) {
        (Some((_, w)), None) => Some(w.id),
        _ => None,
    })
}

/// What the page checks on every post: the account, the client limit, the ids.
async fn checked(
    page: &PrivacyPage,
    client: std::net::IpAddr,
    account: &str,
    form: &BrowserForm,
) -> Result<(Org, String), Response> {
    let app = &page.app;
    if let Some(refused) = client_limited(app, client) {
        return Err(refused);
    }
    let org = match org(app, account).await? {
        Some(org) if org.takes_requests => org,
        _ => return Err(not_found()),
    };
    if !well_formed(&form.visitor_id, MAX_VISITOR_ID) {
        return Err(malformed(&org));
    }
    let Some(website_id) = website(app, &org, form).await? else {
        return Err(message(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(&org),
            "This site is not one of ours",
            "This page was not opened from a site whose visits are recorded here. Open it \
             again from the site, or ask with your email address.",
        ));
    };
    Ok((org, website_id))
}

/// `POST /privacy/{account}/browser`: from `ferry.privacy()` on the site.
pub async fn open(
    State(page): State<PrivacyPage>,
    ClientIp(client): ClientIp,
    Path(account): Path<String>,
    Form(form): Form<BrowserForm>,
) -> Response {
    match checked(&page, client, &account, &form).await {
        Ok((org, website_id)) => page_ok(&page.app, &org, &form, &website_id),
        Err(answer) => answer,
    }
}

fn page_ok(app: &AppState, org: &Org, form: &BrowserForm, website_id: &str) -> Response {
    form_page(app, org, StatusCode::OK, form, website_id, None)
}

/// `POST /privacy/{account}/browser/ask`: the request, then its status page.
pub async fn submit(
    State(page): State<PrivacyPage>,
    ClientIp(client): ClientIp,
    Path(account): Path<String>,
    Form(form): Form<BrowserForm>,
) -> Response {
    let (org, website_id) = match checked(&page, client, &account, &form).await {
        Ok(found) => found,
        Err(answer) => return answer,
    };
    let app = &page.app;
    if !form_token_valid(&app.links, org.id, &form.form_token, app.clock.now()) {
        let text = "This form had expired, or did not come from this page. Send it again.";
        return form_page(
            app,
            &org,
            StatusCode::FORBIDDEN,
            &form,
            &website_id,
            Some((text, "")),
        );
    }
    if !["access", "portability"].contains(&form.kind.as_str()) {
        let text = "Choose what you ask for.";
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return form_page(app, &org, status, &form, &website_id, Some((text, "type")));
    }
    if let Err(wait) = page.limits.client(client) {
        let text = format!(
            "Too many requests came from your network. Please try again in {} minutes.",
            wait.div_ceil(60)
        );
        let status = StatusCode::TOO_MANY_REQUESTS;
        let mut response = form_page(app, &org, status, &form, &website_id, Some((&text, "")));
        if let Ok(value) = wait.to_string().parse() {
            response.headers_mut().insert("retry-after", value);
        }
        return response;
    }
    if !form.homepage.is_empty() {
        // A bot's post: nothing is created, and there is no status page to send it to.
        return not_found();
    }
    let ask = by_visitor::Ask {
        kind: form.kind.clone(),
        visitor_id: form.visitor_id.clone(),
        website_id,
    };
    match by_visitor::submit(app.store.as_ref(), app.clock.as_ref(), org.id, ask).await {
        Ok(request) => {
            let token = self_service::status_token(&app.links, org.id, &request.id);
            Redirect::to(&org.path(&format!("/status/{token}"))).into_response()
        }
        Err(problem) => failed(problem.message),
    }
}
