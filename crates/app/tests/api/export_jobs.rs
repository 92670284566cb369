//! Export jobs over time: receipts and the audit trail, listing, retries, crash recovery and
//! link lifetimes.

use std::time::Duration;

use serde_json::{Value, json};

use crate::exports::{export, fetch, person, post, wait_until_completed};
use crate::helpers::*;

#[tokio::test]
async fn receipts_and_the_audit_trail_record_the_whole_story_and_tampering_shows() {
    let app = spawn_app().await;
    person(&app).await;
    let job = export(
        &app,
        json!({"format": "csv", "from": "2024-05-01", "to": "2024-05-31"}),
    )
    .await;
    let id = job["export_id"].as_str().unwrap();
    let receipt = app
        .get_json(&app.api(&format!("/exports/{id}/receipt")))
        .await;
    let fields: Vec<&str> = receipt
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        [
            "data_included",
            "date_range",
            "delivered_at",
            "delivery_method",
            "export_id",
            "generated_at",
            "receipt_id",
            "requested_by",
            "subject_email"
        ]
    );
    assert_eq!(receipt["subject_email"], "user@example.com");
    assert_eq!(
        receipt["date_range"],
        json!({"start": "2024-05-01", "end": "2024-05-31"})
    );
    assert_eq!(receipt["delivered_at"], Value::Null);
    fetch(&app, job["download_url"].as_str().unwrap(), None).await;

    let mut actions = Vec::new();
    for _ in 0..100 {
        let trail = app.get_json(&app.api("/audit?action=data_export")).await;
        actions = trail["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_string())
            .collect();
        if actions.len() == 5 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        actions,
        [
            "data_export.requested",
            "data_export.started",
            "data_export.completed",
            "data_export.downloaded",
            "data_export.delivered"
        ]
    );
    let receipt = app
        .get_json(&app.api(&format!("/exports/{id}/receipt")))
        .await;
    assert!(
        receipt["delivered_at"].is_string(),
        "delivery is on the receipt: {receipt}"
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
            "seq,at,actor,action,subject,data_types,status,export_id,details,prev_hash,hash\n"
        ),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 6);

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
async fn a_job_abandoned_by_a_crashed_worker_runs_again_on_the_next_start_and_its_half_file_is_never_served()
 {
    // What a worker killed mid-export leaves behind, made without any server running: a job
    // marked running whose heartbeat stopped, and a partial file in the scratch space.
    let dir = tempfile::tempdir().unwrap();
    let store = ferry_store::open("", dir.path()).await.unwrap();
    let account = store
        .create_account("acme", ferry_domain::Plan::Pro)
        .await
        .unwrap();
    let key = ferry::keys::mint(None, ferry_domain::Scopes::all());
    store.create_key(account.id, key.record).await.unwrap();
    let site = ferry_domain::NewWebsite {
        domain: "shop.example.com".into(),
        timezone: None,
        retention_days: None,
    };
    store
        .create_website(account.id, "web_shop", site.validate().unwrap())
        .await
        .unwrap();
    let line = pageview("web_shop", "v1", "2024-05-01T10:00:00Z", "/");
    let identify = json!({"type": "identify", "website_id": "web_shop", "visitor_id": "v1", "user_id": "user_123"});
    let now = chrono::Utc::now().timestamp_millis();
    let lines = [line, identify]
        .iter()
        .map(|l| ferry_domain::ingest::parse_line(l.to_string().as_bytes(), now).unwrap())
        .collect();
    store.ingest(None, lines, now).await.unwrap();
    let spec = ferry_domain::job::ExportSpec {
        subject: Some(ferry_domain::export::SubjectRef::UserId("user_123".into())),
        website_id: None,
        data_types: ferry_domain::export::DataType::ALL.to_vec(),
        format: ferry_domain::export::Format::Json,
        range: Default::default(),
        zip: false,
        one_time: false,
        expires_in: 3600,
        part_size: None,
    };
    store
        .create_export(account.id, "exp_00c0ffee", &spec, "test", None)
        .await
        .unwrap();
    let (_, claimed) = store.claim_export().await.unwrap().unwrap();
    assert_eq!(claimed.id, "exp_00c0ffee");
    let db = rusqlite::Connection::open(dir.path().join("ferry.db")).unwrap();
    db.execute(
        "UPDATE export_jobs SET heartbeat_at = 0 WHERE export_id = 'exp_00c0ffee'",
        [],
    )
    .unwrap();
    let scratch = dir.path().join("artifacts/.tmp/exp_00c0ffee");
    std::fs::create_dir_all(&scratch).unwrap();
    std::fs::write(
        scratch.join("exp_00c0ffee.json"),
        b"{\"export_id\": \"exp_00c0ffee\", \"pagev",
    )
    .unwrap();

    // The next start: its worker requeues the abandoned job and runs it to the end.
    let app = ferry::startup::App::build(
        store.clone(),
        &ferry::config::ServeArgs::loopback(),
        dir.path(),
    )
    .await
    .unwrap();
    let base = app.base_url.clone();
    tokio::spawn(app.run());
    let client = reqwest::Client::new();
    let mut job = Value::Null;
    for _ in 0..400 {
        job = client
            .get(format!("{base}/api/external/v1/exports/exp_00c0ffee"))
            .header("X-API-Key", &key.secret)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if job["status"] == "completed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["attempts"], 2);
    let bytes = client
        .get(job["download_url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let doc: Value = serde_json::from_slice(&bytes).expect("a whole document, not the half file");
    assert_eq!(doc["export_id"], "exp_00c0ffee");
    assert_eq!(doc["pageviews"].as_array().unwrap().len(), 1);
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
async fn a_transient_failure_is_retried_and_reported_once_the_attempts_run_out() {
    let app = spawn_app().await;
    person(&app).await;
    // A file where the scratch directory should be: every attempt to write the export fails.
    std::fs::create_dir_all(app.data_dir().join("artifacts")).unwrap();
    std::fs::write(app.data_dir().join("artifacts/.tmp"), b"in the way").unwrap();
    let response = post(&app, "/users/user_123/export", json!({"format": "csv"})).await;
    let id = response.json::<Value>().await.unwrap()["export_id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut job = Value::Null;
    for _ in 0..400 {
        job = app.get_json(&app.api(&format!("/exports/{id}"))).await;
        if job["status"] == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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
