//! In a real headless Chromium: signing in lands on the Overview, whose totals are the API's
//! and whose chart is drawn; Visitors → a visitor's page → Export visitor data completes; and a
//! request is verified (the code read from the real SMTP Maildir), fulfilled and approved with
//! the page's buttons. Every new page is saved at 1280 and 390 px.

use chrono::{Duration, SecondsFormat, Utc};
use fantoccini::Locator;
use serde_json::json;

use super::chrome::Chrome;
use super::{PASSWORD, add_user};
use crate::helpers::{TestApp, pageview, spawn_app};
use crate::requests::{id, receive, unique_email};
use crate::requests_fulfilment::{person, ready_mails, show};
use crate::requests_verification::{app_with_mail, code_and_link};

fn days_ago(days: i64, minute: u32) -> String {
    (Utc::now() - Duration::days(days) + Duration::minutes(i64::from(minute)))
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A person and an anonymous visitor over the last ten days.
async fn recent_traffic(app: &TestApp) {
    let mut lines = vec![json!({"type": "identify", "website_id": app.website,
        "visitor_id": "v-ann", "user_id": "user_100", "email": "ann@example.com"})];
    for day in 0..10 {
        for m in 0..=(day % 4) as u32 {
            let url = if m == 0 {
                "/pricing".to_string()
            } else {
                format!("/docs/{m}")
            };
            lines.push(pageview(&app.website, "v-ann", &days_ago(day, m), &url));
        }
        lines.push(pageview(&app.website, "anon-7", &days_ago(day, 30), "/"));
    }
    lines.push(
        json!({"type": "event", "website_id": app.website, "visitor_id": "v-ann",
        "timestamp": days_ago(1, 5), "name": "signup", "properties": {"plan": "pro"}}),
    );
    app.ingest_ok(&lines).await;
}

async fn value(chrome: &Chrome, css: &str) -> String {
    chrome
        .wait_for(css)
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap()
}

async fn sign_in(chrome: &Chrome, app: &TestApp) {
    chrome.client.goto(&app.url("/login")).await.unwrap();
    chrome.fill("#email", "admin@company.com").await;
    chrome.fill("#password", PASSWORD).await;
    chrome.click("form[action='/login'] button").await;
}

#[tokio::test]
async fn the_overview_shows_the_apis_numbers_and_a_visitors_page_exports_their_data() {
    let app = spawn_app().await;
    add_user(app.store.as_ref(), "acme", "admin@company.com").await;
    recent_traffic(&app).await;
    let chrome = Chrome::start().await;
    let c = &chrome.client;

    sign_in(&chrome, &app).await;
    chrome.wait_for("#daily-chart").await;
    let (from, to) = (value(&chrome, "#from").await, value(&chrome, "#to").await);
    let api = app.summary(&app.website, &from, &to).await;
    for (css, field) in [
        ("#total-pageviews", "pageviews"),
        ("#total-visitors", "visitors"),
        ("#total-sessions", "sessions"),
        ("#total-events", "events"),
    ] {
        let shown = chrome.wait_for(css).await.text().await.unwrap();
        assert_eq!(shown, api["totals"][field].to_string(), "{css}");
    }
    assert!(api["totals"]["pageviews"].as_u64().unwrap() > 20, "{api}");
    let bars = c
        .find_all(Locator::Css("#daily-chart rect.bar"))
        .await
        .unwrap();
    assert_eq!(bars.len(), 30, "one bar a day");
    let top = chrome.wait_for("#top-pages").await.text().await.unwrap();
    assert!(top.contains("/pricing"), "{top}");
    chrome.shoot("40-overview").await;

    // The last 7 days, from the picker.
    chrome
        .wait_for("#range")
        .await
        .select_by_value("7")
        .await
        .unwrap();
    chrome.click_to_load("#show-overview").await;
    let bars = c
        .find_all(Locator::Css("#daily-chart rect.bar"))
        .await
        .unwrap();
    assert_eq!(bars.len(), 7);
    let (from, to) = (value(&chrome, "#from").await, value(&chrome, "#to").await);
    let api = app.summary(&app.website, &from, &to).await;
    let shown = chrome
        .wait_for("#total-pageviews")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(shown, api["totals"]["pageviews"].to_string());

    // Visitors → the person's visitor → Export visitor data.
    chrome.click_to_load("nav a[href='/visitors']").await;
    chrome.click_to_load("#visitor-v-ann a.visitor-link").await;
    let who = chrome.wait_for("#identity").await.text().await.unwrap();
    assert!(
        who.contains("user_100") && who.contains("ann@example.com"),
        "{who}"
    );
    let events = chrome
        .wait_for("#visitor-events")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        events.contains("signup") && events.contains("pro"),
        "{events}"
    );
    chrome.shoot("41-visitor").await;
    chrome.click_to_load("#export-visitor").await;
    let notice = chrome.wait_for_text("#notice", "exp_").await;
    let export = notice.split_whitespace().nth(1).unwrap().to_string();
    app.run_jobs().await;
    chrome
        .wait_for(&format!("#row-{export} [data-status='completed']"))
        .await;
    let done = app.get_json(&app.api(&format!("/exports/{export}"))).await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["subject"]["visitor_id"], "v-ann");
    chrome.shoot("42-visitor-exported").await;
    chrome.close().await;
}

#[tokio::test]
async fn a_request_is_verified_fulfilled_and_approved_with_the_pages_buttons() {
    let app = app_with_mail().await;
    add_user(app.store.as_ref(), "acme", "admin@company.com").await;
    let settings = app
        .client
        .put(app.api("/requests/settings"))
        .header("X-API-Key", &app.admin_key)
        .json(&json!({"require_approval": true}))
        .send()
        .await
        .unwrap();
    assert!(settings.status().is_success());
    let email = unique_email("e2e-fulfil");
    person(&app, &email).await;
    let request = receive(&app, &email, None).await;
    let chrome = Chrome::start().await;
    let c = &chrome.client;
    sign_in(&chrome, &app).await;
    chrome.wait_for("#totals").await;
    c.goto(&app.url(&format!("/settings/privacy/requests/{}", id(&request))))
        .await
        .unwrap();

    chrome.click_to_load("#send-verification").await;
    chrome.wait_for("#verify-form").await;
    app.run_jobs().await;
    let (code, _) = code_and_link(&email);
    chrome.fill("#code", &code).await;
    chrome.click_to_load("#verify-code").await;
    chrome.wait_for("#fulfil-form").await;
    chrome.shoot("43-request-verified").await;

    chrome.click_to_load("#fulfil").await;
    let status = chrome.wait_for("#status").await.text().await.unwrap();
    assert_eq!(status, "awaiting_approval");
    chrome.shoot("44-request-awaiting-approval").await;
    chrome.fill("#approve-reason", "identity checked").await;
    chrome.click_to_load("#approve").await;
    let status = chrome.wait_for("#status").await.text().await.unwrap();
    assert_eq!(status, "in_progress");
    chrome.wait_for("#fulfilment-exports").await;
    app.run_jobs().await;
    c.refresh().await.unwrap();
    chrome.wait_for("#timeline li[data-step='delivered']").await;
    assert_eq!(ready_mails(&email).len(), 1);
    assert_eq!(show(&app, &request).await["status"], "delivered");
    chrome.shoot("45-request-delivered").await;
    chrome.close().await;
}
