//! The sweep: files of expired and used-up links are deleted (audited, and the export then
//! says `expired`), live ones are kept, and startup clears what a killed attempt left.

use std::path::Path;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::exports::{export, fetch, person};
use crate::helpers::*;

const MINUTE: i64 = 60_000;
const DAY: i64 = 86_400_000;

/// Queues this period's sweep as the worker's loop does, then runs the ready jobs.
async fn sweep(app: &TestApp) {
    assert!(
        app.worker.enqueue_sweep().await.unwrap(),
        "a new period queues a sweep"
    );
    let events = app.run_jobs().await;
    let swept = events
        .iter()
        .find(|e| e.kind.name() == "sweep" && e.outcome == ferry::jobs::Outcome::Done)
        .unwrap_or_else(|| panic!("{events:?}"));
    // Finished in the queue too: a sweep left `running` would fail when its lease ran out.
    let record = app.store.job(swept.job).await.unwrap().unwrap();
    assert_eq!(record.status, ferry_domain::queue::JobStatus::Done);
}

/// The export's files in the artifact store.
fn files_of(app: &TestApp, job: &Value) -> Vec<String> {
    let dir = app
        .data_dir()
        .join("artifacts")
        .join(job["export_id"].as_str().unwrap());
    let mut found = Vec::new();
    let mut pending = vec![dir];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            match entry.file_type().unwrap().is_dir() {
                true => pending.push(entry.path()),
                false => found.push(entry.file_name().to_string_lossy().into_owned()),
            }
        }
    }
    found
}

