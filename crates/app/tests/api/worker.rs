//! The job worker as the queue sees it: leases that a stalled worker cannot use, a panic
//! boundary, attempt limits for jobs whose worker keeps dying, lanes that keep a person's
//! export from waiting behind a bulk export, and a graceful shutdown. Jobs are held at a
//! known point with a hook, never with a timer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ferry::jobs::{ExportHook, JobEvent, Outcome};
use ferry_domain::job::ExportJob;
use ferry_domain::queue::{JobKind, Lane};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use crate::exports::{fetch, person, post};
use crate::helpers::*;

/// Holds export jobs at their start until released; reports each one held.
struct Gate {
    entered: mpsc::UnboundedSender<String>,
    release: Semaphore,
}

fn new_gate() -> (Arc<Gate>, mpsc::UnboundedReceiver<String>) {
    let (entered, held) = mpsc::unbounded_channel();
    let gate = Gate {
        entered,
        release: Semaphore::new(0),
    };
    (Arc::new(gate), held)
}

/// A hook that holds the exports `which` picks at the gate.
fn holding(gate: Arc<Gate>, which: fn(&ExportJob) -> bool) -> ExportHook {
    Arc::new(move |job: &ExportJob| {
        let (gate, hold, id) = (gate.clone(), which(job), job.id.clone());
        Box::pin(async move {
            if hold {
                let _ = gate.entered.send(id);
                gate.release.acquire().await.expect("open").forget();
            }
        })
    })
}

async fn queue_export(app: &TestApp, path: &str, body: Value) -> String {
    let response = post(app, path, body).await;
    assert_eq!(response.status(), reqwest::StatusCode::ACCEPTED);
    let body: Value = response.json().await.unwrap();
    body["export_id"].as_str().unwrap().to_string()
}

