//! Export jobs over time: receipts and the audit trail, listing, retries, crash recovery and
//! link lifetimes.

use serde_json::{Value, json};

use crate::exports::{export, fetch, person, post, wait_until_completed};
use crate::helpers::*;

#[tokio::test]
async fn receipts_and_the_audit_trail_record_the_whole_story_and_tampering_shows() {
    let mut app = spawn_app().await;
    person(&app).await;
    let job = export(
        &app,
        json!({"format": "csv", "from": "2024-05-01", "to": "2024-05-31"}),
    )
    .await;
    let id = job["export_id"].as_str().unwrap();
    let text = app
        .get_with(&app.admin_key, &app.api(&format!("/exports/{id}/receipt")))
        .await
        .text()
        .await
        .unwrap();
    // The page's order, as raw text: a client that reads the body as written sees it so.
    let order = [
        "receipt_id",
        "export_id",
        "requested_by",
        "subject_email",
        "data_included",
        "date_range",
        "generated_at",
        "delivered_at",
        "delivery_method",
    ];
    let at: Vec<usize> = order
        .iter()
        .map(|k| text.find(&format!("\"{k}\":")).expect(k))
        .collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
    assert!(
        text.contains(r#""date_range":{"start":"2024-05-01","end":"2024-05-31"}"#),
        "{text}"
    );
    let receipt: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(receipt.as_object().unwrap().len(), order.len());
    // Whole seconds with `Z`, and the very instant the export's own files carry.
    let generated = receipt["generated_at"].as_str().unwrap();
    assert!(is_whole_seconds_utc(generated), "{generated}");
    let (_, zip) = fetch(&app, job["download_url"].as_str().unwrap(), None).await;
    let files = unzip(&zip);
    let manifest: Value = serde_json::from_slice(&files.last().unwrap().1).unwrap();
    assert_eq!(manifest["generated_at"], generated);
    assert_eq!(receipt["subject_email"], "user@example.com");
    assert_eq!(
        receipt["date_range"],
        json!({"start": "2024-05-01", "end": "2024-05-31"})
    );
    assert_eq!(receipt["delivered_at"], Value::Null);
    app.downloads_recorded(1).await;
    let trail = app.get_json(&app.api("/audit?action=data_export")).await;
    let actions: Vec<String> = trail["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        actions,
        [
            "data_export.requested",
            "data_export.started",
            "data_export.completed",
            "data_export.download_started",
            "data_export.downloaded",
            "data_export.delivered"
        ]
    );
    let receipt = app
        .get_json(&app.api(&format!("/exports/{id}/receipt")))
        .await;
    let delivered = receipt["delivered_at"].as_str().unwrap_or_default();
    assert!(
        is_whole_seconds_utc(delivered),
        "delivery is on the receipt, in whole seconds: {receipt}"
    );
    let csv = app
        .get_with(
            &app.admin_key,
            &app.api("/audit?format=csv&subject=user_id:user_123"),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.starts_with(
            "seq,at,actor,action,subject,data_types,status,export_id,details,prev_hash,hash,person,hash_version,account,pseudonymised\n"
        ),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 7);
    for line in csv.lines().skip(1) {
        let at = line.split(',').nth(1).unwrap();
        assert!(
            at.ends_with('Z') && at.parse::<chrono::DateTime<chrono::Utc>>().is_ok(),
            "the audit CSV's times are RFC 3339 UTC with Z, as every other output: {at}"
        );
    }

    let verify = || crate::cli::run(app.data_dir(), &["audit", "verify"]);
    let (ok, out, err) = verify().await;
    assert!(ok && out.contains("audit trail intact"), "{out}{err}");
    let db = rusqlite::Connection::open(app.data_dir().join("ferry.db")).unwrap();
    db.execute(
        "UPDATE audit_log SET subject = 'user_id:someone_else' WHERE seq = 2",
        [],
    )
    .unwrap();
    let (ok, _, err) = verify().await;
    assert!(
        !ok && err.contains("broken at entry 2: entry 2 was edited"),
        "{err}"
    );
    db.execute(
        "UPDATE audit_log SET subject = 'user_id:user_123' WHERE seq = 2",
        [],
    )
    .unwrap();
    db.execute("DELETE FROM audit_log WHERE seq = 3", [])
        .unwrap();
    let (ok, _, err) = verify().await;
    assert!(
        !ok && err.contains("broken at entry 3: entry 3 was removed"),
        "{err}"
    );
}

#[tokio::test]
async fn the_export_list_filters_by_status_subject_and_day() {
    let app = spawn_app().await;
    person(&app).await;
    let first = export(&app, json!({})).await;
    let response = post(
        &app,
        "/exports",
        json!({"subject": {"email": "quiet@example.com"}}),
    )
    .await;
    let second = response.json::<Value>().await.unwrap()["export_id"]
        .as_str()
        .unwrap()
        .to_string();
    wait_until_completed(&app, &second).await;
    let ids = |body: Value| -> Vec<String> {
        body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["export_id"].as_str().unwrap().to_string())
            .collect()
    };
    let all = ids(app.get_json(&app.api("/exports")).await);
    assert_eq!(
        all,
        [
            second.clone(),
            first["export_id"].as_str().unwrap().to_string()
        ],
        "newest first"
    );
    assert_eq!(
        ids(app.get_json(&app.api("/exports?subject=user_123")).await),
        [first["export_id"].as_str().unwrap()]
    );
    assert_eq!(
        ids(app
            .get_json(&app.api("/exports?subject=email:quiet@example.com"))
            .await),
        [second.as_str()]
    );
    assert_eq!(
        ids(app.get_json(&app.api("/exports?status=failed")).await),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(app
            .get_json(&app.api("/exports?created_to=2000-01-01"))
            .await),
        Vec::<String>::new()
    );
    let page = app.get_json(&app.api("/exports?limit=1")).await;
    let next = page["next_cursor"].as_str().unwrap();
    assert_eq!(
        ids(app
            .get_json(&app.api(&format!("/exports?limit=1&cursor={next}")))
            .await),
        [first["export_id"].as_str().unwrap()]
    );
}

