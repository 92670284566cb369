//! The privacy page's setting and what its message field takes, over HTTP, black-box.

use reqwest::StatusCode;

use crate::privacy_page::{ask, browser, form_token, of, requests};
use crate::requests::unique_email;
use crate::requests_verification::app_with_mail;

#[tokio::test]
async fn an_account_that_turns_its_page_off_answers_as_if_it_had_none() {
    let app = app_with_mail().await;
    let email = unique_email("page-off");
    let token = form_token(&app, "acme").await;
    let response = app
        .client
        .put(app.api("/requests/settings"))
        .header("X-API-Key", &app.admin_key)
        .json(&serde_json::json!({"privacy_page": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let settings = app.get_json(&app.api("/requests/settings")).await;
    assert_eq!(settings["privacy_page"], false);

    let none = browser()
        .get(app.url("/privacy/no-such-account"))
        .send()
        .await
        .unwrap();
    let none = none.text().await.unwrap();
    let off = browser()
        .get(app.url("/privacy/acme"))
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), StatusCode::NOT_FOUND);
    assert_eq!(off.text().await.unwrap(), none);
    let posted = ask(
        &app,
        &[
            ("form_token", &token),
            ("email", &email),
            ("type", "access"),
        ],
    )
    .await;
    assert_eq!(posted.status(), StatusCode::NOT_FOUND);
    assert!(requests(&app).await.is_empty(), "nothing taken");
}

#[tokio::test]
async fn a_message_of_several_lines_is_kept_as_typed_and_control_characters_are_refused() {
    let app = app_with_mail().await;
    let email = unique_email("lines");
    let token = form_token(&app, "acme").await;
    // Browsers send a textarea's line breaks as CR LF.
    let typed = "First line.\r\nSecond line.";
    let response = ask(
        &app,
        &[
            ("form_token", &token),
            ("email", &email),
            ("type", "access"),
            ("message", typed),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let mine = of(&requests(&app).await, &email);
    assert_eq!(mine.len(), 1);
    assert_eq!(
        mine[0]["notes"],
        "From the privacy page: First line.\nSecond line."
    );

    let other = unique_email("control");
    let response = ask(
        &app,
        &[
            ("form_token", &token),
            ("email", &other),
            ("type", "access"),
            ("message", "bell \u{7} here"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(body.contains("characters that are not text"), "{body}");
    assert!(of(&requests(&app).await, &other).is_empty());
}

/// Behind a proxy (`--client-ip-header`), each client has its own allowance: one client's
/// ten requests do not shut the page for everyone else the proxy serves.
#[tokio::test]
async fn behind_a_proxy_each_client_has_its_own_allowance() {
    let mut args = ferry::config::ServeArgs::loopback();
    args.mail.smtp_url = Some("smtp://ferry:ferry-test-smtp@127.0.0.1:2525".into());
    args.mail.smtp_from = Some("privacy@example.com".into());
    args.client_ip_header = Some("x-forwarded-for".into());
    let app = crate::helpers::spawn_app_with(args).await;
    let token = form_token(&app, "acme").await;
    let send = |client: &'static str, email: String| {
        let token = token.clone();
        let url = app.url("/privacy/acme");
        async move {
            browser()
                .post(url)
                .header("x-forwarded-for", client)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(crate::dashboard::form(&[
                    ("form_token", &token),
                    ("email", &email),
                    ("type", "access"),
                ]))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    for i in 0..10 {
        let status = send("203.0.113.7", unique_email(&format!("proxy-a-{i}"))).await;
        assert_eq!(status, StatusCode::OK, "request {i}");
    }
    let over = send("203.0.113.7", unique_email("proxy-a-over")).await;
    assert_eq!(over, StatusCode::TOO_MANY_REQUESTS);
    let other = send("198.51.100.20", unique_email("proxy-b")).await;
    assert_eq!(other, StatusCode::OK, "another client behind the proxy");
    // An IPv6 client's other addresses in its /64 share its allowance.
    for i in 0..10 {
        let status = send("2001:db8:1:2::1", unique_email(&format!("proxy-c-{i}"))).await;
        assert_eq!(status, StatusCode::OK, "request {i}");
    }
    let same_net = send("2001:db8:1:2::ffff", unique_email("proxy-c-over")).await;
    assert_eq!(same_net, StatusCode::TOO_MANY_REQUESTS);
}
