//! The request path in a real headless Chromium: sign in, create a request from the
//! queue, open it, extend it with a reason — the due date moves and the timeline shows the
//! extension and its reason, the subject is mailed it — and the queue marks what is due soon
//! and overdue. Both pages are saved at 1280 and 390 px.

use fantoccini::Locator;

use super::chrome::Chrome;
use super::{PASSWORD, add_user};
use crate::requests::{receive, unique_email};
use crate::requests_verification::{app_with_mail, mails_to};

const DAY: i64 = 86_400_000;

#[tokio::test]
async fn a_dpo_creates_a_request_opens_it_and_extends_it_with_a_reason() {
    let app = app_with_mail().await;
    add_user(app.store.as_ref(), "acme", "admin@company.com").await;
    // Two older requests, so that the queue shows "due soon" and "overdue".
    let now = ferry::clock::Clock::now(&app.clock);
    let day = |ago: i64| {
        chrono::DateTime::from_timestamp_millis(now - ago * DAY)
            .unwrap()
            .date_naive()
            .to_string()
    };
    receive(&app, &unique_email("soon"), Some(&day(26))).await;
    receive(&app, &unique_email("late"), Some(&day(45))).await;
    let email = unique_email("e2e-extend");

    let chrome = Chrome::start().await;
    let c = &chrome.client;
    c.goto(&app.url("/settings/privacy/requests"))
        .await
        .unwrap();
    chrome.wait_for("form[action='/login']").await;
    chrome.fill("#email", "admin@company.com").await;
    chrome.fill("#password", PASSWORD).await;
    chrome.click("form[action='/login'] button").await;
    // Signing in lands on the overview.
    chrome.wait_for("#totals").await;
    chrome.click("a[href='/settings/privacy/requests']").await;

    // The queue: a new request from its form (received today).
    chrome.wait_for("#new-request").await;
    chrome
        .wait_for("#type")
        .await
        .select_by_value("portability")
        .await
        .unwrap();
    chrome.fill("#subject_email", &email).await;
    chrome.click("#create-request").await;

    // Its page: the due date before, then an extension of one month with a reason.
    let before = chrome.wait_for("#due-on").await.text().await.unwrap();
    let path = c.current_url().await.unwrap().path().to_string();
    let id = path.rsplit('/').next().unwrap().to_string();
    assert!(id.starts_with("req_"), "{path}");
    chrome.shoot("requests-02-request").await;
    chrome
        .wait_for("#months")
        .await
        .select_by_value("1")
        .await
        .unwrap();
    let reason = "the request covers ten years of support tickets";
    chrome.fill("#extend-reason", reason).await;
    chrome.click("#extend").await;
    let extended = chrome
        .wait_for("#timeline li[data-step='extended']")
        .await
        .text()
        .await
        .unwrap();
    assert!(extended.contains(reason), "{extended}");
    assert!(extended.contains("admin@company.com"), "{extended}");
    let after = chrome.wait_for("#due-on").await.text().await.unwrap();
    let parse = |d: &str| d.parse::<chrono::NaiveDate>().unwrap();
    let moved = (parse(&after) - parse(&before)).num_days();
    assert!((28..=33).contains(&moved), "{before} → {after}");
    let facts = chrome.wait_for("#facts").await.text().await.unwrap();
    assert!(
        facts.contains("extended by 1 of at most 2 months"),
        "{facts}"
    );
    chrome.shoot("requests-03-extended").await;

    // Back in the queue: the new request with its moved date; the old ones marked in words.
    chrome.click("a[href='/settings/privacy/requests']").await;
    let row = chrome
        .wait_for(&format!("#row-{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        row.contains(&after) && row.contains("extended 1 month"),
        "{row}"
    );
    let late = c
        .find_all(Locator::Css("#requests .days.late"))
        .await
        .unwrap();
    let mut labels = Vec::new();
    for l in late {
        labels.push(l.text().await.unwrap());
    }
    assert!(
        labels.iter().any(|l| l.starts_with("Overdue by")),
        "{labels:?}"
    );
    assert!(
        labels.iter().any(|l| l.starts_with("Due soon")),
        "{labels:?}"
    );
    chrome.shoot("requests-01-queue").await;
    chrome
        .wait_for("#deadline")
        .await
        .select_by_value("overdue")
        .await
        .unwrap();
    chrome.click_to_load("#filter-button").await;
    chrome.wait_for("#requests").await;
    let rows = c
        .find_all(Locator::Css("#requests tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "only the overdue one");
    chrome.close().await;

    // The subject is told the new date and why (Art. 12(3)).
    app.run_jobs().await;
    let mails = mails_to(&email);
    assert_eq!(mails.len(), 1, "{mails:?}");
    let body = mails[0]["body"].as_str().unwrap();
    assert!(body.contains(reason) && body.contains(&after), "{body}");
}
