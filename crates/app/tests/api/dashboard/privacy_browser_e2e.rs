//! `ferry.privacy()` in a real headless Chromium: a page of the site (another origin) loads
//! `/js/ferry.js`, which records a page view; calling `ferry.privacy("acme")` posts this
//! browser's visitor id to the privacy page, whose form takes the request and shows its
//! status page. Saved as `privacy-browser-*.png`.

use std::time::Duration;

use axum::response::Html;
use serde_json::Value;

use super::chrome::Chrome;
use crate::helpers::spawn_app;

/// The site: one page that includes the tracker, on its own port (its own origin).
async fn site(ferry: &str, website: &str) -> String {
    let html = format!(
        "<!doctype html><html><head><title>Shop</title>\
         <script defer src=\"{ferry}/js/ferry.js\" data-website-id=\"{website}\"></script>\
         </head><body><h1>Shop</h1></body></html>"
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().route("/", axum::routing::get(move || async move { Html(html) }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test]
async fn ferry_privacy_posts_the_browsers_visitor_id_and_the_page_takes_its_request() {
    let app = spawn_app().await;
    let shop = site(&app.url(""), &app.website).await;
    let chrome = Chrome::start().await;
    let c = &chrome.client;
    c.goto(&format!("{shop}/")).await.unwrap();
    // The tracker recorded the page view under the id it keeps in localStorage.
    let visitor = chrome
        .wait_for_script_value("return window.ferry && localStorage.getItem('ferry_vid');")
        .await;
    assert_eq!(visitor.len(), 36, "a UUID: {visitor}");
    // The tracker's beacon reaches Ferry when the browser sends it: real time is the thing
    // waited for here, so the check is polled (bounded), not stepped.
    let mut seen = Value::Null;
    for _ in 0..100 {
        seen = app
            .get_json(&app.api(&format!("/analytics/{}/visitors", app.website)))
            .await;
        if seen.to_string().contains(&visitor) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(seen.to_string().contains(&visitor), "{seen}");

    c.execute("ferry.privacy('acme');", vec![]).await.unwrap();
    chrome.wait_for("form#ask-browser").await;
    let url = c.current_url().await.unwrap();
    assert_eq!(url.path(), "/privacy/acme/browser");
    assert!(url.query().is_none(), "no id in the URL: {url}");
    chrome.shoot("privacy-browser-01-form").await;
    chrome.click("#type-access").await;
    chrome.click_to_load("#send").await;
    chrome
        .wait_for_text("#status", "We are preparing your data")
        .await;
    let timeline = chrome.wait_for("#timeline").await.text().await.unwrap();
    assert!(timeline.contains("Asked from this browser"), "{timeline}");
    chrome.shoot("privacy-browser-02-status").await;

    let list = app.get_json(&app.api("/requests")).await;
    let request = &list["data"][0];
    assert_eq!(request["subject"]["visitor_id"], visitor.as_str(), "{list}");
    assert_eq!(request["status"], "verified");
    chrome.close().await;
}
