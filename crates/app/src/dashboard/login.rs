//! `GET/POST /login` and `POST /logout`. A wrong password and an unknown email get the same
//! page, status and (through the password check's decoy) time; five in a row slow the next
//! try down (`throttle`).

use std::net::SocketAddr;

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;

use super::page::{PageError, render};
use super::session::{self, LOGIN_CSRF_COOKIE, SESSION_COOKIE, SESSION_TTL_MS, SignedIn};
use super::{Dashboard, LANDING, throttle};
use crate::services::dashboard_users::check_password;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    csrf: &'a str,
    email: &'a str,
    error: Option<String>,
}

fn with_cookie(mut response: Response, cookie: String) -> Response {
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

pub async fn show(
    State(state): State<Dashboard>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    if session::current(&state, &headers).await?.is_some() {
        return Ok(Redirect::to(LANDING).into_response());
    }
    let token = session::cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_else(session::new_token);
    let page = render(
        StatusCode::OK,
        &LoginPage {
            csrf: &token,
            email: "",
            error: None,
        },
    );
    let cookie = session::set_cookie(
        LOGIN_CSRF_COOKIE,
        Some(&token),
        "/login",
        state.secure_cookies,
    );
    Ok(with_cookie(page, cookie))
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    csrf: Option<String>,
}

pub async fn submit(
    State(state): State<Dashboard>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let Some(expected) = session::cookie(&headers, LOGIN_CSRF_COOKIE) else {
        return Err(PageError::csrf());
    };
    if !super::csrf::matches(&expected, form.csrf.as_deref()) {
        return Err(PageError::csrf());
    }
    let client = state.app.enricher.client_ip(&headers, Some(peer.ip()));
    let keys = throttle::keys(&form.email, client);
    let now = state.app.clock.now();
    if let Err(wait) = state.throttle.check(&keys, now) {
        let page = LoginPage {
            csrf: &expected,
            email: &form.email,
            error: Some(format!(
                "Too many failed sign-ins. Wait {wait} seconds, then try again."
            )),
        };
        let mut response = render(StatusCode::TOO_MANY_REQUESTS, &page);
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(wait));
        return Ok(response);
    }
    let Some(user) = check_password(state.app.store.as_ref(), &form.email, &form.password).await?
    else {
        state.throttle.failed(&keys, now);
        let page = LoginPage {
            csrf: &expected,
            email: &form.email,
            error: Some("Wrong email or password.".into()),
        };
        return Ok(render(StatusCode::UNAUTHORIZED, &page));
    };
    state.throttle.succeeded(&keys);
    let token = session::new_token();
    state
        .app
        .store
        .create_dashboard_session(
            &crate::keys::hash(&token),
            &user.id,
            now,
            now + SESSION_TTL_MS,
        )
        .await?;
    let entry = crate::audit::event(
        &user.email,
        "dashboard.signed_in",
        json!({"user_id": user.id}),
    );
    crate::audit::record_or_log(state.app.store.as_ref(), user.account, entry).await;
    tracing::info!(user.id = %user.id, "signed in to the dashboard");
    let response = Redirect::to(LANDING).into_response();
    let response = with_cookie(
        response,
        session::set_cookie(SESSION_COOKIE, Some(&token), "/", state.secure_cookies),
    );
    Ok(with_cookie(
        response,
        session::set_cookie(LOGIN_CSRF_COOKIE, None, "/login", state.secure_cookies),
    ))
}

#[derive(Deserialize)]
pub struct CsrfForm {
    pub csrf: Option<String>,
}

pub async fn logout(
    State(state): State<Dashboard>,
    signed_in: SignedIn,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    signed_in.check_csrf(form.csrf.as_deref())?;
    state
        .app
        .store
        .delete_dashboard_session(&signed_in.token_hash, state.app.clock.now())
        .await?;
    Ok(with_cookie(
        Redirect::to("/login").into_response(),
        session::set_cookie(SESSION_COOKIE, None, "/", state.secure_cookies),
    ))
}
