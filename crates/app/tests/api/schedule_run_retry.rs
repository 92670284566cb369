//! A schedule run that stopped after asking for its export and before recording the run is
//! retried; the retry must find the export it asked for, not ask for a second one.

use ferry::clock::Clock;
use ferry::services::Actor;
use ferry::services::exports::request_export;
use ferry::services::schedules::run_options;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::schedules::{create, show};

#[tokio::test]
async fn asking_again_for_a_run_s_export_answers_the_export_already_queued() {
    let app = spawn_app().await;
    app.ingest_ok(&[pageview(&app.website, "v1", "2026-03-01T10:00:00Z", "/a")])
        .await;
    let created = create(
        &app,
        json!({"website_id": app.website, "frequency": "daily", "include": ["pageviews"], "starts_on": "2026-03-01"}),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    app.clock.set(1_772_409_600_000); // 2026-03-02T00:00:00Z: the first window is due
    app.worker.enqueue_due_windows().await.unwrap();
    app.run_jobs().await;
    let runs = show(&app, id).await["runs"].clone();
    let export_id = runs[0]["export_id"].as_str().unwrap().to_string();
    assert!(
        export_id.starts_with("exp_run"),
        "a run's export is named by its job: {export_id}"
    );

    // What the run's first attempt did, asked again as a retry would.
    let (account, schedule) = app.store.schedule_any(id).await.unwrap().unwrap();
    let window = ferry_domain::schedule::RunWindow {
        from: "2026-03-01".parse().unwrap(),
        to: "2026-03-02".parse().unwrap(),
    };
    let mut options = run_options(&schedule, window, None);
    options.export_id = Some(export_id.clone());
    let actor = Actor::Schedule {
        account,
        id: id.to_string(),
    };
    let clock: &dyn Clock = &app.clock;
    let again = request_export(app.store.as_ref(), clock, &actor, None, options)
        .await
        .unwrap();
    assert_eq!(again.job.id, export_id, "the same export");

    let exports: Value = app.get_json(&app.api("/exports")).await;
    assert_eq!(exports["data"].as_array().unwrap().len(), 1, "{exports}");
    let audit: Value = app
        .get_json(&app.api("/audit?action=data_export.requested"))
        .await;
    assert_eq!(
        audit["data"].as_array().unwrap().len(),
        1,
        "one request on the trail: {audit}"
    );
}
