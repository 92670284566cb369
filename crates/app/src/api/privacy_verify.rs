//! `GET/POST /privacy/verify/{token}`: the link in the verification mail. Public, so:
//!
//! - A `GET` changes nothing (mail scanners and link previews fetch links): it shows a
//!   confirm button, and only its `POST` verifies.
//! - Every token Ferry cannot use (unknown, expired, replaced, or its request locked) gets
//!   the same page and status, so the page tells a guesser nothing; the page never shows the
//!   email, the request or the account.
//! - Limited per client address ([`PRIVACY_RATE_PER_MINUTE`]); tokens are 256 bits, so the
//!   limit guards the database, not the secret.
//! - `no-store`, `no-referrer` and `noindex`: the token is in the URL.

use crate::api::client_ip::ClientIp;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use ferry_domain::AccountId;

use crate::services::Actor;
use crate::services::requests::self_service;
use crate::services::requests::verification::{self, LinkState, Proof};
use crate::startup::AppState;

/// Requests a minute one client address may send to the privacy pages.
pub const PRIVACY_RATE_PER_MINUTE: u32 = 20;

pub(super) fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>body{{font:1.1rem/1.5 system-ui,sans-serif;max-width:36rem;\
         margin:2rem auto;padding:0 1rem;color:#111;background:#fff}}button{{font:inherit;\
         padding:.6rem 1.2rem;background:#0b4f9c;color:#fff;border:0;border-radius:.3rem}}\
         button:focus{{outline:3px solid #f5a623;outline-offset:2px}}</style></head>\
         <body><main><h1>{title}</h1>{body}</main></body></html>"
    );
    let mut response = (status, Html(html)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert("x-robots-tag", HeaderValue::from_static("noindex"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
        ),
    );
    response
}

fn invalid() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "This link cannot be used",
        "<p>The link is not valid: it may have expired (links last 24 hours) or been replaced \
         by a newer one. Ask the organisation that sent it for a new one.</p>",
    )
}

fn done() -> Response {
    page(
        StatusCode::OK,
        "Thank you: it is confirmed",
        "<p>Your request is confirmed. You will hear from the organisation that sent the link.</p>",
    )
}

/// Confirmed just now: the subject's status page is linked (its token is given only here
/// and after a code typed on the privacy page).
async fn done_with_status(state: &AppState, account: AccountId, request_id: &str) -> Response {
    let Ok(Some(found)) = state.store.account(account).await else {
        return done();
    };
    let token = self_service::status_token(&state.links, account, request_id);
    let href = format!(
        "/privacy/{}/status/{token}",
        crate::privacy_page::path_segment(&found.name)
    );
    page(
        StatusCode::OK,
        "Thank you: it is confirmed",
        &format!(
            "<p>Your request is confirmed. You will hear from the organisation that sent the \
             link.</p><p><a id=\"status-link\" href=\"{href}\">Follow your request</a>: keep \
             this page's address to come back to it, and do not share it.</p>"
        ),
    )
}

pub(super) fn limited(state: &AppState, client: std::net::IpAddr) -> Option<Response> {
    let refused = state
        .privacy_rate_limit
        .check(&format!("privacy:{}", client))
        .err()?;
    let mut response = page(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many attempts",
        "<p>Please wait a minute, then try again.</p>",
    );
    for (name, value) in refused.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    Some(response)
}

/// What a request of `kind` asks for, in the subject's words: someone who did not ask (a
/// stranger can type anyone's address) must see that this one would delete their data.
fn asks_for(kind: ferry_domain::request::RequestType) -> &'static str {
    use ferry_domain::request::RequestType;
    match kind {
        RequestType::Access => "a copy of your data",
        RequestType::Portability => "your data in files you can take to another service",
        RequestType::Erasure => "<strong>your data to be deleted</strong>",
    }
}

pub async fn show(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    Path(token): Path<String>,
) -> Response {
    if let Some(refused) = limited(&state, client) {
        return refused;
    }
    match verification::link_state(
        state.store.as_ref(),
        state.clock.as_ref(),
        &state.links,
        &token,
    )
    .await
    {
        Ok(LinkState::Confirmable { request, .. }) => page(
            StatusCode::OK,
            "Confirm your request",
            &format!(
                "<p>This request asks for {what}; it was received on {day}.</p>\
                 <p>Press the button to confirm that you made it. If you did not, do not \
                 confirm: nothing happens without it.</p>\
                 <form method=\"post\"><button type=\"submit\">Confirm</button></form>",
                what = asks_for(request.kind),
                day = request.received_on,
            ),
        ),
        Ok(LinkState::Done) => done(),
        Ok(LinkState::Invalid) => invalid(),
        Err(e) => e.into_response(),
    }
}

pub async fn confirm(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    Path(token): Path<String>,
) -> Response {
    if let Some(refused) = limited(&state, client) {
        return refused;
    }
    let store = state.store.as_ref();
    let (account, request) =
        match verification::link_state(store, state.clock.as_ref(), &state.links, &token).await {
            Ok(LinkState::Confirmable { account, request }) => (account, request),
            Ok(LinkState::Done) => return done(),
            Ok(LinkState::Invalid) => return invalid(),
            Err(e) => return e.into_response(),
        };
    let actor = Actor::Subject { account };
    match verification::verify(
        store,
        state.clock.as_ref(),
        &state.links,
        &actor,
        &request.id,
        Proof::Link,
    )
    .await
    {
        Ok(verified) => done_with_status(&state, account, &verified.id).await,
        // Changed meanwhile (a second click racing the first): answer as a fresh load would.
        Err(_) => match verification::link_state(store, state.clock.as_ref(), &state.links, &token)
            .await
        {
            Ok(LinkState::Done) => done(),
            _ => invalid(),
        },
    }
}
