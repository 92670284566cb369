//! Erasure (GDPR Art. 17) end to end: a person with rows on two websites, a built segment of
//! their day, a bulk export and their own export, rollups; a verified erasure request (the
//! code read from the real mail) erases them — no row, no byte of their identifiers in the
//! data directory, totals down by exactly their rows, others intact, a deletion report whose
//! counts match, an audit chain that still verifies, and later ingest of them dropped.

use std::path::Path;

use chrono::Utc;
use ferry::segments::SegmentFiles;
use ferry::segments::build::Compactor;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, event, pageview};
use crate::requests::{id, post_ok, unique_email};
use crate::requests_fulfilment::{path, show, verified};
use crate::requests_verification::{app_with_mail, mails_to};

pub struct Person {
    pub email: String,
    pub user_id: String,
    pub visitors: [String; 2],
}

impl Person {
    pub fn new(name: &str) -> Person {
        let email = unique_email(name);
        let tag = email.split('@').next().unwrap().to_string();
        Person {
            user_id: format!("uid-{tag}"),
            visitors: [format!("vis-a-{tag}"), format!("vis-b-{tag}")],
            email,
        }
    }

    pub fn needles(&self) -> Vec<&str> {
        vec![
            &self.email,
            &self.user_id,
            &self.visitors[0],
            &self.visitors[1],
        ]
    }
}

/// The person on both websites (3 + 2 page views, 2 + 1 events, one session each) and
/// someone else beside them on each (2 page views, 1 event).
pub async fn traffic(app: &TestApp, second: &str, p: &Person) {
    let mut lines = Vec::new();
    for (website, visitor) in [
        (&app.website, &p.visitors[0]),
        (&second.to_string(), &p.visitors[1]),
    ] {
        lines.push(
            json!({"type": "identify", "website_id": website, "visitor_id": visitor,
            "user_id": p.user_id, "email": p.email, "name": "Erin"}),
        );
        lines.push(
            json!({"type": "identify", "website_id": website, "visitor_id": "other-visitor",
            "user_id": "other-user", "email": "other@example.com"}),
        );
        lines.push(pageview(
            website,
            "other-visitor",
            "2026-11-20T09:00:00Z",
            "/",
        ));
        lines.push(pageview(
            website,
            "other-visitor",
            "2026-11-20T09:01:00Z",
            "/about",
        ));
        lines.push(event(
            website,
            "other-visitor",
            "2026-11-20T09:02:00Z",
            "signup",
        ));
    }
    for (i, at) in ["10:00", "10:01", "10:02"].iter().enumerate() {
        let ts = format!("2026-11-20T{at}:00Z");
        lines.push(pageview(
            &app.website,
            &p.visitors[0],
            &ts,
            &format!("/p{i}"),
        ));
    }
    lines.push(event(
        &app.website,
        &p.visitors[0],
        "2026-11-20T10:03:00Z",
        "buy",
    ));
    lines.push(event(
        &app.website,
        &p.visitors[0],
        "2026-11-20T10:04:00Z",
        "pay",
    ));
    lines.push(pageview(
        second,
        &p.visitors[1],
        "2026-11-20T11:00:00Z",
        "/x",
    ));
    lines.push(pageview(
        second,
        &p.visitors[1],
        "2026-11-20T11:01:00Z",
        "/y",
    ));
    lines.push(event(second, &p.visitors[1], "2026-11-20T11:02:00Z", "buy"));
    app.ingest_ok(&lines).await;
}

/// Every file under `dir` holding one of `needles`, as (file, needle).
pub fn byte_search(dir: &Path, needles: &[&str]) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            for n in needles {
                if bytes.windows(n.len()).any(|w| w == n.as_bytes()) {
                    found.push((path.display().to_string(), n.to_string()));
                }
            }
        }
    }
    found
}

