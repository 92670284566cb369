//! The self-service privacy page over HTTP, black-box: the same answer for an address Ferry
//! holds data about and one it does not, the form token, the honeypot, the limits, oversized
//! input, the code typed on the page, and the status page's token. Mail goes through the
//! real SMTP relay (`scripts/services/smtp.sh`) and is read back from its Maildir.

use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use reqwest::{Response, StatusCode};
use serde_json::Value;

use crate::helpers::TestApp;
use crate::requests::{id, unique_email};
use crate::requests_fulfilment::person;
use crate::requests_verification::{app_with_mail, code_and_link, mails_to};

/// A client that shows each answer as it is (no redirects followed).
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of the hidden input `name` in `html`.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no `{name}` in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

/// A fresh form token of `account`'s page.
pub async fn form_token(app: &TestApp, account: &str) -> String {
    let page = browser()
        .get(app.url(&format!("/privacy/{account}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    hidden(&page.text().await.unwrap(), "form_token")
}

pub async fn ask(app: &TestApp, fields: &[(&str, &str)]) -> Response {
    browser()
        .post(app.url("/privacy/acme"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(crate::dashboard::form(fields))
        .send()
        .await
        .unwrap()
}

/// Asks for `kind` about `email` with a valid form token.
pub async fn ask_ok(app: &TestApp, email: &str, kind: &str) -> Response {
    let token = form_token(app, "acme").await;
    ask(
        app,
        &[("form_token", &token), ("email", email), ("type", kind)],
    )
    .await
}

/// The account's requests, oldest first.
pub async fn requests(app: &TestApp) -> Vec<Value> {
    let list = app.get_json(&app.api("/requests")).await;
    list["data"].as_array().unwrap().clone()
}

pub fn of(list: &[Value], email: &str) -> Vec<Value> {
    list.iter()
        .filter(|r| r["subject"]["email"] == email)
        .cloned()
        .collect()
}

/// Status, the headers that could tell two answers apart, and the body with its one
/// per-request value (the ticket naming the request) blanked.
pub async fn shape(response: Response) -> (StatusCode, Vec<Option<String>>, String) {
    let status = response.status();
    let headers = [
        CONTENT_TYPE,
        CACHE_CONTROL,
        CONTENT_SECURITY_POLICY,
        reqwest::header::CONTENT_LENGTH,
    ]
    .iter()
    .map(|h| {
        response
            .headers()
            .get(h)
            .map(|v| v.to_str().unwrap().to_string())
    })
    .collect();
    let body = response.text().await.unwrap();
    let ticket = hidden(&body, "ticket");
    (status, headers, body.replace(&ticket, "TICKET"))
}

#[tokio::test]
async fn the_page_answers_the_same_for_an_address_with_data_and_one_without() {
    let app = app_with_mail().await;
    let known = unique_email("known");
    let unknown = unique_email("unknown");
    person(&app, &known).await;

    let a = shape(ask_ok(&app, &known, "access").await).await;
    let b = shape(ask_ok(&app, &unknown, "access").await).await;
    assert_eq!(a.0, StatusCode::OK);
    assert_eq!(a, b, "the answers differ");
    assert!(
        a.2.contains("If the address you gave can receive mail"),
        "{}",
        a.2
    );
    assert!(
        !a.2.contains(&known) && !b.2.contains(&unknown),
        "no address echoed"
    );

    // Both took the same path: a request from the page, its code mailed.
    let list = requests(&app).await;
    for email in [&known, &unknown] {
        let found = of(&list, email);
        assert_eq!(found.len(), 1, "{list:?}");
        assert_eq!(found[0]["status"], "verification_sent");
        let shown = app
            .get_json(&app.api(&format!("/requests/{}", id(&found[0]))))
            .await;
        assert_eq!(shown["timeline"][0]["step"], "received");
        assert_eq!(shown["timeline"][0]["actor"], "subject");
        assert_eq!(shown["timeline"][0]["details"]["source"], "privacy_page");
        assert_eq!(shown["timeline"][1]["step"], "verification_sent");
    }
    app.run_jobs().await;
    for email in [&known, &unknown] {
        let (code, _) = code_and_link(email);
        assert_eq!(code.len(), 8);
    }
}

#[tokio::test]
async fn a_form_without_its_token_or_with_another_accounts_is_refused_and_keeps_what_was_typed() {
    let app = app_with_mail().await;
    app.other_account().await;
    let other = "globex";
    let email = unique_email("no-token");
    let foreign = form_token(&app, other).await;
    for token in ["", "123.abc", foreign.as_str()] {
        let response = ask(
            &app,
            &[
                ("form_token", token),
                ("email", &email),
                ("type", "erasure"),
                ("message", "my words"),
            ],
        )
        .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{token}");
        let body = response.text().await.unwrap();
        assert!(body.contains("This form had expired"), "{body}");
        assert!(
            body.contains(&format!("value=\"{email}\"")),
            "the email is kept"
        );
        assert!(body.contains(">my words</textarea>"), "the message is kept");
        assert!(
            body.contains("value=\"erasure\" required checked"),
            "the type is kept"
        );
    }
    // An expired token (the form is good for two hours).
    let token = form_token(&app, "acme").await;
    app.clock.advance(2 * 3_600_000);
    let response = ask(
        &app,
        &[
            ("form_token", &token),
            ("email", &email),
            ("type", "access"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        of(&requests(&app).await, &email).is_empty(),
        "nothing created"
    );
    app.run_jobs().await;
    assert!(mails_to(&email).is_empty(), "nothing mailed");
}

#[tokio::test]
async fn oversized_or_bad_fields_get_a_message_and_the_form_back_and_change_nothing() {
    let app = app_with_mail().await;
    let email = unique_email("oversized");
    let token = form_token(&app, "acme").await;
    let long = "x".repeat(2_001);
    let response = ask(
        &app,
        &[
            ("form_token", &token),
            ("email", &email),
            ("type", "access"),
            ("message", &long),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(
        body.contains("Your message is 2001 characters long; it can be at most 2000"),
        "{body}"
    );
    assert!(
        body.contains(&format!("value=\"{email}\"")),
        "the email is kept"
    );
    assert!(
        body.contains("aria-invalid=\"true\">xxxx"),
        "the message is marked and kept"
    );

    let huge = "x".repeat(100_000);
    let response = ask(
        &app,
        &[
            ("form_token", &token),
            ("email", &email),
            ("type", "access"),
            ("message", &huge),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body = response.text().await.unwrap();
    assert!(body.contains("What you sent is too long"), "{body}");
    assert!(!body.contains(&huge[..3_000]), "not echoed");

    for (fields, says) in [
        (
            vec![("email", "not-an-address"), ("type", "access")],
            "Enter your email address",
        ),
        (
            vec![("email", email.as_str()), ("type", "everything")],
            "Choose what you ask for",
        ),
        (
            vec![("email", &"a".repeat(300)), ("type", "access")],
            "Enter your email address",
        ),
    ] {
        let mut fields = fields;
        fields.push(("form_token", &token));
        let response = ask(&app, &fields).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = response.text().await.unwrap();
        assert!(body.contains(says), "{body}");
        assert!(body.starts_with("<!doctype html>"), "a page, not JSON");
    }
    assert!(
        of(&requests(&app).await, &email).is_empty(),
        "nothing created"
    );
    assert!(requests(&app).await.is_empty());
}

#[tokio::test]
async fn the_honeypot_and_a_fourth_request_for_one_address_look_taken_but_create_nothing() {
    let app = app_with_mail().await;
    let email = unique_email("limited");
    let token = form_token(&app, "acme").await;
    let bot = ask(
        &app,
        &[
            ("form_token", &token),
            ("email", &email),
            ("type", "access"),
            ("homepage", "http://spam.example"),
        ],
    )
    .await;
    let bot = shape(bot).await;
    assert!(requests(&app).await.is_empty(), "the honeypot took nothing");

    let mut answers = Vec::new();
    for _ in 0..4 {
        answers.push(shape(ask_ok(&app, &email, "access").await).await);
    }
    assert!(
        answers.iter().all(|a| *a == bot),
        "every answer is the same"
    );
    let mine = of(&requests(&app).await, &email);
    assert_eq!(mine.len(), 3, "the fourth within the hour is dropped");
    // Repeats while one is open are linked to it, not lost.
    assert_eq!(mine[1]["linked_to"], mine[0]["id"]);
    assert_eq!(mine[2]["linked_to"], mine[0]["id"]);
    app.run_jobs().await;
    assert_eq!(mails_to(&email).len(), 3, "one mail per request taken");
}

#[tokio::test]
async fn one_client_may_send_ten_requests_an_hour_then_gets_429_with_the_form_kept() {
    let app = app_with_mail().await;
    let token = form_token(&app, "acme").await;
    for i in 0..10 {
        let email = unique_email(&format!("client-{i}"));
        let response = ask(
            &app,
            &[
                ("form_token", &token),
                ("email", &email),
                ("type", "access"),
            ],
        )
        .await;
        assert_eq!(response.status(), StatusCode::OK, "request {i}");
    }
    let email = unique_email("client-over");
    let response = ask(
        &app,
        &[
            ("form_token", &token),
            ("email", &email),
            ("type", "access"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3_600).contains(&wait), "{wait}");
    let body = response.text().await.unwrap();
    assert!(
        body.contains("Too many requests came from your network"),
        "{body}"
    );
    assert!(
        body.contains(&format!("value=\"{email}\"")),
        "the form is kept"
    );
    assert_eq!(requests(&app).await.len(), 10);
}
