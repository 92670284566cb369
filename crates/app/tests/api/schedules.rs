//! Schedules: windows that meet end to start in the website's time zone (across DST changes,
//! and after downtime, caught up in order), one queue job per window however many schedulers
//! run, re-runs that keep object names, manifests last with a schema version, and CSV columns
//! that keep their order across a series.

use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;
use ferry::jobs::Worker;
use ferry_domain::date_range::local_midnight;
use ferry_domain::time::rfc3339_millis;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::bulk_exports::download_zip;
use crate::exports::post;
use crate::helpers::*;
use ferry_domain::queue::JobStatus;

const HOUR: i64 = 3_600_000;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

pub(crate) async fn create(app: &TestApp, body: Value) -> Value {
    let response = post(app, "/schedules", body).await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "{:?}",
        response.text().await
    );
    response.json().await.unwrap()
}

pub(crate) async fn show(app: &TestApp, id: &str) -> Value {
    app.get_json(&app.api(&format!("/schedules/{id}"))).await
}

/// Page views at the first and last millisecond of each local day of `from..to` and at its
/// local 03:00 (the hour after a spring-forward gap): three per day, each in exactly one day.
async fn day_edges(app: &TestApp, website: &str, tz: Tz, from: NaiveDate, to: NaiveDate) -> u64 {
    let mut lines = Vec::new();
    for d in from.iter_days().take_while(|d| *d < to) {
        let start = local_midnight(tz, d);
        let end = local_midnight(tz, d + Duration::days(1));
        for (i, at) in [start, start + 3 * HOUR, end - 1].into_iter().enumerate() {
            lines.push(pageview(
                website,
                &format!("v{i}"),
                &rfc3339_millis(at),
                &format!("/{d}/{i}"),
            ));
        }
    }
    for chunk in lines.chunks(500) {
        app.ingest_ok(chunk).await;
    }
    lines.len() as u64
}

/// Replays `from..to` with the clock in 6-hour steps, the scheduler and worker stepping at
/// each, except while Ferry is "down" (`down`): then time passes and nothing runs.
async fn replay(
    app: &TestApp,
    tz: Tz,
    from: NaiveDate,
    to: NaiveDate,
    down: (NaiveDate, NaiveDate),
) {
    let end = local_midnight(tz, to) + 7 * HOUR;
    let (down_from, down_to) = (local_midnight(tz, down.0), local_midnight(tz, down.1));
    let mut now = local_midnight(tz, from) + HOUR;
    while now <= end {
        app.clock.set(now);
        if now < down_from || now >= down_to {
            app.worker.enqueue_due_windows().await.unwrap();
            for event in app.run_jobs().await {
                // Finished in the queue, whatever its kind: a job left running would be
                // reclaimed when its lease ran out and end as failed.
                let record = app.store.job(event.job).await.unwrap().unwrap();
                assert_eq!(record.status, JobStatus::Done, "{event:?}");
            }
        }
        now += 6 * HOUR;
    }
}

/// Every window of the schedule, oldest first, checked to meet end to start and to have
/// exported exactly the page views of its days (three a day).
async fn check_series(
    app: &TestApp,
    id: &str,
    from: NaiveDate,
    to: NaiveDate,
    total: u64,
) -> Vec<Value> {
    let mut runs = app
        .get_json(&app.api(&format!("/schedules/{id}?limit=1000")))
        .await["runs"]
        .as_array()
        .unwrap()
        .clone();
    runs.reverse();
    let runs: Vec<Value> = runs
        .into_iter()
        .filter(|r| r["trigger"] == "scheduled")
        .collect();
    assert_eq!(runs.first().unwrap()["window"]["from"], from.to_string());
    assert_eq!(runs.last().unwrap()["window"]["to"], to.to_string());
    let mut exported = 0;
    for pair in runs.windows(2) {
        assert_eq!(
            pair[0]["window"]["to"], pair[1]["window"]["from"],
            "no gap, no overlap"
        );
        assert_eq!(pair[0]["window"]["end"], pair[1]["window"]["start"]);
    }
    for run in &runs {
        assert_eq!(run["status"], "completed", "{run}");
        let export = app
            .get_json(&app.api(&format!("/exports/{}", run["export_id"].as_str().unwrap())))
            .await;
        let (a, b) = (
            day(run["window"]["from"].as_str().unwrap()),
            day(run["window"]["to"].as_str().unwrap()),
        );
        let rows = export["progress"]["rows"].as_u64().unwrap();
        assert_eq!(
            rows,
            3 * (b - a).num_days() as u64,
            "window {a}..{b}: {export}"
        );
        exported += rows;
    }
    assert_eq!(exported, total, "every page view exactly once");
    runs
}