async fn compact(app: &TestApp) -> ferry::segments::build::Report {
    Compactor {
        store: app.store.clone(),
        files: SegmentFiles::new(app.data_dir()),
        level: 1,
    }
    .run_once(Utc::now().timestamp_millis(), 2)
    .await
    .expect("the compactor runs")
}

pub async fn export(app: &TestApp, body: Value) -> Value {
    let queued = post_ok(app, "/exports", body, StatusCode::ACCEPTED).await;
    app.run_jobs().await;
    let id = queued["export_id"].as_str().unwrap();
    let job = app.get_json(&app.api(&format!("/exports/{id}"))).await;
    assert_eq!(job["status"], "completed", "{job}");
    job
}

pub async fn totals(app: &TestApp, website: &str) -> Value {
    app.summary(website, "2026-11-01", "2026-11-30").await["totals"].clone()
}

fn count(v: &Value, field: &str) -> i64 {
    v[field]
        .as_i64()
        .unwrap_or_else(|| panic!("{field} in {v}"))
}

pub async fn suppress(app: &TestApp) {
    let response = app
        .client
        .put(app.api("/requests/settings"))
        .header("X-API-Key", &app.admin_key)
        .json(&json!({"suppress_erased": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_erasure_leaves_no_row_and_no_byte_of_the_person_and_the_report_says_so() {
    let app = app_with_mail().await;
    let second = app.create_website("second.example.com", "UTC").await;
    let p = Person::new("erase");
    traffic(&app, &second, &p).await;
    suppress(&app).await;
    assert!(
        compact(&app).await.built > 0,
        "segments of the day are built"
    );
    let bulk = export(
        &app,
        json!({"kind": "bulk", "website_id": app.website, "format": "csv", "zip": false,
               "include": ["pageviews", "events"]}),
    )
    .await;
    let own = export(
        &app,
        json!({"subject": {"email": p.email}, "format": "json"}),
    )
    .await;
    let before = [
        totals(&app, &app.website).await,
        totals(&app, &second).await,
    ];

    // The search works: before the erasure it finds each identifier.
    let found = byte_search(app.data_dir(), &p.needles());
    for needle in p.needles() {
        assert!(
            found.iter().any(|(_, n)| n == needle),
            "{needle} is found before: {found:?}"
        );
    }

    let request = verified(&app, &p.email, "erasure").await;
    let started = post_ok(&app, &path(&request, "fulfil"), json!({}), StatusCode::OK).await;
    assert_eq!(started["status"], "in_progress");
    app.run_jobs().await;

    let shown = show(&app, &request).await;
    assert_eq!(shown["status"], "delivered", "{shown}");
    let report = &shown["deletion_report"]["report"];
    let removed = &report["removed"];
    assert_eq!(
        (
            count(removed, "pageviews"),
            count(removed, "events"),
            count(removed, "sessions"),
            count(removed, "visitors"),
            count(removed, "profiles"),
            count(removed, "identity_links"),
            count(removed, "websites"),
            count(removed, "exports_erased"),
        ),
        (5, 3, 2, 2, 1, 2, 2, 2),
        "{report}"
    );
    assert!(count(removed, "segments_forgotten") > 0, "{report}");
    assert!(count(removed, "segment_files_removed") > 0, "{report}");
    assert!(count(removed, "rollup_buckets_rebuilt") >= 2, "{report}");
    assert!(count(removed, "artifact_files_deleted") >= 2, "{report}");
    assert_eq!(report["nothing_remains"], true, "{report}");
    assert_eq!(
        count(&report["checked"], "identifiers_searched"),
        4,
        "{report}"
    );
    let alone = app
        .get_json(&app.api(&format!("/requests/{}/deletion-report", id(&request))))
        .await;
    assert_eq!(alone, shown["deletion_report"]);

    // Direct queries: nothing of them.
    let db = rusqlite::Connection::open(app.data_dir().join("ferry.db")).unwrap();
    let n = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    let visitors = format!("'{}', '{}'", p.visitors[0], p.visitors[1]);
    assert_eq!(
        n(&format!(
            "SELECT count(*) FROM visitors WHERE visitor_id IN ({visitors})"
        )),
        0
    );
    assert_eq!(
        n(&format!(
            "SELECT count(*) FROM users WHERE user_id = '{}' OR email = '{}'",
            p.user_id, p.email
        )),
        0
    );
    assert_eq!(
        n("SELECT count(*) FROM pageviews WHERE visitor_pk NOT IN (SELECT pk FROM visitors)"),
        0
    );
    assert_eq!(
        n("SELECT count(*) FROM events WHERE visitor_pk NOT IN (SELECT pk FROM visitors)"),
        0
    );
    assert_eq!(
        n("SELECT count(*) FROM sessions WHERE visitor_pk NOT IN (SELECT pk FROM visitors)"),
        0
    );
    drop(db);

    // Totals drop by exactly their rows; the other person's are intact.
    let after = [
        totals(&app, &app.website).await,
        totals(&app, &second).await,
    ];
    for (b, a, (pv, ev, se)) in [
        (&before[0], &after[0], (3, 2, 1)),
        (&before[1], &after[1], (2, 1, 1)),
    ] {
        assert_eq!(
            count(b, "pageviews") - count(a, "pageviews"),
            pv,
            "{b} → {a}"
        );
        assert_eq!(count(b, "events") - count(a, "events"), ev, "{b} → {a}");
        assert_eq!(count(b, "sessions") - count(a, "sessions"), se, "{b} → {a}");
        assert_eq!(
            (
                count(a, "pageviews"),
                count(a, "events"),
                count(a, "visitors")
            ),
            (2, 1, 1)
        );
    }

    // Their exports answer a clear error; the mail told them.
    for job in [&bulk, &own] {
        let response = app
            .client
            .get(job["download_url"].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_code(response).await,
            (StatusCode::GONE, "export_erased".into())
        );
    }
    let mails = mails_to(&p.email);
    let done: Vec<&Value> = mails
        .iter()
        .filter(|m| m["subject"] == "Your data has been erased")
        .collect();
    assert_eq!(done.len(), 1, "{mails:?}");
    let sha = shown["deletion_report"]["report_sha256"].as_str().unwrap();
    assert!(done[0]["body"].as_str().unwrap().contains(sha));

    // The report's digest is in the chain, and the chain still verifies.
    let trail = app
        .get_json(&app.api("/audit?action=request.erasure_completed"))
        .await;
    let entry = &trail["data"][0];
    assert_eq!(entry["details"]["report_sha256"], sha, "{trail}");
    let (ok, out, err) = crate::cli::run(app.data_dir(), &["audit", "verify"]).await;
    assert!(ok, "{out}{err}");
    // The entries that named them keep only digests, and still verify (checked above).
    let asked = app
        .get_json(&app.api("/audit?action=data_export.requested"))
        .await;
    let theirs: Vec<&Value> = asked["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["export_id"] == own["export_id"])
        .collect();
    assert_eq!(theirs.len(), 1, "{asked}");
    assert_eq!(theirs[0]["pseudonymised"], true, "{asked}");
    assert_eq!(theirs[0]["subject"].as_str().unwrap().len(), 64, "{asked}");

    // With suppression on, a later hit of theirs stores nothing, and says nothing.
    let stored = app.everything(&app.website).await;
    let hit = json!({"website_id": app.website, "visitor_id": p.visitors[0], "url": "/again"});
    let response = app
        .client
        .post(app.url("/api/event"))
        .json(&hit)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    app.ingest_ok(&[
        json!({"type": "identify", "website_id": second, "visitor_id": "fresh",
        "user_id": p.user_id, "email": p.email}),
    ])
    .await;
    assert_eq!(app.everything(&app.website).await, stored);

    // Not a byte of them anywhere in the data directory: database, WAL, segments, artifacts.
    compact(&app).await;
    let found = byte_search(app.data_dir(), &p.needles());
    assert!(found.is_empty(), "left behind: {found:?}");
}
