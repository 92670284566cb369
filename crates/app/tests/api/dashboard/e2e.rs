//! The data-protection officer's path, in a real headless Chromium: sign in, find a person by
//! email, see whom it resolves to, export their data, watch it complete, download it, and find
//! it in the audit log filtered by Data Export. Every page is saved at 1280 and 390 px.

use fantoccini::Locator;

use super::chrome::Chrome;
use super::{PASSWORD, add_person, add_user};
use crate::helpers::spawn_app;

#[tokio::test]
async fn a_dpo_signs_in_finds_a_person_by_email_exports_downloads_and_finds_it_in_the_audit_log() {
    let mut app = spawn_app().await;
    add_user(app.store.as_ref(), "acme", "admin@company.com").await;
    add_person(
        &app,
        &app.website,
        &app.admin_key,
        "user_100",
        "ann@example.com",
    )
    .await;
    let chrome = Chrome::start().await;
    let c = &chrome.client;

    // Any page asks for a sign-in first.
    c.goto(&app.url("/settings/privacy/data-export"))
        .await
        .unwrap();
    chrome.wait_for("form[action='/login']").await;
    assert!(c.current_url().await.unwrap().path().ends_with("/login"));
    chrome.shoot("01-login").await;
    chrome.fill("#email", "admin@company.com").await;
    chrome.fill("#password", PASSWORD).await;
    chrome.click("form[action='/login'] button").await;

    // Signing in lands on the overview; Data Export is in the navigation.
    chrome.wait_for("#totals").await;
    chrome
        .click("nav a[href='/settings/privacy/data-export']")
        .await;
    chrome.wait_for("#find").await;
    chrome.shoot("02-data-export").await;
    chrome.fill("#find", "ann@example.com").await;
    chrome.click("#find-button").await;
    let found = chrome.wait_for("#found").await.text().await.unwrap();
    assert!(
        found.contains("user_100") && found.contains("v-user_100"),
        "{found}"
    );
    assert!(found.contains("keyed ingest"), "{found}");
    chrome.shoot("03-found").await;

    // Find filled in the person; generate a JSON export of everything.
    let subject = chrome
        .wait_for("#subject")
        .await
        .prop("value")
        .await
        .unwrap();
    assert_eq!(subject.as_deref(), Some("user_100"));
    chrome.click("#generate-button").await;
    let notice = chrome.wait_for_text("#notice", "exp_").await;
    let id = notice.split_whitespace().nth(1).unwrap().to_string();
    assert!(id.starts_with("exp_"), "{notice}");
    chrome.wait_for("[data-status='queued']").await;
    chrome.shoot("04-queued").await;

    // The worker runs it; the page, reloading itself while an export runs, shows it done.
    app.run_jobs().await;
    chrome
        .wait_for(&format!("#row-{id} [data-status='completed']"))
        .await;
    chrome.shoot("05-completed").await;
    let link = chrome.wait_for(&format!("#row-{id} a.download")).await;
    let href = link.attr("href").await.unwrap().expect("a download link");
    let bytes = app
        .client
        .get(&href)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let export: serde_json::Value = serde_json::from_slice(&bytes).expect("the JSON export");
    assert_eq!(export["export_id"], id.as_str());
    assert_eq!(export["user"]["email"], "ann@example.com");
    let urls: Vec<&str> = export["pageviews"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["url"].as_str().unwrap())
        .collect();
    assert_eq!(urls, ["/products/widget", "/checkout"]);
    app.downloads_recorded(1).await;

    chrome.click(&format!("#row-{id} a.receipt")).await;
    let requester = chrome.wait_for("#requested-by").await.text().await.unwrap();
    assert_eq!(requester, "admin@company.com");
    chrome.shoot("06-receipt").await;

    // Settings → Audit Log → filter by Data Export.
    c.goto(&app.url("/settings/audit-log")).await.unwrap();
    chrome
        .wait_for("#action")
        .await
        .select_by_value("data_export")
        .await
        .unwrap();
    chrome.click("#filter-button").await;
    chrome.wait_for("#audit").await;
    assert!(
        c.current_url()
            .await
            .unwrap()
            .query()
            .unwrap()
            .contains("action=data_export")
    );
    let rows = c.find_all(Locator::Css("#audit tbody tr")).await.unwrap();
    let mut texts = Vec::new();
    for row in rows {
        texts.push(row.text().await.unwrap());
    }
    assert!(
        texts.iter().all(|t| t.contains("data_export.")),
        "{texts:?}"
    );
    let requested = texts
        .iter()
        .find(|t| t.contains("data_export.requested"))
        .expect("the request is in the trail");
    assert!(
        requested.contains("admin@company.com") && requested.contains(&id),
        "{requested}"
    );
    assert!(texts.iter().any(
        |t| t.contains("data_export.downloaded") || t.contains("data_export.download_started")
    ));
    chrome.shoot("07-audit-log").await;
    chrome.click("#verify-link").await;
    let status = chrome.wait_for("#chain-status").await.text().await.unwrap();
    assert!(status.contains("checks out"), "{status}");
    chrome.shoot("08-audit-verified").await;

    // Settings → API keys: a new key is shown once.
    chrome.click("a[href='/settings/api-keys']").await;
    chrome.fill("#key-name", "reporting").await;
    chrome.click("input[name='scope_analytics:read']").await;
    chrome.click("#create-key").await;
    let secret = chrome
        .wait_for("#secret")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    assert!(secret.starts_with("fy_"));
    chrome.shoot("09-api-key-created").await;

    // Visitors: the person's visitor, with its export button.
    c.goto(&app.url("/visitors?from=2024-05-01&to=2024-05-01"))
        .await
        .unwrap();
    chrome.wait_for("#visitor-v-user_100 .export-visitor").await;
    chrome.shoot("10-visitors").await;
    chrome.close().await;
}