async fn berlin_app() -> (TestApp, String, Tz) {
    let mut app = spawn_app().await;
    let website = app
        .create_website("berlin.example.com", "Europe/Berlin")
        .await;
    app.website = website.clone();
    (app, website, "Europe/Berlin".parse().unwrap())
}

fn hours(run: &Value) -> i64 {
    let at =
        |f: &str| chrono::DateTime::parse_from_rfc3339(run["window"][f].as_str().unwrap()).unwrap();
    (at("end") - at("start")).num_hours()
}

#[tokio::test]
async fn daily_windows_over_a_quarter_cover_every_page_view_once_across_spring_forward_and_a_downtime()
 {
    let (app, website, tz) = berlin_app().await;
    let (from, to) = (day("2026-03-01"), day("2026-06-01"));
    let total = day_edges(&app, &website, tz, from, to).await;
    app.clock.set(local_midnight(tz, from) + HOUR);
    let schedule = create(
        &app,
        json!({"website_id": website, "frequency": "daily", "include": ["pageviews"], "format": "csv", "starts_on": "2026-03-01"}),
    )
    .await;
    let id = schedule["id"].as_str().unwrap();
    // Ferry is down for ten days of April; the windows missed are caught up in order.
    replay(&app, tz, from, to, (day("2026-04-10"), day("2026-04-20"))).await;
    let runs = check_series(&app, id, from, to, total).await;
    assert_eq!(runs.len(), 92);
    let spring = runs
        .iter()
        .find(|r| r["window"]["from"] == "2026-03-29")
        .unwrap();
    assert_eq!(hours(spring), 23, "the day clocks go forward");
    // Caught-up windows were asked for in order, after Ferry came back.
    let caught: Vec<&Value> = runs
        .iter()
        .filter(|r| {
            r["window"]["from"].as_str().unwrap() >= "2026-04-09"
                && r["window"]["to"].as_str().unwrap() <= "2026-04-20"
        })
        .collect();
    assert_eq!(caught.len(), 11);
    assert!(
        caught
            .iter()
            .all(|r| r["created_at"] == caught[0]["created_at"]),
        "queued at one pass"
    );
}

#[tokio::test]
async fn weekly_windows_over_a_quarter_cover_every_page_view_once_across_fall_back() {
    let (app, website, tz) = berlin_app().await;
    let (from, to) = (day("2026-08-15"), day("2026-11-16"));
    let total = day_edges(&app, &website, tz, from, to).await;
    app.clock.set(local_midnight(tz, from) + HOUR);
    let schedule = create(
        &app,
        json!({"website_id": website, "frequency": "weekly", "include": ["pageviews"], "starts_on": "2026-08-15"}),
    )
    .await;
    let id = schedule["id"].as_str().unwrap();
    replay(&app, tz, from, to, (day("2026-09-01"), day("2026-09-20"))).await;
    let runs = check_series(&app, id, from, to, total).await;
    let fall = runs
        .iter()
        .find(|r| r["window"]["from"] == "2026-10-19")
        .unwrap();
    assert_eq!(
        hours(fall),
        7 * 24 + 1,
        "the week clocks go back has 169 hours"
    );
    assert_eq!(
        runs[0]["window"]["to"], "2026-08-17",
        "a first partial week ends on Monday"
    );
}

#[tokio::test]
async fn two_schedulers_on_one_store_queue_each_window_once() {
    let app = spawn_app().await;
    let other = Worker::new(
        app.store.clone(),
        app.data_dir(),
        std::sync::Arc::new(app.clock.clone()),
    );
    let starts = (chrono::Utc::now() - Duration::days(20)).date_naive();
    let schedule = create(
        &app,
        json!({"website_id": app.website, "frequency": "daily", "include": ["pageviews"], "starts_on": starts.to_string()}),
    )
    .await;
    let mut queued = 0;
    for _ in 0..5 {
        let (a, b) = tokio::join!(
            app.worker.enqueue_due_windows(),
            other.enqueue_due_windows()
        );
        queued += a.unwrap() + b.unwrap();
        app.clock.advance(24 * HOUR);
    }
    app.run_jobs().await;
    let runs = show(&app, schedule["id"].as_str().unwrap()).await["runs"]
        .as_array()
        .unwrap()
        .clone();
    let mut windows: Vec<String> = runs
        .iter()
        .map(|r| r["window"]["from"].as_str().unwrap().to_string())
        .collect();
    let n = windows.len();
    windows.sort();
    windows.dedup();
    assert_eq!(windows.len(), n, "no window ran twice: {windows:?}");
    assert_eq!(queued, n);
    assert!(n >= 24, "20 days back and 4 more: {n}");
}