/// The next event about export `id`.
async fn ended(events: &mut broadcast::Receiver<JobEvent>, id: &str) -> Outcome {
    let wait = async {
        loop {
            let event = events.recv().await.expect("the worker reports");
            if event.kind
                == (JobKind::Export {
                    export_id: id.into(),
                })
            {
                return event.outcome;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(60), wait)
        .await
        .expect("the job ends")
}

async fn status(app: &TestApp, id: &str) -> Value {
    app.get_json(&app.api(&format!("/exports/{id}"))).await
}

#[tokio::test]
async fn a_worker_whose_lease_expired_cannot_complete_a_reclaimed_job_and_its_files_never_become_reachable()
 {
    let app = spawn_app().await;
    person(&app).await;
    let id = queue_export(&app, "/users/user_123/export", json!({"format": "csv"})).await;

    // Worker A claims the job and stalls: no heartbeat in the test's time, held at the gate.
    let (gate, mut held) = new_gate();
    let mut stalled = app.worker.clone();
    stalled.settings.heartbeat = Duration::from_secs(3_600);
    stalled.hook = Some(holding(gate.clone(), |_| true));
    let claimed = stalled.claim(&[Lane::Default]).await.unwrap().unwrap();
    let options = stalled.options();
    let a = tokio::spawn(async move { stalled.run_claimed(claimed, options).await });
    assert_eq!(held.recv().await.unwrap(), id);

    // Its lease runs out; worker B reclaims the job and is still writing it...
    app.clock.advance(31_000);
    let (b_gate, mut b_held) = new_gate();
    let mut second = app.worker.clone();
    second.hook = Some(holding(b_gate.clone(), |_| true));
    second.reclaim().await.unwrap();
    let reclaimed = second.claim(&[Lane::Default]).await.unwrap().unwrap();
    let options = second.options();
    let b = tokio::spawn(async move { second.run_claimed(reclaimed, options).await });
    assert_eq!(b_held.recv().await.unwrap(), id);

    // ... when A wakes up, writes its files and tries to complete: refused, files deleted.
    gate.release.add_permits(1);
    assert_eq!(a.await.unwrap().outcome, Outcome::LeaseLost);
    let during = status(&app, &id).await;
    assert_eq!(
        (during["status"].as_str(), during["download_url"].as_str()),
        (Some("running"), None),
        "A completed nothing: {during}"
    );
    assert!(app.worker.artifacts.list(&id).await.unwrap().is_empty());

    b_gate.release.add_permits(1);
    assert_eq!(b.await.unwrap().outcome, Outcome::Done);
    let done = status(&app, &id).await;
    assert_eq!(
        (done["status"].as_str(), done["attempts"].as_u64()),
        (Some("completed"), Some(2))
    );
    let stored = app.worker.artifacts.list(&id).await.unwrap();
    assert_eq!(stored.len(), 1, "only B's file is stored: {stored:?}");
    let (_, bytes) = fetch(&app, done["download_url"].as_str().unwrap(), None).await;
    use sha2::Digest;
    assert_eq!(
        done["files"][0]["sha256"],
        hex::encode(sha2::Sha256::digest(&bytes)),
        "the link serves B's file"
    );
    let scratch: Vec<_> = std::fs::read_dir(app.data_dir().join("work"))
        .unwrap()
        .collect();
    assert!(scratch.is_empty(), "no attempt leaves scratch files");
    let after = status(&app, &id).await;
    assert_eq!(after["status"], "completed", "A's refusal changed nothing");
    let trail = app
        .get_json(&app.api("/audit?action=data_export.completed"))
        .await;
    assert_eq!(trail["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_job_that_panics_fails_with_internal_error_and_the_worker_goes_on() {
    let app = spawn_app().await;
    person(&app).await;
    let first = Arc::new(AtomicBool::new(true));
    let mut worker = app.worker.clone();
    worker.hook = Some(Arc::new(move |_job: &ExportJob| {
        let panics = first.swap(false, Ordering::SeqCst);
        Box::pin(async move {
            if panics {
                panic!("a bug in the export path");
            }
        })
    }));
    let mut events = worker.events.subscribe();
    let stop = CancellationToken::new();
    let running = tokio::spawn(worker.run(stop.clone()));

    let broken = queue_export(&app, "/users/user_123/export", json!({})).await;
    app.worker.wake.notify_one();
    assert_eq!(
        ended(&mut events, &broken).await,
        Outcome::Failed {
            code: "internal_error".into()
        }
    );
    let job = status(&app, &broken).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "internal_error");
    assert!(
        !job["error"]["message"].as_str().unwrap().contains("a bug"),
        "the panic's text stays in the log: {job}"
    );

    let scratch = std::fs::read_dir(app.data_dir().join("work"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(scratch, 0, "the panicked attempt leaves no scratch files");

    let fine = queue_export(&app, "/users/user_123/export", json!({})).await;
    app.worker.wake.notify_one();
    assert_eq!(ended(&mut events, &fine).await, Outcome::Done);
    assert!(!running.is_finished(), "the worker still runs");
    stop.cancel();
    running.await.unwrap();
}

#[tokio::test]
async fn a_job_whose_worker_dies_on_every_attempt_fails_after_the_attempt_limit() {
    let app = spawn_app().await;
    person(&app).await;
    let id = queue_export(&app, "/users/user_123/export", json!({})).await;
    let (gate, mut held) = new_gate();
    let mut doomed = app.worker.clone();
    doomed.hook = Some(holding(gate, |_| true));
    for attempt in 1..=3u64 {
        let claimed = doomed.claim(&[Lane::Default]).await.unwrap().unwrap();
        let options = doomed.options();
        let run = {
            let doomed = doomed.clone();
            tokio::spawn(async move { doomed.run_claimed(claimed, options).await })
        };
        assert_eq!(held.recv().await.unwrap(), id);
        // The process dies here: its job and heartbeat stop, nothing is reported.
        run.abort();
        let _ = run.await;
        let job = status(&app, &id).await;
        assert_eq!(
            (job["status"].as_str(), job["attempts"].as_u64()),
            (Some("running"), Some(attempt))
        );
        app.clock.advance(31_000);
        app.worker.reclaim().await.unwrap();
    }
    let job = status(&app, &id).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "attempts_exhausted");
    assert!(
        app.run_jobs().await.is_empty(),
        "it is not tried a fourth time"
    );
    let trail = app
        .get_json(&app.api("/audit?action=data_export.failed"))
        .await;
    let entry = &trail["data"][0];
    assert_eq!(
        (
            entry["status"].as_str(),
            entry["details"]["will_retry"].as_bool()
        ),
        (Some("attempts_exhausted"), Some(false))
    );
    assert!(app.worker.artifacts.list(&id).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_persons_export_completes_while_bulk_exports_hold_the_other_slot() {
    let app = spawn_app().await;
    person(&app).await;
    let (gate, mut held) = new_gate();
    let mut worker = app.worker.clone();
    worker.settings.slots = 2;
    worker.hook = Some(holding(gate.clone(), |job| job.spec.is_bulk()));
    let mut events = worker.events.subscribe();
    let stop = CancellationToken::new();
    let running = tokio::spawn(worker.run(stop.clone()));

    let bulk_body = json!({"kind": "bulk", "website_id": app.website});
    let big = queue_export(&app, "/exports", bulk_body.clone()).await;
    app.worker.wake.notify_one();
    assert_eq!(held.recv().await.unwrap(), big);
    // A second bulk export may not take the last slot...
    let next_big = queue_export(&app, "/exports", bulk_body).await;
    // ... so a person's export queued after it runs at once.
    let small = queue_export(&app, "/users/user_123/export", json!({})).await;
    app.worker.wake.notify_one();
    assert_eq!(ended(&mut events, &small).await, Outcome::Done);
    assert_eq!(status(&app, &small).await["status"], "completed");
    assert_eq!(status(&app, &big).await["status"], "running", "still held");
    assert_eq!(status(&app, &next_big).await["status"], "queued");

    gate.release.add_permits(2);
    assert_eq!(ended(&mut events, &big).await, Outcome::Done);
    assert_eq!(held.recv().await.unwrap(), next_big);
    assert_eq!(ended(&mut events, &next_big).await, Outcome::Done);
    stop.cancel();
    running.await.unwrap();
}

#[tokio::test]
async fn on_shutdown_a_job_past_the_grace_period_is_given_back_for_the_next_worker() {
    let app = spawn_app().await;
    person(&app).await;
    let (gate, mut held) = new_gate();
    let mut worker = app.worker.clone();
    // Real time is what this test is about: the grace period.
    worker.settings.grace = Duration::from_millis(200);
    worker.hook = Some(holding(gate, |_| true));
    let stop = CancellationToken::new();
    let running = tokio::spawn(worker.run(stop.clone()));
    let id = queue_export(&app, "/users/user_123/export", json!({})).await;
    app.worker.wake.notify_one();
    assert_eq!(held.recv().await.unwrap(), id);

    stop.cancel();
    running.await.unwrap();
    let job = status(&app, &id).await;
    assert_eq!(
        (job["status"].as_str(), job["attempts"].as_u64()),
        (Some("queued"), Some(0)),
        "released at once, and the interrupted try does not count: {job}"
    );
    let events = app.run_jobs().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].outcome, Outcome::Done);
    assert_eq!(status(&app, &id).await["attempts"], 1);
}

#[tokio::test]
async fn an_export_that_kills_its_worker_process_every_time_stops_after_the_attempt_limit() {
    use ferry_domain::Millis;

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    crate::cli::one_person(d).await;

    // Queued as the API queues it (through the export service); then a real `ferry worker`
    // process takes it up each time and dies mid-export.
    let store = ferry_store::open("", d).await.unwrap();
    let acme = store.account_by_name("acme").await.unwrap().unwrap().id;
    let actor = ferry::services::Actor::Key {
        account: acme,
        id: "key_test".into(),
        name: None,
    };
    let export = ferry::services::exports::request_export(
        store.as_ref(),
        &ferry::clock::SystemClock,
        &actor,
        Some(ferry_domain::export::SubjectRef::UserId("u1".into())),
        Default::default(),
    )
    .await
    .unwrap()
    .job;
    let worker = || {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_ferry"));
        cmd.arg("--data-dir")
            .arg(d)
            .arg("worker")
            .env("FERRY_LOG", "error")
            .env("FERRY_TEST_ABORT_EXPORTS", "1")
            .kill_on_drop(true);
        cmd
    };
    // Each lease runs out; the store is asked as the next worker would be, 31 s after each
    // death, instead of the test waiting.
    let mut now: Millis = 0;
    for attempt in 1..=3u32 {
        let mut process = worker().spawn().unwrap();
        let status = tokio::time::timeout(Duration::from_secs(60), process.wait())
            .await
            .expect("the worker takes the job up at once")
            .unwrap();
        assert!(!status.success(), "the worker's process died");
        let job = store.export_job(acme, &export.id).await.unwrap().unwrap();
        assert_eq!(
            (job.status, job.attempts),
            (ferry_domain::job::ExportStatus::Running, attempt)
        );
        now = chrono::Utc::now().timestamp_millis().max(now) + 31_000;
        let reclaimed = store.reclaim_expired(now).await.unwrap();
        if attempt < 3 {
            assert_eq!(reclaimed.requeued.len(), 1);
        } else {
            assert_eq!(reclaimed.failed.len(), 1);
        }
    }
    let job = store.export_job(acme, &export.id).await.unwrap().unwrap();
    assert_eq!(job.status, ferry_domain::job::ExportStatus::Failed);
    assert_eq!(job.error.unwrap().0, "attempts_exhausted");
    assert!(
        store
            .claim_job(&[Lane::Default, Lane::Bulk], now + 3_600_000, 30_000)
            .await
            .unwrap()
            .is_none(),
        "nothing is left to try"
    );
}
