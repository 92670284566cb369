//! Identity verification through the real SMTP relay (`scripts/services/smtp.sh`): the code
//! and link are read from the mail that arrived, as a subject would.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, spawn_app_with};
use crate::requests::{id, post_ok, post_with, receive, steps, unique_email};

pub const MAILDIR: &str = "/var/tmp/ferry-services/smtp/maildir/new";

pub async fn app_with_mail() -> TestApp {
    let mut args = ferry::config::ServeArgs::loopback();
    args.mail.smtp_url = Some("smtp://ferry:ferry-test-smtp@127.0.0.1:2525".into());
    args.mail.smtp_from = Some("privacy@example.com".into());
    spawn_app_with(args).await
}

/// Every mail the relay took for `to`, oldest first: `{subject, to, body}`.
pub fn mails_to(to: &str) -> Vec<Value> {
    // The checkout running the test, not the one that first built it (see golden.rs).
    let dir =
        std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into());
    let script = format!("{dir}/../../scripts/services/read_mails.py");
    let out = std::process::Command::new("python3")
        .args([script.as_str(), MAILDIR, to])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The code and link of the last verification mail to `to`.
pub fn code_and_link(to: &str) -> (String, String) {
    let mails = mails_to(to);
    let mail = mails.last().unwrap_or_else(|| panic!("no mail to {to}"));
    assert_eq!(mail["subject"], "Confirm your data request");
    let body = mail["body"].as_str().unwrap();
    let code = body
        .split("give us this code: ")
        .nth(1)
        .and_then(|rest| rest.get(..8))
        .unwrap_or_else(|| panic!("a code in {body}"))
        .to_string();
    assert!(code.bytes().all(|b| b.is_ascii_digit()), "{code}");
    let link = body
        .split_whitespace()
        .find(|w| w.contains("/privacy/verify/"))
        .unwrap_or_else(|| panic!("a link in {body}"))
        .to_string();
    (code, link)
}

/// A request, with its verification mailed (the worker stepped).
pub async fn sent(app: &TestApp, email: &str) -> Value {
    let request = receive(app, email, None).await;
    let sent = post_ok(
        app,
        &format!("/requests/{}/verification", id(&request)),
        json!({}),
        StatusCode::ACCEPTED,
    )
    .await;
    assert_eq!(sent["status"], "verification_sent");
    app.run_jobs().await;
    sent
}

pub async fn verify(app: &TestApp, request: &Value, code: &str) -> reqwest::Response {
    post_with(
        app,
        &app.admin_key,
        &format!("/requests/{}/verify", id(request)),
        json!({"code": code}),
    )
    .await
}

/// Any code but `code`.
fn wrong(code: &str) -> String {
    let first = if code.starts_with('1') { '2' } else { '1' };
    format!("{first}{}", &code[1..])
}

#[tokio::test]
async fn a_request_walks_from_receipt_through_the_mailed_code_to_closed() {
    let app = app_with_mail().await;
    let email = unique_email("walk");
    let request = sent(&app, &email).await;
    let (code, _) = code_and_link(&email);
    let mail = &mails_to(&email)[0];
    assert!(
        mail["body"].as_str().unwrap().contains(&id(&request)),
        "the mail names the request"
    );

    let response = verify(&app, &request, &wrong(&code)).await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "verification_code_invalid");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("4 attempts left"),
        "{body}"
    );

    let response = verify(&app, &request, &code).await;
    assert_eq!(response.status(), StatusCode::OK);
    let verified: Value = response.json().await.unwrap();
    assert_eq!(verified["status"], "verified");
    assert_eq!(verified["verification"]["state"], "verified");
    assert_eq!(verified["verification"]["method"], "email_code");
    assert!(verified["verification"]["verified_at"].is_string());

    let path = |action: &str| format!("/requests/{}/{action}", id(&request));
    post_ok(&app, &path("start"), json!({}), StatusCode::OK).await;
    // Delivery and confirmation are the fulfilment's steps; close waits for them.
    let response = post_with(&app, &app.admin_key, &path("close"), json!({})).await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::CONFLICT, "illegal_transition".into())
    );

    let shown = app
        .get_json(&app.api(&format!("/requests/{}", id(&request))))
        .await;
    assert_eq!(
        steps(&shown),
        [
            "received",
            "verification_sent",
            "mail_sent",
            "verification_failed",
            "verified",
            "started"
        ]
    );
    let timeline = shown["timeline"].as_array().unwrap();
    assert_eq!(timeline[2]["actor"], "worker");
    assert_eq!(timeline[4]["details"]["method"], "email_code");
    let text = shown.to_string();
    assert!(!text.contains(&code), "the code is never shown");
    let audit = app.get_json(&app.api("/audit?action=request")).await;
    assert!(!audit.to_string().contains(&code), "nor audited");
}

