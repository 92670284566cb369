//! Scheduled exports in a real headless Chromium, to a real S3 (moto, started by
//! `scripts/services/s3.sh`): sign in, save an S3 destination, test it, make a daily schedule
//! to it, run it now, step the worker, and see the run delivered — and the object in the
//! bucket; then edit it, turn it off, and add a colleague on Settings → Users. Every page is
//! saved at 1280 and 390 px.

use chrono::{TimeZone, Utc};
use fantoccini::Locator;

use super::chrome::Chrome;
use super::{PASSWORD, add_user};
use crate::helpers::{pageview, spawn_app};

const SECRET: &str = "moto-takes-any-secret-but-the-page-never-shows-it";

#[tokio::test]
async fn a_dpo_saves_an_s3_destination_tests_it_schedules_a_daily_export_to_it_and_runs_it_now() {
    let app = spawn_app().await;
    add_user(app.store.as_ref(), "acme", "admin@company.com").await;
    let bucket = crate::delivery::moto_bucket(&app).await;
    // Today at noon (UTC, the website's zone): the window the run covers.
    let today = Utc::now().date_naive();
    let noon = Utc.from_utc_datetime(&today.and_hms_opt(12, 0, 0).unwrap());
    app.clock.set(noon.timestamp_millis());
    app.ingest_ok(&[pageview(
        &app.website,
        "v1",
        &format!("{today}T11:00:00Z"),
        "/pricing",
    )])
    .await;

    let chrome = Chrome::start().await;
    let c = &chrome.client;
    c.goto(&app.url("/login")).await.unwrap();
    chrome.fill("#email", "admin@company.com").await;
    chrome.fill("#password", PASSWORD).await;
    chrome.click("form[action='/login'] button").await;
    // Signing in lands on the overview.
    chrome.wait_for("#totals").await;

    // Settings → Data Export → Scheduled, from the navigation.
    chrome
        .click("nav a[href='/settings/data-export/scheduled']")
        .await;
    chrome.wait_for("#new-schedule").await;
    chrome.shoot("20-scheduled-empty").await;

    // A new S3 destination pointing at moto.
    chrome.click("#new-s3 summary").await;
    chrome.fill("#s3-name", "warehouse").await;
    chrome.fill("#s3-bucket", &bucket).await;
    chrome.fill("#s3-region", "us-east-1").await;
    chrome.fill("#s3-path", "ferry-exports/").await;
    chrome.fill("#s3-access_key_id", "ferry-test").await;
    chrome.fill("#s3-secret_access_key", SECRET).await;
    chrome.fill("#s3-endpoint", crate::delivery::MOTO).await;
    chrome.shoot("21-destination-form").await;
    chrome.click("#save-s3").await;
    chrome
        .wait_for_text("#notice", "destination is saved")
        .await;
    let row = chrome.wait_for("#destinations tbody tr").await;
    let id = row.attr("id").await.unwrap().unwrap();
    let dst = id.trim_start_matches("destination-").to_string();
    assert!(dst.starts_with("dst_"), "{id}");
    let settings = row.text().await.unwrap();
    assert!(settings.contains("secret_access_key: set"), "{settings}");
    assert!(!c.source().await.unwrap().contains(SECRET), "write-only");

    // Test: the page says it works.
    chrome
        .click(&format!("#destination-{dst} button.test"))
        .await;
    let result = chrome.wait_for("#test-result").await;
    assert_eq!(
        result.attr("data-ok").await.unwrap().as_deref(),
        Some("true")
    );
    assert!(result.text().await.unwrap().contains("works"));
    chrome.shoot("22-destination-tested").await;

    // A daily CSV schedule of page views to it.
    chrome
        .wait_for("#destination")
        .await
        .select_by_value(&dst)
        .await
        .unwrap();
    chrome
        .click("#new-schedule input[name='frequency'][value='daily']")
        .await;
    chrome.click("#create-schedule").await;
    chrome.wait_for_text("#notice", "schedule is saved").await;
    let row = chrome
        .wait_for("#schedules tbody tr[id^='schedule-']")
        .await;
    let sch = row
        .attr("id")
        .await
        .unwrap()
        .unwrap()
        .trim_start_matches("schedule-")
        .to_string();
    let text = row.text().await.unwrap();
    assert!(
        text.contains("daily") && text.contains("warehouse (s3)"),
        "{text}"
    );
    assert!(text.contains("none yet"), "{text}");
    chrome.shoot("23-schedule-created").await;

    // Run now: queued; the worker runs the window's export and delivers it.
    chrome
        .click(&format!("#schedule-{sch} button.run-now"))
        .await;
    chrome
        .wait_for_text("#notice", "next window is queued")
        .await;
    chrome.shoot("24-schedule-run-queued").await;
    app.run_jobs().await;
    c.refresh().await.unwrap();
    let run = chrome
        .wait_for(&format!("#schedule-{sch} [data-delivery='delivered']"))
        .await;
    assert_eq!(run.text().await.unwrap(), "delivered");
    chrome
        .wait_for(&format!("#schedule-{sch} [data-status='completed']"))
        .await;
    chrome.shoot("25-schedule-run-delivered").await;

    // The object is in the bucket, under the window's name.
    let window = format!("{today}_{}", today + chrono::Duration::days(1));
    let object = format!("ferry-exports/{sch}/{window}/export.zip");
    let s3 = crate::delivery::moto(&bucket);
    let bytes = s3
        .read(&object)
        .await
        .unwrap_or_else(|e| panic!("{object} is not in the bucket: {e}"));
    let files = crate::helpers::unzip(&bytes.to_vec());
    let csv = files
        .iter()
        .find(|(name, _)| name.starts_with("pageviews"))
        .expect("the page views file");
    assert!(String::from_utf8_lossy(&csv.1).contains("/pricing"));

    // Edit: weekly from now on; the form comes filled in with the schedule's settings.
    chrome.click(&format!("#schedule-{sch} a.edit")).await;
    chrome.wait_for("#edit-schedule").await;
    chrome.shoot("26-schedule-edit").await;
    chrome
        .click("#edit-schedule input[name='frequency'][value='weekly']")
        .await;
    chrome.click("#save-schedule").await;
    chrome.wait_for_text("#notice", "schedule is changed").await;
    let text = chrome
        .wait_for(&format!("#schedule-{sch}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("weekly") && text.contains("warehouse (s3)"),
        "{text}"
    );

    // Disable: the page follows.
    chrome
        .click(&format!("#schedule-{sch} button.toggle"))
        .await;
    chrome
        .wait_for(&format!("#schedule-{sch} [data-enabled='false']"))
        .await;
    chrome.shoot("27-schedule-disabled").await;
    let trail = c.find_all(Locator::Css("#notice")).await.unwrap();
    assert_eq!(trail.len(), 1);

    // Settings → Users: a colleague, their password shown once.
    chrome.click("nav a[href='/settings/users']").await;
    chrome.fill("#user-email", "dpo@company.com").await;
    chrome.click("#create-user").await;
    let password = chrome
        .wait_for("#new-password")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(password.len(), 20);
    chrome.shoot("28-users-created").await;
    chrome.close().await;
}
