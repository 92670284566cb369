//! Managing schedules: changes audited and bad ones refused, run now, and the CLI.

use chrono::{Duration, TimeZone};
use chrono_tz::Tz;
use reqwest::StatusCode;
use serde_json::json;

use crate::exports::post;
use crate::helpers::*;
use crate::schedules::{create, show};

#[tokio::test]
async fn schedule_changes_are_audited_and_bad_ones_change_nothing() {
    let app = spawn_app().await;
    for (body, status, code) in [
        (
            json!({"website_id": app.website, "frequency": "hourly"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_frequency",
        ),
        (
            json!({"website_id": app.website, "frequency": "30 2 * * *"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_frequency",
        ),
        (
            json!({"website_id": app.website, "frequency": "daily", "format": "xml"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_format",
        ),
        (
            json!({"website_id": "web_nope", "frequency": "daily"}),
            StatusCode::NOT_FOUND,
            "website_not_found",
        ),
        (
            json!({"website_id": app.website, "frequency": "daily", "destination_id": "dst_nope"}),
            StatusCode::NOT_FOUND,
            "destination_not_found",
        ),
    ] {
        let response = post(&app, "/schedules", body).await;
        assert_eq!(error_code(response).await, (status, code.to_string()));
    }
    assert_eq!(
        app.get_json(&app.api("/schedules")).await["data"],
        json!([])
    );
    let created = create(
        &app,
        json!({"website_id": app.website, "frequency": "0 0 1,15 * *"}),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let patched = app
        .client
        .patch(app.api(&format!("/schedules/{id}")))
        .header("X-API-Key", &app.admin_key)
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), StatusCode::OK);
    let deleted = app
        .client
        .delete(app.api(&format!("/schedules/{id}")))
        .header("X-API-Key", &app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let response = app
        .get_with(&app.admin_key, &app.api(&format!("/schedules/{id}")))
        .await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::NOT_FOUND, "schedule_not_found".into())
    );
    let audit = app.get_json(&app.api("/audit?action=schedule")).await;
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in ["schedule.created", "schedule.disabled", "schedule.deleted"] {
        assert!(actions.contains(&action), "{actions:?}");
    }
}

#[tokio::test]
async fn run_now_exports_the_next_window_early_and_its_scheduled_run_still_comes() {
    let app = spawn_app().await;
    let tz: Tz = "UTC".parse().unwrap();
    let today = chrono::Utc::now().date_naive();
    let created = create(
        &app,
        json!({"website_id": app.website, "frequency": "daily", "include": ["pageviews"]}),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let response = post(&app, &format!("/schedules/{id}/run"), json!({})).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    app.run_jobs().await;
    let runs = show(&app, id).await["runs"].as_array().unwrap().clone();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["trigger"], "now");
    assert_eq!(runs[0]["window"]["from"], today.to_string());
    app.clock.set(
        tz.from_utc_datetime(&(today + Duration::days(1)).and_hms_opt(0, 30, 0).unwrap())
            .timestamp_millis(),
    );
    app.worker.enqueue_due_windows().await.unwrap();
    app.run_jobs().await;
    let runs = show(&app, id).await["runs"].as_array().unwrap().clone();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["trigger"], "scheduled");
    assert_eq!(runs[0]["objects"], runs[1]["objects"]);
}

#[tokio::test]
async fn the_cli_creates_lists_runs_and_deletes_a_schedule() {
    use crate::cli::{one_person, run};
    let dir = tempfile::tempdir().unwrap();
    let site = one_person(dir.path()).await;
    let create = [
        "schedules",
        "create",
        "--account",
        "acme",
        "--website",
        &site,
        "--frequency",
        "weekly",
        "--include",
        "pageviews,events",
        "--starts-on",
        "2024-04-29",
    ];
    let (ok, id, err) = run(dir.path(), &create).await;
    assert!(ok, "{err}");
    assert!(id.starts_with("sch_"), "{id}");
    let (ok, listed, _) = run(dir.path(), &["schedules", "list", "--account", "acme"]).await;
    assert!(
        ok && listed.contains(&id) && listed.contains("weekly"),
        "{listed}"
    );
    let (ok, _, err) = run(dir.path(), &["schedules", "run", "--account", "acme", &id]).await;
    assert!(ok && err.contains("2024-04-29_2024-05-06"), "{err}");
    let bad = [
        "schedules",
        "create",
        "--account",
        "acme",
        "--website",
        &site,
        "--frequency",
        "hourly",
    ];
    let (ok, _, err) = run(dir.path(), &bad).await;
    assert!(!ok && err.contains("hourly"), "{err}");
    let (ok, _, err) = run(
        dir.path(),
        &["schedules", "delete", "--account", "acme", &id],
    )
    .await;
    assert!(ok, "{err}");
    let (_, listed, _) = run(dir.path(), &["schedules", "list", "--account", "acme"]).await;
    assert!(!listed.contains(&id), "{listed}");
}