#[tokio::test]
async fn a_job_abandoned_by_a_crashed_worker_runs_again_once_its_lease_expires_and_its_half_file_is_never_served()
 {
    let app = spawn_app().await;
    person(&app).await;
    let response = post(&app, "/users/user_123/export", json!({"format": "json"})).await;
    let id = response.json::<Value>().await.unwrap()["export_id"]
        .as_str()
        .unwrap()
        .to_string();
    // A worker claims the job, writes half a file into its scratch space, and dies: no
    // heartbeat, no failure report.
    let claimed = app
        .worker
        .claim(&[ferry_domain::queue::Lane::Default])
        .await
        .unwrap()
        .unwrap();
    let scratch = app
        .data_dir()
        .join("work")
        .join(format!("{id}.{}", claimed.lease.token));
    std::fs::create_dir_all(&scratch).unwrap();
    std::fs::write(
        scratch.join(format!("{id}.json")),
        b"{\"export_id\": \"exp_",
    )
    .unwrap();
    drop(claimed);
    let running = app.get_json(&app.api(&format!("/exports/{id}"))).await;
    assert_eq!(running["status"], "running");
    assert!(
        app.run_jobs().await.is_empty(),
        "a live lease is not taken over"
    );

    // Once the lease runs out, the next step reclaims the job and runs it to the end.
    app.clock.advance(31_000);
    let events = app.run_jobs().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].outcome, ferry::jobs::Outcome::Done);
    let job = app.get_json(&app.api(&format!("/exports/{id}"))).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["attempts"], 2);
    let (_, bytes) = fetch(&app, job["download_url"].as_str().unwrap(), None).await;
    let doc: Value = serde_json::from_slice(&bytes).expect("a whole document, not the half file");
    assert_eq!(doc["export_id"], id.as_str());
    assert_eq!(
        doc["pageviews"].as_array().unwrap().len(),
        2,
        "the person's two page views"
    );
}

#[tokio::test]
async fn link_lifetime_defaults_to_seven_days_or_the_accounts_own_setting() {
    let app = spawn_app().await;
    person(&app).await;
    let days_left = |job: &Value| {
        let expires: chrono::DateTime<chrono::Utc> =
            job["expires_at"].as_str().unwrap().parse().unwrap();
        (expires - chrono::Utc::now()).num_hours() as f64 / 24.0
    };
    let default = export(&app, json!({})).await;
    assert!((6.9..=7.0).contains(&days_left(&default)), "{default}");
    let account = app.store.account_by_name("acme").await.unwrap().unwrap().id;
    app.store
        .set_link_expiry(account, Some(86_400))
        .await
        .unwrap();
    let short = export(&app, json!({})).await;
    assert!((0.9..=1.0).contains(&days_left(&short)), "{short}");
    let asked = export(&app, json!({"expires_in": 3 * 86_400})).await;
    assert!(
        (2.9..=3.0).contains(&days_left(&asked)),
        "a request's own expiry wins: {asked}"
    );
}

#[tokio::test]
async fn a_transient_failure_is_retried_after_a_back_off_and_reported_once_the_attempts_run_out() {
    let app = spawn_app().await;
    person(&app).await;
    // A file where the scratch directory should be: every attempt to write the export fails.
    std::fs::write(app.data_dir().join("work"), b"in the way").unwrap();
    let response = post(&app, "/users/user_123/export", json!({"format": "csv"})).await;
    let id = response.json::<Value>().await.unwrap()["export_id"]
        .as_str()
        .unwrap()
        .to_string();
    let outcomes = |events: Vec<ferry::jobs::JobEvent>| -> Vec<ferry::jobs::Outcome> {
        events.into_iter().map(|e| e.outcome).collect()
    };
    let retry = ferry::jobs::Outcome::Retry {
        code: "export_failed".into(),
    };
    assert_eq!(outcomes(app.run_jobs().await), std::slice::from_ref(&retry));
    let waiting = app.get_json(&app.api(&format!("/exports/{id}"))).await;
    assert_eq!(waiting["status"], "queued", "{waiting}");
    assert!(
        app.run_jobs().await.is_empty(),
        "the retry waits out its back-off"
    );
    app.clock.advance(1_000);
    assert_eq!(outcomes(app.run_jobs().await), [retry]);
    app.clock.advance(2_000);
    assert_eq!(
        outcomes(app.run_jobs().await),
        [ferry::jobs::Outcome::Failed {
            code: "export_failed".into()
        }]
    );
    let job = app.get_json(&app.api(&format!("/exports/{id}"))).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["attempts"], 3);
    assert_eq!(job["error"]["code"], "export_failed");
    assert_eq!(job["download_url"], Value::Null);
    let trail = app
        .get_json(&app.api("/audit?action=data_export.failed"))
        .await;
    let retries: Vec<bool> = trail["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["details"]["will_retry"].as_bool().unwrap())
        .collect();
    assert_eq!(retries, [true, true, false]);
}

/// `2025-01-15T10:30:00Z`: RFC 3339, UTC, whole seconds, as the reference page's receipt.
fn is_whole_seconds_utc(text: &str) -> bool {
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%SZ").is_ok() && text.len() == 20
}
