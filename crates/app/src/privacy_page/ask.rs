//! The form (`GET/POST /privacy/{account}`) and the code it leads to
//! (`POST /privacy/{account}/code`).
//!
//! Every submission that passes the checks on what was typed — whether Ferry took it, or the
//! honeypot or the per-email limit made it drop it — gets the same page: a code form whose
//! hidden ticket names the request (a random one when nothing was created). Every code that
//! does not verify gets one message, so a wrong code, a locked request and a dropped
//! submission read alike.

use crate::api::client_ip::ClientIp;

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use ferry_domain::request::{MAX_EMAIL_LEN, normalize_email};
use serde::Deserialize;

use super::code::sent_page;
use super::limits::{form_token, form_token_valid};
use super::{Org, PrivacyPage, client_limited, failed, not_found, org, render};
use crate::keys::random_id;
use crate::services::requests::self_service::{self, Ask, MAX_MESSAGE};
use crate::services::requests::verification;

#[derive(Debug, Default, Deserialize)]
pub struct AskForm {
    #[serde(default)]
    form_token: String,
    #[serde(default)]
    email: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    message: String,
    /// The honeypot: hidden from people, filled in by form-stuffing bots.
    #[serde(default)]
    homepage: String,
}

pub struct Choice {
    pub value: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "privacy_form.html")]
struct FormPage<'a> {
    org: &'a str,
    contact: Option<&'a str>,
    action: String,
    form_token: String,
    error: Option<String>,
    /// The field the error is about, marked `aria-invalid`.
    invalid: &'static str,
    email: String,
    message: String,
    choices: Vec<Choice>,
    max_message: usize,
}

fn choices(kind: &str) -> Vec<Choice> {
    let all = [
        (
            "access",
            "A copy of my data",
            "what you hold about me and what you do with it (Art. 15)",
        ),
        (
            "portability",
            "My data to take elsewhere",
            "in files another service can read, JSON and CSV (Art. 20)",
        ),
        (
            "erasure",
            "Delete my data",
            "remove what you hold about me (Art. 17)",
        ),
    ];
    all.into_iter()
        .map(|(value, label, hint)| Choice {
            value,
            label,
            hint,
            checked: value == kind,
        })
        .collect()
}

fn form_page(
    app: &crate::startup::AppState,
    org: &Org,
    status: StatusCode,
    kept: &AskForm,
    error: Option<(String, &'static str)>,
) -> Response {
    let (error, invalid) = match error {
        Some((message, field)) => (Some(message), field),
        None => (None, ""),
    };
    // Kept as typed, but never more than the field takes: an oversized post is not echoed.
    let email: String = kept.email.chars().take(MAX_EMAIL_LEN).collect();
    let message: String = kept.message.chars().take(MAX_MESSAGE).collect();
    render(
        status,
        &FormPage {
            org: &org.name,
            contact: org.contact.as_deref(),
            action: org.path(""),
            form_token: form_token(&app.links, org.id, app.clock.now()),
            error,
            invalid,
            email,
            message,
            choices: choices(&kept.kind),
            max_message: MAX_MESSAGE,
        },
    )
}

pub async fn show(
    State(page): State<PrivacyPage>,
    ClientIp(client): ClientIp,
    Path(account): Path<String>,
) -> Response {
    if let Some(refused) = client_limited(&page.app, client) {
        return refused;
    }
    match org(&page.app, &account).await {
        Ok(Some(org)) if org.takes_requests => {
            form_page(&page.app, &org, StatusCode::OK, &AskForm::default(), None)
        }
        // Off reads as no page at all: the same answer as an unknown account.
        Ok(_) => not_found(),
        Err(failure) => failure,
    }
}

/// What was typed, checked before anything is counted against the email: the normalised
/// address and the message (line breaks as `\n`), or what to say and the field to mark.
fn check(form: &AskForm) -> Result<(String, String), (String, &'static str)> {
    let email = normalize_email(&form.email).map_err(|_| {
        (
            format!(
                "Enter your email address as name@example.com (at most {MAX_EMAIL_LEN} characters)."
            ),
            "email",
        )
    })?;
    if !["access", "portability", "erasure"].contains(&form.kind.as_str()) {
        return Err(("Choose what you ask for.".into(), "type"));
    }
    // Browsers send a textarea's line breaks as CR LF; the request keeps them as LF.
    let message = form.message.replace("\r\n", "\n").replace('\r', "\n");
    if message
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err((
            "Your message contains characters that are not text (control characters). \
             Remove them, and send the form again."
                .into(),
            "message",
        ));
    }
    let length = message.chars().count();
    if length > MAX_MESSAGE {
        return Err((
            format!(
                "Your message is {length} characters long; it can be at most {MAX_MESSAGE}. \
                 Shorten it, and send the form again."
            ),
            "message",
        ));
    }
    Ok((email, message))
}