/// The sweep's `data_export.deleted` entries: (export id, reason).
async fn deletions(app: &TestApp) -> Vec<(String, String)> {
    let trail = app
        .get_json(&app.api("/audit?action=data_export.deleted"))
        .await;
    trail["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["actor"], "sweep", "{e}");
            (
                e["export_id"].as_str().unwrap().to_string(),
                e["details"]["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn error_of(app: &TestApp, url: &str) -> (StatusCode, String) {
    error_code(app.client.get(url).send().await.unwrap()).await
}

#[tokio::test]
async fn past_its_expiry_an_exports_file_is_swept_audited_and_its_link_answers_link_expired() {
    let app = spawn_app().await;
    person(&app).await;
    let job = export(&app, json!({"format": "json", "expires_in": 3600})).await;
    let id = job["export_id"].as_str().unwrap().to_string();
    let url = job["download_url"].as_str().unwrap().to_string();
    assert_eq!(files_of(&app, &job).len(), 1);

    sweep(&app).await;
    assert_eq!(files_of(&app, &job).len(), 1, "a live link's file stays");
    assert_eq!(fetch(&app, &url, None).await.0, StatusCode::OK);

    app.clock.advance(3600 * 1000 + MINUTE);
    sweep(&app).await;
    assert!(files_of(&app, &job).is_empty(), "the expired file is gone");
    assert_eq!(deletions(&app).await, [(id.clone(), "link_expired".into())]);
    let shown = app.get_json(&app.api(&format!("/exports/{id}"))).await;
    assert_eq!(
        (&shown["status"], &shown["download_url"]),
        (&json!("expired"), &Value::Null)
    );
    assert_eq!(
        error_of(&app, &url).await,
        (StatusCode::GONE, "link_expired".into())
    );

    app.clock.advance(SWEEP_PERIOD);
    sweep(&app).await;
    assert_eq!(deletions(&app).await.len(), 1, "audited once");
}

const SWEEP_PERIOD: i64 = ferry::jobs::SWEEP_EVERY_MS;

#[tokio::test]
async fn a_used_one_time_links_file_is_swept_while_live_links_keep_theirs() {
    let mut app = spawn_app().await;
    person(&app).await;
    let used = export(&app, json!({"format": "json", "one_time": true})).await;
    let resumed = export(&app, json!({"format": "json", "one_time": true})).await;
    let untouched = export(&app, json!({"format": "json", "one_time": true})).await;
    let plain = export(&app, json!({"format": "json"})).await;
    let link = |job: &Value| job["download_url"].as_str().unwrap().to_string();

    assert_eq!(fetch(&app, &link(&used), None).await.0, StatusCode::OK);
    let (status, _) = fetch(&app, &link(&resumed), Some("bytes=0-9")).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    app.downloads_recorded(2).await;

    sweep(&app).await;
    assert!(files_of(&app, &used).is_empty(), "downloaded whole: gone");
    for live in [&resumed, &untouched, &plain] {
        assert_eq!(files_of(&app, live).len(), 1, "{live}");
    }
    let used_id = used["export_id"].as_str().unwrap().to_string();
    assert_eq!(deletions(&app).await, [(used_id, "link_used".into())]);
    assert_eq!(
        error_of(&app, &link(&used)).await,
        (StatusCode::GONE, "link_expired".into())
    );

    // A claimed one-time link may be resumed for a day; after that its file goes too.
    app.clock.advance(DAY + MINUTE);
    sweep(&app).await;
    assert!(
        files_of(&app, &resumed).is_empty(),
        "past the resume window"
    );
    for live in [&untouched, &plain] {
        assert_eq!(files_of(&app, live).len(), 1, "{live}");
    }
    let (status, bytes) = fetch(&app, &link(&untouched), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        bytes.len() as u64,
        untouched["files"][0]["bytes"].as_u64().unwrap()
    );
}

#[tokio::test]
async fn one_sweep_is_queued_per_period_however_many_workers_ask() {
    let app = spawn_app().await;
    assert!(app.worker.enqueue_sweep().await.unwrap());
    assert!(!app.worker.enqueue_sweep().await.unwrap(), "same period");
    assert_eq!(app.run_jobs().await.len(), 1);
    assert!(!app.worker.enqueue_sweep().await.unwrap(), "ran already");
    app.clock.advance(SWEEP_PERIOD);
    assert!(app.worker.enqueue_sweep().await.unwrap(), "the next period");
}

fn plant(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

#[tokio::test]
async fn startup_clears_a_killed_attempts_leftovers_and_orphan_files_but_nothing_still_needed() {
    let app = spawn_app().await;
    person(&app).await;
    let live = export(&app, json!({"format": "json"})).await;
    let live_id = live["export_id"].as_str().unwrap();
    // A job that a worker (of another process, say) is running right now.
    let queued = crate::exports::post(&app, "/users/user_123/export", json!({})).await;
    let running: Value = queued.json().await.unwrap();
    let running_id = running["export_id"].as_str().unwrap();
    let claimed = app
        .worker
        .claim(&[ferry_domain::queue::Lane::Default])
        .await
        .unwrap()
        .expect("the export's job");
    let token = &claimed.lease.token;

    let data = app.data_dir();
    let leftovers = [
        // A killed attempt's scratch directory and half-written file.
        data.join("work/exp_killed.0123abcd/pageviews.csv.tmp"),
        // An attempt of an existing export that died while storing its files.
        data.join(format!("artifacts/{live_id}/deadbeef/export.partial")),
        // Files of an export that does not exist.
        data.join("artifacts/exp_nosuch/feedface/export.json"),
    ];
    let needed = [
        data.join(format!("work/{running_id}.{token}/export.json")),
        data.join(format!("artifacts/{running_id}/{token}/export.json")),
    ];
    for path in leftovers.iter().chain(&needed) {
        plant(path, b"{}");
    }

    let (_server, _base) = crate::cli::serve(data).await;
    for path in &leftovers {
        assert!(!path.exists(), "{} is gone", path.display());
    }
    assert!(!data.join("artifacts/exp_nosuch").exists());
    for path in &needed {
        assert!(path.exists(), "{} stays: its job runs", path.display());
    }
    assert_eq!(
        files_of(&app, &live).len(),
        1,
        "the live export's file stays"
    );
    let url = live["download_url"].as_str().unwrap();
    assert_eq!(fetch(&app, url, None).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_one_time_export_of_separate_files_keeps_them_all_until_each_was_fetched() {
    let mut app = spawn_app().await;
    crate::bulk_exports::traffic(&app).await;
    let job = crate::bulk_exports::bulk(
        &app,
        json!({"format": "csv", "zip": false, "one_time": true, "from": "2024-05-01",
               "to": "2024-05-02"}),
    )
    .await;
    let files = job["files"].as_array().unwrap().clone();
    assert!(files.len() > 2, "{job}");
    let (first, rest) = files.split_first().unwrap();
    assert_eq!(
        fetch(&app, first["download_url"].as_str().unwrap(), None)
            .await
            .0,
        StatusCode::OK
    );
    app.downloads_recorded(1).await;
    sweep(&app).await;
    assert_eq!(
        files_of(&app, &job).len(),
        files.len(),
        "the others are live"
    );

    for file in rest {
        let (status, _) = fetch(&app, file["download_url"].as_str().unwrap(), None).await;
        assert_eq!(status, StatusCode::OK);
    }
    app.downloads_recorded(rest.len()).await;
    app.clock.advance(SWEEP_PERIOD);
    sweep(&app).await;
    assert!(files_of(&app, &job).is_empty(), "each fetched whole: gone");
}

#[tokio::test]
async fn ferry_worker_clears_leftovers_at_startup_too() {
    use tokio::io::AsyncBufReadExt;
    let app = spawn_app().await;
    let data = app.data_dir();
    let leftovers = [
        data.join("work/exp_killed.0123abcd/export.json"),
        data.join("artifacts/exp_nosuch/feedface/export.partial"),
    ];
    for path in &leftovers {
        plant(path, b"{}");
    }
    let mut worker = tokio::process::Command::new(env!("CARGO_BIN_EXE_ferry"))
        .arg("--data-dir")
        .arg(data)
        .arg("worker")
        .env("FERRY_LOG", "warn")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("ferry worker starts");
    let mut lines = tokio::io::BufReader::new(worker.stderr.take().unwrap()).lines();
    let started = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.starts_with("Ferry worker running") {
                return;
            }
        }
        panic!("ferry worker stopped before it ran");
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), started)
        .await
        .expect("ferry worker starts in time");
    for path in &leftovers {
        assert!(!path.exists(), "{} is gone", path.display());
    }
}
