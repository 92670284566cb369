//! The dashboard, black-box: over HTTP with a cookie-less client that carries the session
//! cookie by hand (`Signed`), and in a real headless Chromium (`browser`).

mod api_keys;
mod auth;
mod chrome;
mod cli;
mod e2e;
mod isolation;
mod overview;
mod overview_e2e;
mod privacy_browser_e2e;
mod privacy_e2e;
mod request_actions;
mod requests;
mod requests_e2e;
mod scheduled;
mod scheduled_e2e;
mod scheduled_edit;
mod throttle;
mod users_page;
mod visitor_page;
mod visitors;

use ferry_store::{DashboardRole, Store};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use serde_json::json;

use crate::helpers::TestApp;

pub const PASSWORD: &str = "correct horse battery staple";

/// Creates a dashboard admin of account `account` through the same service as `ferry users
/// create`.
pub async fn add_user(store: &dyn Store, account: &str, email: &str) {
    add_user_as(store, account, email, DashboardRole::Admin).await;
}

pub async fn add_user_as(store: &dyn Store, account: &str, email: &str, role: DashboardRole) {
    let account = store.account_by_name(account).await.unwrap().unwrap();
    ferry::services::dashboard_users::create_user(
        store,
        account.id,
        email,
        PASSWORD.into(),
        role,
        "test",
    )
    .await
    .expect("the user is created");
}

/// A person of `website` with an email, two page views and an event.
pub async fn add_person(app: &TestApp, website: &str, key: &str, user: &str, email: &str) {
    let lines = [
        json!({"type": "identify", "website_id": website, "visitor_id": format!("v-{user}"), "user_id": user, "email": email, "name": "Ann Example", "created_at": "2024-01-01T00:00:00Z"}),
        crate::helpers::pageview(
            website,
            &format!("v-{user}"),
            "2024-05-01T10:00:00Z",
            "/products/widget",
        ),
        crate::helpers::pageview(
            website,
            &format!("v-{user}"),
            "2024-05-01T10:01:00Z",
            "/checkout",
        ),
        crate::helpers::event(
            website,
            &format!("v-{user}"),
            "2024-05-01T10:02:00Z",
            "purchase",
        ),
    ];
    let response = app
        .ingest_with(Some(key), crate::helpers::ndjson(&lines))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

/// A client that never follows redirects, so each answer can be checked.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The value of cookie `name` a response sets (its first `name=…` part).
pub fn set_cookie(response: &reqwest::Response, name: &str) -> Option<(String, String)> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| {
            let value = v[name.len() + 1..].split(';').next().unwrap().to_string();
            (value, v.to_string())
        })
}

/// The hidden `csrf` field of a page.
pub fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..].split('"').next().unwrap().to_string()
}

pub fn location(response: &reqwest::Response) -> &str {
    response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// A browser's session, by hand: the session cookie and the forms' CSRF token.
pub struct Signed {
    pub base: String,
    pub client: reqwest::Client,
    pub cookie: String,
    pub csrf: String,
}

/// Posts the sign-in form as a browser would (its CSRF cookie and field); the answer as is.
pub async fn try_login(
    base: &str,
    email: &str,
    password: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let client = client();
    let page = client.get(format!("{base}/login")).send().await.unwrap();
    let (token, _) =
        set_cookie(&page, "ferry_login_csrf").expect("the login page sets its CSRF cookie");
    let mut request = client
        .post(format!("{base}/login"))
        .header(COOKIE, format!("ferry_login_csrf={token}"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(&[
            ("email", email),
            ("password", password),
            ("csrf", &token),
        ]));
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    request.send().await.unwrap()
}

pub async fn login(base: &str, email: &str) -> Signed {
    let response = try_login(base, email, PASSWORD, &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "signed in");
    assert_eq!(
        location(&response),
        "/overview",
        "signing in lands on the overview"
    );
    let (token, _) = set_cookie(&response, "ferry_session").expect("a session cookie");
    let mut signed = Signed {
        base: base.to_string(),
        client: client(),
        cookie: format!("ferry_session={token}"),
        csrf: String::new(),
    };
    let page = signed.get("/settings/privacy/data-export").await;
    assert_eq!(page.status(), StatusCode::OK);
    signed.csrf = csrf_of(&page.text().await.unwrap());
    signed
}

impl Signed {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .unwrap()
    }

    pub async fn text(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.text().await.unwrap()
    }

    /// Posts a form with this session's cookie (and the CSRF token when `with_csrf`).
    pub async fn post(
        &self,
        path: &str,
        pairs: &[(&str, &str)],
        with_csrf: bool,
    ) -> reqwest::Response {
        let mut pairs = pairs.to_vec();
        if with_csrf {
            pairs.push(("csrf", &self.csrf));
        }
        self.client
            .post(format!("{}{path}", self.base))
            .header(COOKIE, &self.cookie)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form(&pairs))
            .send()
            .await
            .unwrap()
    }

    /// Asks for a JSON export of `subject` as the form does; the new export's id.
    pub async fn generate(&self, subject: &str) -> String {
        let response = self
            .post(
                "/settings/privacy/data-export",
                &[
                    ("subject", subject),
                    ("format", "json"),
                    ("pageviews", "on"),
                    ("events", "on"),
                    ("sessions", "on"),
                    ("profile", "on"),
                ],
                true,
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "{}",
            response.text().await.unwrap()
        );
        location(&response)
            .split("created=")
            .nth(1)
            .expect("the new export's id")
            .to_string()
    }
}
