//! Erasure beyond the straight path: a run killed after its row transaction resumes to the
//! same report; the refusals (unverified, another account, a report asked too early,
//! `export_first` on an access request, a read-only key) change nothing; approval holds it;
//! `export_first` mails the subject their copy before the rest is erased.

use ferry_domain::queue::{JobKind, Lane};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::erasure::{Person, export, totals, traffic};
use crate::helpers::{TestApp, error_code};
use crate::requests::{id, post_ok, post_with, unique_email};
use crate::requests_fulfilment::{path, show, verified};
use crate::requests_verification::{app_with_mail, mails_to};

async fn report(app: &TestApp, request: &Value) -> Value {
    show(app, request).await["deletion_report"]["report"].clone()
}

#[tokio::test]
async fn an_erasure_killed_after_deleting_the_rows_resumes_to_the_same_report() {
    let app = app_with_mail().await;
    let second = app.create_website("second.example.com", "UTC").await;
    let p = Person::new("crash");
    traffic(&app, &second, &p).await;
    let request = verified(&app, &p.email, "erasure").await;
    post_ok(&app, &path(&request, "fulfil"), json!({}), StatusCode::OK).await;

    // A worker claims the job and dies right after the row transaction committed.
    let claimed = app.worker.claim(&[Lane::Default]).await.unwrap().unwrap();
    assert!(
        matches!(claimed.kind, JobKind::Erasure { .. }),
        "{claimed:?}"
    );
    let (account, _) = app.store.request_any(&id(&request)).await.unwrap().unwrap();
    let now = ferry::clock::Clock::now(&app.clock);
    let killed = app
        .store
        .erase_rows(account, &id(&request), &p.email, Vec::new(), now)
        .await
        .unwrap();
    assert_eq!(
        (
            killed.counts.pageviews,
            killed.counts.events,
            killed.counts.sessions
        ),
        (5, 3, 2)
    );
    drop(claimed);
    // Its lease runs out; the job is claimed again and resumes.
    app.clock.advance(120_000);
    app.run_jobs().await;

    let shown = show(&app, &request).await;
    assert_eq!(shown["status"], "delivered", "{shown}");
    let removed = &shown["deletion_report"]["report"]["removed"];
    let c = &killed.counts;
    assert_eq!(
        removed,
        &json!({
            "pageviews": c.pageviews, "events": c.events, "sessions": c.sessions,
            "visitors": c.visitors, "profiles": c.profiles, "identity_links": c.identity_links,
            "websites": c.websites, "segments_forgotten": c.segments,
            "segment_files_removed": removed["segment_files_removed"],
            "rollup_buckets_rebuilt": c.rollup_buckets, "exports_erased": 0,
            "artifact_files_deleted": 0,
        }),
        "the report counts what the killed run deleted, once"
    );
    assert_eq!(shown["deletion_report"]["report"]["nothing_remains"], true);
    let (ok, out, err) = crate::cli::run(app.data_dir(), &["audit", "verify"]).await;
    assert!(ok, "{out}{err}");
}

