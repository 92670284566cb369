//! The subject's privacy page in a real headless Chromium, end to end: ask on the form, read
//! the code from the mail the real SMTP relay received, type it, follow the status page while
//! staff fulfil the request through the API (the worker stepped), download the file from the
//! status page and confirm receipt. Each step is saved at 1280 and 390 px (`privacy-*.png`).

use fantoccini::key::Key;
use reqwest::StatusCode;
use serde_json::json;

use super::chrome::Chrome;
use crate::privacy_page::{of, requests};
use crate::requests::{id, post_ok, unique_email};
use crate::requests_fulfilment::person;
use crate::requests_verification::{app_with_mail, code_and_link};

#[tokio::test]
async fn a_subject_asks_verifies_follows_downloads_and_confirms_on_the_privacy_page() {
    let app = app_with_mail().await;
    let email = unique_email("privacy-e2e");
    person(&app, &email).await;
    let settings = json!({"privacy_contact": "dpo@shop.example.com"});
    let response = app
        .client
        .put(app.api("/requests/settings"))
        .header("X-API-Key", &app.admin_key)
        .json(&settings)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let chrome = Chrome::start().await;
    let c = &chrome.client;
    c.goto(&app.url("/privacy/acme")).await.unwrap();
    chrome.wait_for("form#ask").await;
    let contact = chrome.wait_for("#contact").await.text().await.unwrap();
    assert!(contact.contains("dpo@shop.example.com"), "{contact}");
    // The keyboard reaches every control in reading order, and never the hidden honeypot.
    let mut order = Vec::new();
    for _ in 0..6 {
        let focused = c.active_element().await.unwrap();
        focused.send_keys(&Key::Tab.to_string()).await.unwrap();
        let now = c.active_element().await.unwrap();
        let id = now.attr("id").await.unwrap().unwrap_or_default();
        let class = now.attr("class").await.unwrap().unwrap_or_default();
        order.push(if id.is_empty() { class } else { id });
    }
    assert_eq!(
        order,
        ["skip", "email", "type-access", "message", "send", ""],
        "the last is the contact's link"
    );
    chrome.fill("#email", &email).await;
    chrome.click("#type-access").await;
    chrome.fill("#message", "Please include my orders.").await;
    chrome.shoot("privacy-01-form").await;
    chrome.click_to_load("#send").await;
    chrome
        .wait_for_text("#sent", "If the address you gave can receive mail")
        .await;
    chrome.shoot("privacy-02-sent").await;

    // The code, from the mail the relay received.
    app.run_jobs().await;
    let (code, _) = code_and_link(&email);
    chrome.fill("#code", &code).await;
    chrome.click_to_load("#confirm-code").await;
    chrome
        .wait_for_text("#status", "We are preparing your data")
        .await;
    let status_url = c.current_url().await.unwrap();
    assert!(
        status_url.path().starts_with("/privacy/acme/status/"),
        "{status_url}"
    );
    let timeline = chrome.wait_for("#timeline").await.text().await.unwrap();
    assert!(
        timeline.contains("You confirmed your email address"),
        "{timeline}"
    );
    chrome.shoot("privacy-03-status").await;

    // Staff fulfil it; the worker makes the export and mails the links.
    let request = of(&requests(&app).await, &email).remove(0);
    let notes = request["notes"].as_str().unwrap_or_default().to_string();
    assert!(notes.contains("Please include my orders."), "{request}");
    let path = format!("/requests/{}/fulfil", id(&request));
    post_ok(&app, &path, json!({}), StatusCode::OK).await;
    app.run_jobs().await;
    app.run_jobs().await;
    c.refresh().await.unwrap();
    chrome.wait_for_text("#status", "Your data is ready").await;
    chrome.shoot("privacy-04-ready").await;

    // The download link on the page is the delivery mail's: it serves the person's data.
    let link = chrome.wait_for("#downloads a.file").await;
    let href = link.attr("href").await.unwrap().unwrap();
    let file = app.client.get(app.url(&href)).send().await.unwrap();
    assert_eq!(file.status(), StatusCode::OK, "{href}");
    // An access request's answer is a ZIP: the data as JSON beside the Art. 15 report.
    let zip = file.bytes().await.unwrap();
    let files = crate::helpers::unzip(&zip);
    let (_, data) = files
        .iter()
        .find(|(name, _)| name == "export.json")
        .expect("export.json in the package");
    let body = String::from_utf8_lossy(data);
    assert!(body.contains("/pricing") && body.contains(&email), "{body}");

    chrome.click_to_load("#received").await;
    let thanks = chrome.wait_for("h1").await.text().await.unwrap();
    assert_eq!(thanks, "Thank you");
    chrome.shoot("privacy-05-received").await;
    c.goto(status_url.as_str()).await.unwrap();
    chrome
        .wait_for_text("#status", "you told us you received your data")
        .await;
    chrome.shoot("privacy-06-confirmed").await;
    chrome.close().await;

    let shown = app
        .get_json(&app.api(&format!("/requests/{}", id(&request))))
        .await;
    assert_eq!(shown["status"], "confirmed");
    assert_eq!(shown["verification"]["method"], "email_code_privacy_page");
}
