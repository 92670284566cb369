//! A schedule delivering to a destination (issue 11, §4): runs go to S3 (moto, started by
//! `scripts/services/s3.sh`) under names without the export id, so a backfill replaces the
//! window's object instead of adding one.

use chrono::Duration;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Digest;

use crate::exports::post;
use crate::helpers::*;
use crate::schedules::{create, show};

#[tokio::test]
async fn a_backfill_delivered_to_s3_replaces_the_windows_object_instead_of_adding_one() {
    let app = spawn_app().await;
    let bucket = crate::delivery::moto_bucket(&app).await;
    let destination = post(
        &app,
        "/destinations",
        json!({"destination": crate::delivery::s3(&bucket, crate::delivery::MOTO, "any")}),
    )
    .await;
    assert_eq!(destination.status(), StatusCode::CREATED);
    let destination: Value = destination.json().await.unwrap();
    let starts = (chrono::Utc::now() - Duration::days(1)).date_naive();
    app.ingest_ok(&[pageview(
        &app.website,
        "v1",
        &format!("{starts}T12:00:00Z"),
        "/",
    )])
    .await;
    let created = create(
        &app,
        json!({"website_id": app.website, "frequency": "daily", "destination_id": destination["id"],
               "starts_on": starts.to_string()}),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    app.worker.enqueue_due_windows().await.unwrap();
    app.run_jobs().await;
    let window = format!("{starts}_{}", starts + Duration::days(1));
    let backfill = post(
        &app,
        &format!("/schedules/{id}/backfill"),
        json!({"from": starts.to_string(), "to": starts.to_string()}),
    )
    .await;
    assert_eq!(
        backfill.status(),
        StatusCode::ACCEPTED,
        "{:?}",
        backfill.text().await
    );
    app.run_jobs().await;

    let runs = show(&app, id).await["runs"].as_array().unwrap().clone();
    assert_eq!(runs.len(), 2, "{runs:?}");
    let mut digests = Vec::new();
    for run in &runs {
        let export = app
            .get_json(&app.api(&format!("/exports/{}", run["export_id"].as_str().unwrap())))
            .await;
        assert_eq!(export["delivery"]["status"], "delivered", "{export}");
        digests.push((
            export["created_at"].as_str().unwrap().to_string(),
            export["export_id"].as_str().unwrap().to_string(),
            export["files"][0]["sha256"].as_str().unwrap().to_string(),
        ));
    }
    // One object for the window, whoever ran it: its bytes are the backfill's, delivered last.
    let s3 = crate::delivery::moto(&bucket);
    let listed = s3
        .list_with("ferry-exports/")
        .recursive(true)
        .await
        .unwrap();
    let names: Vec<String> = listed
        .iter()
        .map(|e| e.path().to_string())
        .filter(|p| !p.ends_with('/'))
        .collect();
    assert_eq!(names, [format!("ferry-exports/{id}/{window}/export.zip")]);
    let object = s3.read(&names[0]).await.unwrap().to_vec();
    let backfill = runs
        .iter()
        .find(|r| r["trigger"] == "backfill")
        .and_then(|r| r["export_id"].as_str())
        .unwrap();
    let expected = digests.iter().find(|(_, e, _)| e == backfill).unwrap();
    assert_eq!(hex::encode(sha2::Sha256::digest(&object)), expected.2);
}

/// Who may reach a schedule: another account's admin gets `schedule_not_found` on every
/// route, exactly as for an id that does not exist; a read-only key cannot create one; and
/// nothing changes.
#[tokio::test]
async fn another_accounts_schedule_is_not_found_and_a_reader_cannot_make_one() {
    let app = spawn_app().await;
    let starts = (chrono::Utc::now() - Duration::days(1)).date_naive();
    let created = create(
        &app,
        json!({"website_id": app.website, "frequency": "daily", "starts_on": starts.to_string()}),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let (globex, _) = app.other_account().await;
    let url = app.api(&format!("/schedules/{id}"));
    let window = json!({"from": starts.to_string(), "to": starts.to_string()});
    let attempts = [
        app.client.get(&url),
        app.client.patch(&url).json(&json!({"enabled": false})),
        app.client.delete(&url),
        app.client.post(format!("{url}/run")),
        app.client.post(format!("{url}/backfill")).json(&window),
    ];
    for request in attempts {
        let response = request.header("X-API-Key", &globex).send().await.unwrap();
        assert_eq!(
            error_code(response).await,
            (StatusCode::NOT_FOUND, "schedule_not_found".to_string())
        );
    }
    let reader = app.key_with("analytics:read,exports:read").await;
    let response = app
        .client
        .post(app.api("/schedules"))
        .header("X-API-Key", reader)
        .json(&json!({"website_id": app.website, "frequency": "daily"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(response).await,
        (StatusCode::FORBIDDEN, "insufficient_scope".to_string())
    );
    let mine = show(&app, id).await;
    assert_eq!(mine["enabled"], true, "still enabled");
    assert_eq!(mine["runs"], json!([]), "nothing ran");
    assert_eq!(
        app.get_json(&app.api("/schedules")).await["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}