pub async fn submit(
    State(page): State<PrivacyPage>,
    ClientIp(client): ClientIp,
    Path(account): Path<String>,
    form: Result<Form<AskForm>, FormRejection>,
) -> Response {
    let app = &page.app;
    if let Some(refused) = client_limited(app, client) {
        return refused;
    }
    let org = match org(app, &account).await {
        Ok(Some(org)) if org.takes_requests => org,
        Ok(_) => return not_found(),
        Err(failure) => return failure,
    };
    let form = match form {
        Ok(Form(form)) => form,
        Err(rejection) => {
            let too_large = rejection.status() == StatusCode::PAYLOAD_TOO_LARGE;
            let (status, text) = if too_large {
                (
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "What you sent is too long: the message can be at most {MAX_MESSAGE} \
                         characters. Shorten it, and send the form again."
                    ),
                )
            } else {
                (
                    StatusCode::BAD_REQUEST,
                    "The form did not arrive whole. Fill it in and send it again.".into(),
                )
            };
            return form_page(app, &org, status, &AskForm::default(), Some((text, "")));
        }
    };
    let now = app.clock.now();
    if !form_token_valid(&app.links, org.id, &form.form_token, now) {
        let text = "This form had expired, or did not come from this page. Check what you \
                    typed, and send it again.";
        return form_page(
            app,
            &org,
            StatusCode::FORBIDDEN,
            &form,
            Some((text.into(), "")),
        );
    }
    let (email, message) = match check(&form) {
        Ok(checked) => checked,
        Err(error) => {
            return form_page(
                app,
                &org,
                StatusCode::UNPROCESSABLE_ENTITY,
                &form,
                Some(error),
            );
        }
    };
    if let Err(wait) = page.limits.client(client) {
        let mut response = form_page(
            app,
            &org,
            StatusCode::TOO_MANY_REQUESTS,
            &form,
            Some((
                format!(
                    "Too many requests came from your network. Please try again in {} minutes.",
                    wait.div_ceil(60)
                ),
                "",
            )),
        );
        if let Ok(value) = wait.to_string().parse() {
            response.headers_mut().insert("retry-after", value);
        }
        return response;
    }
    if verification::require_relay(app.worker.mail.is_some()).is_err() {
        return super::message(
            StatusCode::SERVICE_UNAVAILABLE,
            Some(&org),
            "Requests cannot be taken here right now",
            "We cannot send the confirmation mail at the moment, so this form cannot take your \
             request. Please write to the contact below, or try again later.",
        );
    }
    // A bot's post, or a fourth request for this address within the hour: answered as a
    // taken one (a refusal would tell a stranger someone asked), with nothing created.
    if !form.homepage.is_empty() || !page.limits.email(org.id, &email) {
        return sent_page(app, &org, StatusCode::OK, &random_id("req_", 8), None);
    }
    let ask = Ask {
        kind: form.kind.clone(),
        email,
        message: Some(message),
    };
    match self_service::submit(
        app.store.as_ref(),
        app.clock.as_ref(),
        &app.links,
        org.id,
        ask,
    )
    .await
    {
        Ok(request) => {
            app.worker.wake.notify_one();
            sent_page(app, &org, StatusCode::OK, &request.id, None)
        }
        Err(problem) => failed(problem.message),
    }
}
