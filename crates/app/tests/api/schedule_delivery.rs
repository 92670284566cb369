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

/// A local destination takes a backfill the way S3 does: each window's files are replaced
/// whole under the same names (written aside, then renamed over), so two backfills of windows
/// already delivered leave exactly one copy of each row and no stray files.
#[tokio::test]
async fn backfills_to_a_local_destination_replace_each_windows_files_whole() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let destination = post(
        &app,
        "/destinations",
        json!({"type": "local", "path": dir.path()}),
    )
    .await;
    assert_eq!(destination.status(), StatusCode::CREATED);
    let destination: Value = destination.json().await.unwrap();
    let starts = (chrono::Utc::now() - Duration::days(2)).date_naive();
    let days = [starts, starts + Duration::days(1)];
    for (i, day) in days.iter().enumerate() {
        app.ingest_ok(&[pageview(
            &app.website,
            "v1",
            &format!("{day}T12:00:00Z"),
            &format!("/row-{i}"),
        )])
        .await;
    }
    let created = create(
        &app,
        json!({"website_id": app.website, "frequency": "daily", "destination_id": destination["id"],
               "starts_on": starts.to_string()}),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    app.worker.enqueue_due_windows().await.unwrap();
    app.run_jobs().await;
    for _ in 0..2 {
        let backfill = post(
            &app,
            &format!("/schedules/{id}/backfill"),
            json!({"from": days[0].to_string(), "to": days[1].to_string()}),
        )
        .await;
        assert_eq!(
            backfill.status(),
            StatusCode::ACCEPTED,
            "{:?}",
            backfill.text().await
        );
        app.run_jobs().await;
    }

    let runs = show(&app, id).await["runs"].as_array().unwrap().clone();
    assert_eq!(runs.len(), 6, "two windows, run three times: {runs:?}");
    let mut last = std::collections::HashMap::new();
    for run in &runs {
        let export = app
            .get_json(&app.api(&format!("/exports/{}", run["export_id"].as_str().unwrap())))
            .await;
        assert_eq!(export["delivery"]["status"], "delivered", "{export}");
        // Runs are listed newest first: the first seen of a window is what it holds now.
        let window = format!(
            "{}_{}",
            run["window"]["from"].as_str().unwrap(),
            run["window"]["to"].as_str().unwrap()
        );
        last.entry(window)
            .or_insert_with(|| export["files"][0]["sha256"].as_str().unwrap().to_string());
    }
    assert_eq!(
        std::fs::read_dir(dir.path().join(id)).unwrap().count(),
        2,
        "one folder per window"
    );
    // Each row, counted over every window's page views: exactly once, in its own day.
    let mut seen = std::collections::HashMap::new();
    for (i, day) in days.iter().enumerate() {
        let window = format!("{day}_{}", *day + Duration::days(1));
        let folder = dir.path().join(id).join(&window);
        let names: Vec<String> = std::fs::read_dir(&folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["export.zip"], "no copies, no temporary files");
        let bytes = std::fs::read(folder.join("export.zip")).unwrap();
        assert_eq!(
            hex::encode(sha2::Sha256::digest(&bytes)),
            last[&window],
            "the newest run's file, whole"
        );
        for (name, content) in unzip(&bytes) {
            if !name.starts_with("pageviews") {
                continue;
            }
            for line in String::from_utf8_lossy(&content).lines() {
                if let Some(row) = ["/row-0", "/row-1"].iter().find(|r| line.contains(**r)) {
                    seen.entry(*row).or_insert_with(Vec::new).push(i);
                }
            }
        }
    }
    assert_eq!(seen.get("/row-0"), Some(&vec![0]), "{seen:?}");
    assert_eq!(seen.get("/row-1"), Some(&vec![1]), "{seen:?}");
}