#[tokio::test]
async fn refused_erasures_change_nothing() {
    let app = app_with_mail().await;
    let second = app.create_website("second.example.com", "UTC").await;
    let p = Person::new("refuse");
    traffic(&app, &second, &p).await;
    let before = totals(&app, &app.website).await;

    // Unverified: refused, nothing queued or deleted.
    let body = json!({"type": "erasure", "subject_email": p.email});
    let unverified = post_ok(&app, "/requests", body, StatusCode::CREATED).await;
    let response = post_with(
        &app,
        &app.admin_key,
        &path(&unverified, "fulfil"),
        json!({}),
    )
    .await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::CONFLICT, "illegal_transition".into())
    );
    let early = app
        .get_with(
            &app.admin_key,
            &app.api(&path(&unverified, "deletion-report")),
        )
        .await;
    assert_eq!(
        error_code(early).await,
        (StatusCode::CONFLICT, "deletion_report_not_ready".into())
    );

    let request = verified(&app, &p.email, "erasure").await;
    // Another account: as if the request did not exist.
    let (other, _) = app.other_account().await;
    for (method, action) in [("POST", "fulfil"), ("GET", "deletion-report")] {
        let url = app.api(&path(&request, action));
        let response = match method {
            "POST" => post_with(&app, &other, &path(&request, action), json!({})).await,
            _ => app.get_with(&other, &url).await,
        };
        assert_eq!(
            error_code(response).await,
            (StatusCode::NOT_FOUND, "request_not_found".into()),
            "{action}"
        );
    }
    // A key that may only read requests cannot start one.
    let reader = app.key_with("requests:read").await;
    let response = post_with(&app, &reader, &path(&request, "fulfil"), json!({})).await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::FORBIDDEN, "insufficient_scope".into())
    );
    // An unknown option is refused, and `export_first` means nothing to an access request.
    let response = post_with(
        &app,
        &app.admin_key,
        &path(&request, "fulfil"),
        json!({"export_frist": true}),
    )
    .await;
    assert_eq!(error_code(response).await.1, "unknown_field");
    let access = verified(&app, &unique_email("acc"), "access").await;
    let response = post_with(
        &app,
        &app.admin_key,
        &path(&access, "fulfil"),
        json!({"export_first": true}),
    )
    .await;
    assert_eq!(error_code(response).await.1, "unknown_field");

    app.run_jobs().await;
    assert_eq!(totals(&app, &app.website).await, before);
    assert_eq!(show(&app, &request).await["status"], "verified");

    // Approval required: it waits for an admin, then erases.
    let response = app
        .client
        .put(app.api("/requests/settings"))
        .header("X-API-Key", &app.admin_key)
        .json(&json!({"require_approval": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let asked = post_ok(&app, &path(&request, "fulfil"), json!({}), StatusCode::OK).await;
    assert_eq!(asked["status"], "awaiting_approval");
    app.run_jobs().await;
    assert_eq!(
        totals(&app, &app.website).await,
        before,
        "nothing before approval"
    );
    post_ok(&app, &path(&request, "approve"), json!({}), StatusCode::OK).await;
    app.run_jobs().await;
    assert_eq!(report(&app, &request).await["removed"]["pageviews"], 5);
    assert_eq!(
        totals(&app, &app.website).await["pageviews"],
        before["pageviews"].as_u64().unwrap() - 3
    );
}

#[tokio::test]
async fn export_first_mails_the_copy_and_erases_everything_else() {
    let app = app_with_mail().await;
    let second = app.create_website("second.example.com", "UTC").await;
    let p = Person::new("copy");
    traffic(&app, &second, &p).await;
    let earlier = export(
        &app,
        json!({"subject": {"user_id": p.user_id}, "format": "json"}),
    )
    .await;
    let request = verified(&app, &p.email, "erasure").await;
    let started = post_ok(
        &app,
        &path(&request, "fulfil"),
        json!({"export_first": true}),
        StatusCode::OK,
    )
    .await;
    let kept = started["fulfilment"]["export_ids"].clone();
    assert_eq!(kept.as_array().unwrap().len(), 1, "{started}");
    app.run_jobs().await;

    let shown = show(&app, &request).await;
    assert_eq!(shown["status"], "delivered", "{shown}");
    let report = &shown["deletion_report"]["report"];
    assert_eq!(report["kept"]["export_first_exports"], kept, "{report}");
    assert_eq!(
        report["removed"]["exports_erased"], 1,
        "the earlier export, not the copy"
    );
    assert_eq!(report["nothing_remains"], true, "{report}");

    let mail = mails_to(&p.email)
        .into_iter()
        .find(|m| m["subject"] == "Your data has been erased")
        .expect("the mail");
    let body = mail["body"].as_str().unwrap();
    let link = body
        .split_whitespace()
        .find(|w| w.contains("/download/"))
        .expect("the copy's link");
    let copy = app.client.get(link).send().await.unwrap();
    assert_eq!(copy.status(), StatusCode::OK);
    let doc: Value = copy.json().await.unwrap();
    assert_eq!(doc["user"]["user_id"], p.user_id.as_str());
    assert_eq!(doc["pageviews"].as_array().unwrap().len(), 5);

    let gone = app
        .client
        .get(earlier["download_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(gone).await,
        (StatusCode::GONE, "export_erased".into())
    );
    assert_eq!(totals(&app, &second).await["pageviews"], 2);
}

#[tokio::test]
async fn ferry_requests_erase_takes_the_same_step_as_the_api() {
    let app = app_with_mail().await;
    let second = app.create_website("second.example.com", "UTC").await;
    let p = Person::new("cli");
    traffic(&app, &second, &p).await;
    let access = verified(&app, &unique_email("acc"), "access").await;
    let (ok, _, err) = crate::cli::run(
        app.data_dir(),
        &["requests", "erase", "--account", "acme", &id(&access)],
    )
    .await;
    assert!(!ok && err.contains("not an erasure"), "{err}");

    let request = verified(&app, &p.email, "erasure").await;
    let (ok, out, err) = crate::cli::run(
        app.data_dir(),
        &["requests", "erase", "--account", "acme", &id(&request)],
    )
    .await;
    assert!(ok, "{out}{err}");
    assert_eq!(out, format!("{} in_progress", id(&request)));
    // The CLI queued the job at the wall clock's now; the app's clock is behind it.
    app.clock.advance(60_000);
    app.run_jobs().await;
    let shown = show(&app, &request).await;
    assert_eq!(shown["status"], "delivered");
    assert_eq!(
        shown["deletion_report"]["report"]["removed"]["pageviews"],
        5
    );
    let cli_step = &shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "erasure_started")
        .unwrap()["actor"];
    assert_eq!(cli_step, "cli");
}

#[tokio::test]
async fn an_email_linked_to_more_visitors_than_a_person_has_is_not_erased() {
    let mut args = ferry::config::ServeArgs::loopback();
    args.mail.smtp_url = Some("smtp://ferry:ferry-test-smtp@127.0.0.1:2525".into());
    args.mail.smtp_from = Some("privacy@example.com".into());
    args.max_subject_visitors = 1;
    let mut app = crate::helpers::spawn_app_with(args).await;
    let second = app.create_website("second.example.com", "UTC").await;
    let p = Person::new("many");
    traffic(&app, &second, &p).await;
    let before = totals(&app, &app.website).await;
    let request = verified(&app, &p.email, "erasure").await;
    post_ok(&app, &path(&request, "fulfil"), json!({}), StatusCode::OK).await;
    let events = app.run_jobs().await;
    assert!(
        events
            .iter()
            .any(|e| format!("{:?}", e.outcome).contains("too_many_visitors")),
        "{events:?}"
    );
    assert_eq!(totals(&app, &app.website).await, before, "nothing deleted");
    assert_eq!(show(&app, &request).await["status"], "in_progress");

    // The operator raises the cap; `fulfil` again runs the erasure that failed.
    app.worker.settings.max_subject_visitors = 10;
    let again = post_ok(&app, &path(&request, "fulfil"), json!({}), StatusCode::OK).await;
    assert_eq!(again["status"], "in_progress");
    app.run_jobs().await;
    let shown = show(&app, &request).await;
    assert_eq!(shown["status"], "delivered", "{shown}");
    assert_eq!(
        shown["deletion_report"]["report"]["removed"]["pageviews"],
        5
    );
    // Once erased, there is nothing to run again.
    let response = post_with(&app, &app.admin_key, &path(&request, "fulfil"), json!({})).await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::CONFLICT, "illegal_transition".into())
    );
}