#[tokio::test]
async fn the_link_shows_a_confirm_button_and_only_its_post_verifies() {
    let app = app_with_mail().await;
    let email = unique_email("link");
    let request = sent(&app, &email).await;
    let (_, link) = code_and_link(&email);

    // A mail scanner's prefetch (GET, twice) changes nothing.
    for _ in 0..2 {
        let page = app.client.get(&link).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(page.headers()["cache-control"], "no-store");
        assert_eq!(page.headers()["referrer-policy"], "no-referrer");
        let html = page.text().await.unwrap();
        assert!(html.contains("<form method=\"post\">"), "{html}");
        assert!(
            !html.contains(&email) && !html.contains(&id(&request)),
            "reveals nothing"
        );
    }
    let shown = app
        .get_json(&app.api(&format!("/requests/{}", id(&request))))
        .await;
    assert_eq!(shown["status"], "verification_sent");

    let confirmed = app.client.post(&link).send().await.unwrap();
    assert_eq!(confirmed.status(), StatusCode::OK);
    assert!(confirmed.text().await.unwrap().contains("confirmed"));
    let shown = app
        .get_json(&app.api(&format!("/requests/{}", id(&request))))
        .await;
    assert_eq!(shown["status"], "verified");
    assert_eq!(shown["verification"]["method"], "email_link");
    let last = shown["timeline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last["step"].as_str(), last["actor"].as_str()),
        (Some("verified"), Some("subject"))
    );

    // A second click says so; it verifies nothing twice.
    let again = app.client.post(&link).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    let shown = app
        .get_json(&app.api(&format!("/requests/{}", id(&request))))
        .await;
    assert_eq!(steps(&shown).iter().filter(|s| *s == "verified").count(), 1);
}

#[tokio::test]
async fn wrong_codes_lock_the_request_after_five_and_then_even_the_right_one_is_refused() {
    let app = app_with_mail().await;
    let email = unique_email("lock");
    let request = sent(&app, &email).await;
    let (code, link) = code_and_link(&email);
    for left in (1..5).rev() {
        let body: Value = verify(&app, &request, &wrong(&code))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(body["error"]["code"], "verification_code_invalid");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&format!("{left} attempts left")),
            "{body}"
        );
    }
    let response = verify(&app, &request, &wrong(&code)).await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::CONFLICT, "verification_locked".into())
    );
    let response = verify(&app, &request, &code).await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::CONFLICT, "verification_locked".into())
    );
    // The link is dead too, and a new code cannot unlock it.
    assert_eq!(
        app.client.post(&link).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let response = post_with(
        &app,
        &app.admin_key,
        &format!("/requests/{}/verification", id(&request)),
        json!({}),
    )
    .await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::CONFLICT, "verification_locked".into())
    );

    let shown = app
        .get_json(&app.api(&format!("/requests/{}", id(&request))))
        .await;
    assert_eq!(shown["status"], "verification_sent");
    assert_eq!(shown["verification"]["state"], "locked");
    assert_eq!(shown["verification"]["attempts_left"], 0);
    assert_eq!(
        steps(&shown)
            .iter()
            .filter(|s| *s == "verification_failed")
            .count(),
        4
    );
    assert_eq!(steps(&shown).last().unwrap(), "verification_locked");
    assert_eq!(mails_to(&email).len(), 1, "no second code went out");
}

#[tokio::test]
async fn an_expired_code_and_link_are_refused_and_a_new_code_replaces_the_old() {
    let app = app_with_mail().await;
    let email = unique_email("expiry");
    let request = sent(&app, &email).await;
    let (code, link) = code_and_link(&email);
    app.clock.advance(24 * 3_600_000);
    let response = verify(&app, &request, &code).await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::GONE, "verification_expired".into())
    );
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    let expired_page = page.text().await.unwrap();

    // A new code; the old one does not verify, though it has not expired again.
    post_ok(
        &app,
        &format!("/requests/{}/verification", id(&request)),
        json!({}),
        StatusCode::ACCEPTED,
    )
    .await;
    app.run_jobs().await;
    assert_eq!(mails_to(&email).len(), 2);
    let (new_code, new_link) = code_and_link(&email);
    assert_ne!(new_code, code);
    let response = verify(&app, &request, &code).await;
    assert_eq!(
        error_code(response).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "verification_code_invalid".into()
        )
    );
    // An old, unknown or malformed token: the same page as an expired one.
    for token_link in [
        link.clone(),
        app.url("/privacy/verify/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        app.url("/privacy/verify/%3Cscript%3E"),
    ] {
        let page = app.client.get(&token_link).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::NOT_FOUND, "{token_link}");
        assert_eq!(page.text().await.unwrap(), expired_page);
    }
    assert_eq!(
        app.client.get(&new_link).send().await.unwrap().status(),
        StatusCode::OK
    );
    let response = verify(&app, &request, &new_code).await;
    assert_eq!(response.status(), StatusCode::OK);
}
