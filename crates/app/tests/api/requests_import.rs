//! Bulk intake of requests: CSV and NDJSON, idempotent by `external_ref`, each bad row
//! reported by its line, and an interrupted import completed by sending the file again.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, spawn_app};

async fn import(app: &TestApp, key: &str, content_type: &str, body: String) -> reqwest::Response {
    app.client
        .post(app.api("/requests/import"))
        .header("X-API-Key", key)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn imported(app: &TestApp, content_type: &str, body: String) -> Value {
    let response = import(app, &app.admin_key, content_type, body).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn awaiting(app: &TestApp) -> usize {
    app.store.requests_awaiting_answer().await.unwrap().len()
}

#[tokio::test]
async fn a_csv_import_reports_each_bad_row_by_line_and_a_second_run_creates_nothing() {
    let app = spawn_app().await;
    let csv = "type,subject_email,external_ref,received_at\n\
               access,a1@example.com,t-1,2026-01-31\n\
               erasure,not-an-email,t-2,\n\
               portability,a3@example.com,,\n\
               deletion,a4@example.com,t-4,\n\
               access,a5@example.com,t-5\n\
               access,A1@example.com,t-6,\n";
    let report = imported(&app, "text/csv", csv.into()).await;
    assert_eq!(
        (
            &report["rows"],
            &report["created"],
            &report["existing"],
            &report["rejected"]
        ),
        (&json!(6), &json!(2), &json!(0), &json!(4)),
        "{report}"
    );
    let errors: Vec<(u64, &str)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_u64().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        errors,
        [
            (3, "invalid_value"),
            (4, "missing_field"),
            (5, "invalid_value"),
            (6, "invalid_value")
        ]
    );
    let list = app.get_json(&app.api("/requests")).await;
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["external_ref"], "t-1");
    assert_eq!(data[0]["due_on"], "2026-03-02");
    assert_eq!(data[1]["linked_to"], data[0]["id"], "same person, linked");

    let again = imported(&app, "text/csv", csv.into()).await;
    assert_eq!(
        (&again["created"], &again["existing"]),
        (&json!(0), &json!(2)),
        "{again}"
    );
    assert_eq!(awaiting(&app).await, 2);
}

#[tokio::test]
async fn ten_thousand_requests_interrupted_and_sent_again_are_each_created_exactly_once() {
    let app = spawn_app().await;
    let lines: Vec<String> = (0..10_000)
        .map(|i| {
            json!({"type": "access", "subject_email": format!("p{i}@example.com"),
                   "external_ref": format!("bulk-{i}")})
            .to_string()
        })
        .collect();
    // The upload died after 4,321 lines: what arrived was kept.
    let first = imported(&app, "application/x-ndjson", lines[..4_321].join("\n")).await;
    assert_eq!(first["created"], 4_321);
    assert_eq!(awaiting(&app).await, 4_321);
    let whole = lines.join("\n") + "\n";
    let resumed = imported(&app, "application/x-ndjson", whole.clone()).await;
    assert_eq!(
        (
            &resumed["rows"],
            &resumed["created"],
            &resumed["existing"],
            &resumed["rejected"]
        ),
        (&json!(10_000), &json!(5_679), &json!(4_321), &json!(0)),
        "{resumed}"
    );
    assert_eq!(awaiting(&app).await, 10_000);
    let once_more = imported(&app, "application/x-ndjson", whole).await;
    assert_eq!(once_more["created"], 0);
    assert_eq!(awaiting(&app).await, 10_000);
}

#[tokio::test]
async fn an_import_needs_requests_write_and_a_body_and_stays_in_its_account() {
    let app = spawn_app().await;
    let ndjson = json!({"type": "access", "subject_email": "z@example.com", "external_ref": "x-1"})
        .to_string();
    let reader = app.key_with("requests:read").await;
    let response = import(&app, &reader, "application/x-ndjson", ndjson.clone()).await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::FORBIDDEN, "insufficient_scope".into())
    );
    let response = import(&app, &app.admin_key, "text/csv", "  \n".into()).await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::BAD_REQUEST, "empty_body".into())
    );
    let bad = imported(
        &app,
        "application/x-ndjson",
        "{\"type\":\"access\"\n[1]\n".into(),
    )
    .await;
    assert_eq!(bad["rejected"], 2);
    assert_eq!(awaiting(&app).await, 0, "bad rows change nothing");

    let (other, _) = app.other_account().await;
    let report: Value = import(&app, &other, "application/x-ndjson", ndjson.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["created"], 1);
    // The same reference in another account is another request.
    let mine = imported(&app, "application/x-ndjson", ndjson).await;
    assert_eq!(mine["created"], 1);
    let listed = app.get_json(&app.api("/requests")).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
}

/// `ferry requests import|list|show`: the same service from the real binary.
#[tokio::test]
async fn the_cli_imports_a_file_twice_and_creates_each_request_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    assert!(
        crate::cli::run(data, &["accounts", "create", "acme"])
            .await
            .0
    );
    let file = data.join("requests.csv");
    std::fs::write(
        &file,
        "type,subject_email,external_ref,received_at\n\
         access,ann@example.com,c-1,2028-01-31\n\
         erasure,bob@example.com,c-2,2026-01-31\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let args = ["requests", "import", "--account", "acme", path];
    let (ok, out, err) = crate::cli::run(data, &args).await;
    assert!(!ok, "a rejected row fails the command: {out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (&report["created"], &report["rejected"]),
        (&json!(1), &json!(1)),
        "{err}"
    );
    assert_eq!(
        report["errors"][0]["row"], 2,
        "2028 is in the future: {report}"
    );
    let (ok, out, _) = crate::cli::run(data, &args).await;
    assert!(!ok);
    let again: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (&again["created"], &again["existing"]),
        (&json!(0), &json!(1))
    );

    let (ok, list, err) = crate::cli::run(data, &["requests", "list", "--account", "acme"]).await;
    assert!(ok, "{err}");
    assert_eq!(list.lines().count(), 1, "{list}");
    assert!(
        list.contains("erasure  received  received 2026-01-31  due 2026-03-02"),
        "{list}"
    );
    assert!(
        !list.contains("bob@example.com"),
        "lists print no addresses"
    );
    let id = list.split_whitespace().next().unwrap();
    let (ok, shown, _) =
        crate::cli::run(data, &["requests", "show", "--account", "acme", id]).await;
    assert!(ok);
    let shown: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["timeline"][0]["actor"], "cli");
    assert_eq!(shown["external_ref"], "c-2");

    // Logs name requests by id, never the person (here at debug, every line shown).
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_ferry"))
        .arg("--data-dir")
        .arg(data)
        .args([
            "requests",
            "create",
            "--account",
            "acme",
            "--type",
            "erasure",
        ])
        .args(["--email", "Carol.Secret@example.com"])
        .env("FERRY_LOG", "debug")
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr).to_lowercase(),
    );
    assert!(
        stderr.contains("request received") && stderr.contains(stdout.trim()),
        "{stderr}"
    );
    assert!(!stderr.contains("carol.secret"), "{stderr}");
}
