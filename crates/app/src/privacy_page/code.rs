//! `POST /privacy/{account}/code`: the code from the mail, typed on the page the form
//! answered with. A right code verifies the request (`email_code_privacy_page`) and leads to
//! the status page; every other outcome — wrong, expired, replaced, locked, a request already
//! verified, a dropped submission's ticket — gets one message.

use crate::api::client_ip::ClientIp;

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::limits::{form_token, form_token_valid};
use super::{Org, PrivacyPage, client_limited, not_found, org, render};
use crate::services::Actor;
use crate::services::requests::self_service;
use crate::services::requests::verification::{self, Proof};

#[derive(Template)]
#[template(path = "privacy_sent.html")]
struct SentPage<'a> {
    org: &'a str,
    contact: Option<&'a str>,
    action: String,
    form_token: String,
    ticket: String,
    error: Option<&'static str>,
}

const CODE_FAILED: &str = "That code did not work. Use the code in the most recent mail we \
    sent: a code works for 24 hours, and after 5 wrong codes the request locks. If it has \
    locked or expired, ask again from the form.";

pub(super) fn sent_page(
    app: &crate::startup::AppState,
    org: &Org,
    status: StatusCode,
    request_id: &str,
    error: Option<&'static str>,
) -> Response {
    render(
        status,
        &SentPage {
            org: &org.name,
            contact: org.contact.as_deref(),
            action: org.path("/code"),
            form_token: form_token(&app.links, org.id, app.clock.now()),
            ticket: self_service::ticket(&app.links, org.id, request_id),
            error,
        },
    )
}

#[derive(Debug, Default, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    form_token: String,
    #[serde(default)]
    ticket: String,
    #[serde(default)]
    code: String,
}

pub async fn enter(
    State(page): State<PrivacyPage>,
    ClientIp(client): ClientIp,
    Path(account): Path<String>,
    form: Result<Form<CodeForm>, FormRejection>,
) -> Response {
    let app = &page.app;
    if let Some(refused) = client_limited(app, client) {
        return refused;
    }
    let org = match org(app, &account).await {
        Ok(Some(org)) => org,
        Ok(None) => return not_found(),
        Err(failure) => return failure,
    };
    let Ok(Form(form)) = form else {
        return super::message(
            StatusCode::BAD_REQUEST,
            Some(&org),
            "The form did not arrive whole",
            "Ask again from the form.",
        );
    };
    let Some(request_id) = self_service::ticket_request(&app.links, org.id, &form.ticket) else {
        return not_found();
    };
    if !form_token_valid(&app.links, org.id, &form.form_token, app.clock.now()) {
        return sent_page(
            app,
            &org,
            StatusCode::FORBIDDEN,
            &request_id,
            Some("This form had expired. Enter the code again."),
        );
    }
    let code = form.code.trim();
    let plausible = code.len() == 8 && code.bytes().all(|b| b.is_ascii_digit());
    if plausible {
        let actor = Actor::Subject { account: org.id };
        let verified = verification::verify(
            app.store.as_ref(),
            app.clock.as_ref(),
            &app.links,
            &actor,
            &request_id,
            Proof::PageCode(code),
        )
        .await;
        if let Ok(request) = verified {
            let token = self_service::status_token(&app.links, org.id, &request.id);
            return Redirect::to(&org.path(&format!("/status/{token}"))).into_response();
        }
    }
    sent_page(
        app,
        &org,
        StatusCode::UNPROCESSABLE_ENTITY,
        &request_id,
        Some(CODE_FAILED),
    )
}