#[tokio::test]
async fn a_backfill_reruns_past_windows_under_the_same_object_names_and_a_manifest_last() {
    let app = spawn_app().await;
    let today = chrono::Utc::now().date_naive();
    let starts = today - Duration::days(3);
    let w = &app.website;
    let mut lines = Vec::new();
    for d in starts.iter_days().take(3) {
        lines.push(pageview(w, "v1", &format!("{d}T10:00:00Z"), "/a"));
    }
    app.ingest_ok(&lines).await;
    let schedule = create(
        &app,
        json!({"website_id": w, "frequency": "daily", "include": ["pageviews"], "starts_on": starts.to_string()}),
    )
    .await;
    let id = schedule["id"].as_str().unwrap();
    app.worker.enqueue_due_windows().await.unwrap();
    app.run_jobs().await;
    let response = post(
        &app,
        &format!("/schedules/{id}/backfill"),
        json!({"from": starts.to_string(), "to": (today - Duration::days(1)).to_string()}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["windows"].as_array().unwrap().len(), 3);
    app.run_jobs().await;
    let runs = show(&app, id).await["runs"].as_array().unwrap().clone();
    assert_eq!(runs.len(), 6);
    for window in starts.iter_days().take(3) {
        let of: Vec<&Value> = runs
            .iter()
            .filter(|r| r["window"]["from"] == window.to_string())
            .collect();
        assert_eq!(of.len(), 2);
        assert_ne!(
            of[0]["export_id"], of[1]["export_id"],
            "a re-run is a new export"
        );
        assert_eq!(
            of[0]["objects"], of[1]["objects"],
            "with the same object names"
        );
        let prefix = format!("{id}/{window}_{}/", window + Duration::days(1));
        assert_eq!(of[0]["objects"], json!([format!("{prefix}export.zip")]));
        assert_eq!(of[0]["status"], "completed");
    }
    let export = app
        .get_json(&app.api(&format!(
            "/exports/{}",
            runs[0]["export_id"].as_str().unwrap()
        )))
        .await;
    let files = download_zip(&app, &export).await;
    assert_eq!(
        files.last().unwrap().0,
        "manifest.json",
        "the manifest comes last"
    );
    let manifest: Value = serde_json::from_slice(&files.last().unwrap().1).unwrap();
    assert_eq!(manifest["schema_version"], 1);
    assert_eq!(manifest["row_counts"]["pageviews"], 1);
    // Outside the windows that ran: refused, nothing queued.
    let response = post(
        &app,
        &format!("/schedules/{id}/backfill"),
        json!({"from": "2020-01-01", "to": "2020-02-01"}),
    )
    .await;
    assert_eq!(
        error_code(response).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_date_range".into()
        )
    );
}

#[tokio::test]
async fn a_series_keeps_its_csv_columns_in_order_and_appends_new_property_keys() {
    let app = spawn_app().await;
    let today = chrono::Utc::now().date_naive();
    let (first, second) = (today - Duration::days(2), today - Duration::days(1));
    let w = &app.website;
    app.ingest_ok(&[
        json!({"type": "event", "website_id": w, "visitor_id": "v1", "timestamp": format!("{first}T10:00:00Z"), "name": "buy", "properties": {"plan": "pro"}}),
        json!({"type": "event", "website_id": w, "visitor_id": "v1", "timestamp": format!("{second}T10:00:00Z"), "name": "buy", "properties": {"amount": 5, "plan": "free"}}),
    ])
    .await;
    let schedule = create(
        &app,
        json!({"website_id": w, "frequency": "daily", "include": ["events"], "format": "csv", "starts_on": first.to_string()}),
    )
    .await;
    let id = schedule["id"].as_str().unwrap();
    app.worker.enqueue_due_windows().await.unwrap();
    app.run_jobs().await;
    let shown = show(&app, id).await;
    assert_eq!(shown["event_columns"], json!(["plan", "amount"]));
    let runs = shown["runs"].as_array().unwrap();
    let header = |files: &[(String, Vec<u8>)]| {
        let (_, csv) = files.iter().find(|(n, _)| n.starts_with("events")).unwrap();
        String::from_utf8_lossy(csv)
            .lines()
            .next()
            .unwrap()
            .to_string()
    };
    let mut headers = Vec::new();
    for run in runs.iter().rev() {
        let export = app
            .get_json(&app.api(&format!("/exports/{}", run["export_id"].as_str().unwrap())))
            .await;
        headers.push(header(&download_zip(&app, &export).await));
    }
    assert_eq!(
        headers[0],
        "timestamp,name,property_plan,visitor_id,session_id"
    );
    assert_eq!(
        headers[1], "timestamp,name,property_plan,property_amount,visitor_id,session_id",
        "the earlier column stays first; the new key comes after it, not sorted before it"
    );
}
