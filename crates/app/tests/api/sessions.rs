use serde_json::Value;

use crate::helpers::*;

async fn sessions_of(app: &TestApp) -> Value {
    app.summary(&app.website, "2024-05-01", "2024-05-01").await["totals"].clone()
}

#[tokio::test]
async fn thirty_minutes_without_activity_ends_a_session() {
    let app = spawn_app().await;
    let w = &app.website;
    app.ingest_ok(&[
        pageview(w, "v1", "2024-05-01T10:00:00Z", "/"),
        pageview(w, "v1", "2024-05-01T10:29:59Z", "/a"), // 29:59 later: same session
        event(w, "v1", "2024-05-01T10:59:58Z", "click"), // 29:59 later: same session
        pageview(w, "v1", "2024-05-01T11:29:58Z", "/b"), // exactly 30:00 later: a new one
    ])
    .await;
    let totals = sessions_of(&app).await;
    assert_eq!(totals["sessions"], 2);
    assert_eq!(totals["visitors"], 1);
    // The second session is one page view and no events: a bounce.
    assert_eq!(totals["bounce_rate"], 0.5);
    // (59:58 + 0) / 2
    assert_eq!(totals["avg_session_duration"], 1799.0);
}

#[tokio::test]
async fn sessions_split_the_same_way_across_separate_batches() {
    let app = spawn_app().await;
    let w = &app.website;
    for line in [
        pageview(w, "v1", "2024-05-01T10:00:00Z", "/"),
        pageview(w, "v1", "2024-05-01T10:20:00Z", "/a"),
        pageview(w, "v1", "2024-05-01T10:50:00Z", "/b"),
    ] {
        app.ingest_ok(&[line]).await;
    }
    let totals = sessions_of(&app).await;
    assert_eq!(totals["sessions"], 2);
    assert_eq!(totals["avg_session_duration"], 600.0);
}

#[tokio::test]
async fn a_late_line_that_bridges_two_sessions_joins_them() {
    let app = spawn_app().await;
    let w = &app.website;
    app.ingest_ok(&[
        pageview(w, "v1", "2024-05-01T10:00:00Z", "/"),
        pageview(w, "v1", "2024-05-01T10:50:00Z", "/b"),
    ])
    .await;
    assert_eq!(sessions_of(&app).await["sessions"], 2);
    app.ingest_ok(&[event(w, "v1", "2024-05-01T10:25:00Z", "late")])
        .await;
    let totals = sessions_of(&app).await;
    assert_eq!(totals["sessions"], 1);
    assert_eq!(totals["avg_session_duration"], 3000.0);
    assert_eq!(totals["bounce_rate"], 0.0);
    let visitors = app
        .get_json(&app.api(&format!(
            "/analytics/{w}/visitors?from=2024-05-01&to=2024-05-01"
        )))
        .await;
    assert_eq!(visitors["data"][0]["sessions"], 1);
    assert_eq!(visitors["data"][0]["pageviews"], 2);
}

#[tokio::test]
async fn an_earlier_line_extends_a_session_backwards_or_starts_its_own() {
    let app = spawn_app().await;
    let w = &app.website;
    app.ingest_ok(&[pageview(w, "v1", "2024-05-01T10:00:00Z", "/")])
        .await;
    app.ingest_ok(&[pageview(w, "v1", "2024-05-01T09:45:00Z", "/early")])
        .await;
    assert_eq!(sessions_of(&app).await["sessions"], 1);
    assert_eq!(sessions_of(&app).await["avg_session_duration"], 900.0);
    app.ingest_ok(&[pageview(w, "v1", "2024-05-01T08:00:00Z", "/much-earlier")])
        .await;
    assert_eq!(sessions_of(&app).await["sessions"], 2);
}

#[tokio::test]
async fn a_late_line_in_the_same_batch_joins_the_sessions_around_it() {
    let app = spawn_app().await;
    let w = &app.website;
    app.ingest_ok(&[
        pageview(w, "v1", "2024-05-01T10:00:00Z", "/"),
        pageview(w, "v1", "2024-05-01T10:50:00Z", "/b"),
        event(w, "v1", "2024-05-01T10:25:00Z", "late"),
        pageview(w, "v1", "2024-05-01T10:55:00Z", "/c"),
    ])
    .await;
    let totals = sessions_of(&app).await;
    assert_eq!(totals["sessions"], 1);
    assert_eq!(totals["avg_session_duration"], 3300.0);
    let visitors = app
        .get_json(&app.api(&format!(
            "/analytics/{w}/visitors?from=2024-05-01&to=2024-05-01"
        )))
        .await;
    assert_eq!(visitors["data"][0]["pageviews"], 3);
}

/// The session ids a person's JSON export names.
async fn person_session_ids(app: &TestApp) -> Vec<String> {
    let job = crate::exports::export(app, serde_json::json!({"format": "json"})).await;
    let url = job["download_url"].as_str().unwrap();
    let (_, bytes) = crate::exports::fetch(app, url, None).await;
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    doc["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["session_id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn session_ids_are_opaque_stable_and_the_same_in_every_export() {
    let app = spawn_app().await;
    let w = &app.website;
    app.ingest_ok(&[
        pageview(w, "v1", "2024-05-01T08:00:00Z", "/"),
        pageview(w, "v1", "2024-05-01T10:00:00Z", "/a"),
        event(w, "v1", "2024-05-01T12:00:00Z", "click"),
        serde_json::json!({"type": "identify", "website_id": w, "visitor_id": "v1", "user_id": "user_123"}),
    ])
    .await;
    let ids = person_session_ids(&app).await;
    assert_eq!(ids.len(), 3);
    for id in &ids {
        let number: u64 = id
            .strip_prefix("sess_")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("`sess_` and a number: {id}"));
        // Row numbers 1, 2, 3 would tell how many sessions the install has seen.
        assert!(number > 1 << 32, "not a row number: {id}");
    }
    assert_eq!(person_session_ids(&app).await, ids, "stable");

    // A bulk export names the same sessions by the same ids, in every file.
    let job = crate::bulk_exports::bulk(
        &app,
        serde_json::json!({"format": "csv", "from": "2024-05-01", "to": "2024-05-01"}),
    )
    .await;
    let files = crate::bulk_exports::download_zip(&app, &job).await;
    let column = |stem: &str, last: bool| -> Vec<String> {
        let (_, bytes) = files.iter().find(|(n, _)| n.starts_with(stem)).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        text.lines()
            .skip(1)
            .map(|row| {
                let cell = if last {
                    row.rsplit(',').next()
                } else {
                    row.split(',').next()
                };
                cell.unwrap().to_string()
            })
            .collect()
    };
    assert_eq!(column("sessions", false), ids);
    let mut named = column("pageviews", true);
    named.extend(column("events", true));
    assert_eq!(named, ids);
}
