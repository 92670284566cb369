use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

/// Three visitors over three days (UTC):
/// - A: day 1 10:00 `/`, 10:05 `/pricing`, 10:06 signup; day 2 09:00 `/` (a second session)
/// - B: day 1 12:00 `/` (a bounce)
/// - C: day 2 23:59 `/pricing`, day 3 00:10 `/docs` (one session that crosses midnight)
async fn three_visitors(app: &TestApp) {
    let w = &app.website;
    app.ingest_ok(&[
        pageview(w, "A", "2024-06-01T10:00:00Z", "/"),
        pageview(w, "A", "2024-06-01T10:05:00Z", "/pricing"),
        event(w, "A", "2024-06-01T10:06:00Z", "signup"),
        pageview(w, "A", "2024-06-02T09:00:00Z", "/"),
        pageview(w, "B", "2024-06-01T12:00:00Z", "/"),
        pageview(w, "C", "2024-06-02T23:59:00Z", "/pricing"),
        pageview(w, "C", "2024-06-03T00:10:00Z", "/docs"),
    ])
    .await;
}

#[tokio::test]
async fn totals_and_series_match_a_hand_computed_dataset() {
    let app = spawn_app().await;
    three_visitors(&app).await;
    let body = app.summary(&app.website, "2024-06-01", "2024-06-02").await;
    assert_eq!(
        body["totals"],
        json!({
            "pageviews": 5, "visitors": 3, "sessions": 4, "events": 1,
            // A's second session and B's are single page views.
            "bounce_rate": 0.5,
            // (A: 360 s + A: 0 + B: 0 + C: 660 s) / 4
            "avg_session_duration": 255.0
        })
    );
    assert_eq!(
        body["series"],
        json!([
            {"date": "2024-06-01", "pageviews": 3, "visitors": 2, "sessions": 2, "events": 1},
            {"date": "2024-06-02", "pageviews": 2, "visitors": 2, "sessions": 2, "events": 0}
        ])
    );
    assert_eq!(
        (&body["from"], &body["to"], &body["timezone"]),
        (&json!("2024-06-01"), &json!("2024-06-02"), &json!("UTC"))
    );
}

#[tokio::test]
async fn visitors_and_pages_match_a_hand_computed_dataset() {
    let app = spawn_app().await;
    three_visitors(&app).await;
    let w = &app.website;
    let visitors = app
        .get_json(&app.api(&format!(
            "/analytics/{w}/visitors?from=2024-06-01&to=2024-06-02"
        )))
        .await;
    let rows: Vec<(String, u64, u64, String)> = visitors["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["visitor_id"].as_str().unwrap().into(),
                r["pageviews"].as_u64().unwrap(),
                r["sessions"].as_u64().unwrap(),
                r["last_seen"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("A".into(), 3, 2, "2024-06-02T09:00:00Z".into()),
            ("B".into(), 1, 1, "2024-06-01T12:00:00Z".into()),
            ("C".into(), 1, 1, "2024-06-03T00:10:00Z".into()),
        ]
    );
    assert_eq!(visitors["next_cursor"], Value::Null);

    let pages = app
        .get_json(&app.api(&format!(
            "/analytics/{w}/pages?from=2024-06-01&to=2024-06-03"
        )))
        .await;
    assert_eq!(
        pages["data"],
        json!([
            {"url": "/", "pageviews": 3, "unique_visitors": 2},
            {"url": "/pricing", "pageviews": 2, "unique_visitors": 2},
            {"url": "/docs", "pageviews": 1, "unique_visitors": 1}
        ])
    );
}

#[tokio::test]
async fn days_are_cut_at_midnight_in_the_websites_time_zone() {
    let app = spawn_app().await;
    let ny = app
        .create_website("ny.example.com", "America/New_York")
        .await;
    // 2024-03-10 is the day New York moves to daylight saving time: it lasts 23 hours.
    app.ingest_ok(&[
        pageview(&ny, "a", "2024-03-10T04:59:00Z", "/"), // 23:59 EST on 9 March
        pageview(&ny, "b", "2024-03-10T05:00:00Z", "/"), // 00:00 EST on 10 March
        pageview(&ny, "c", "2024-03-11T03:59:00Z", "/"), // 23:59 EDT on 10 March
        pageview(&ny, "d", "2024-03-11T04:00:00Z", "/"), // 00:00 EDT on 11 March
    ])
    .await;
    let one_day = app.summary(&ny, "2024-03-10", "2024-03-10").await;
    assert_eq!(one_day["totals"]["pageviews"], 2);
    assert_eq!(one_day["totals"]["visitors"], 2);
    let three_days = app.summary(&ny, "2024-03-09", "2024-03-11").await;
    let per_day: Vec<(&str, u64)> = three_days["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["date"].as_str().unwrap(),
                p["pageviews"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        per_day,
        [("2024-03-09", 1), ("2024-03-10", 2), ("2024-03-11", 1)]
    );
    // The same instants on a UTC website fall on other days.
    let utc = app.create_website("utc.example.com", "UTC").await;
    app.ingest_ok(&[
        pageview(&utc, "a", "2024-03-10T04:59:00Z", "/"),
        pageview(&utc, "d", "2024-03-11T04:00:00Z", "/"),
    ])
    .await;
    assert_eq!(
        app.summary(&utc, "2024-03-10", "2024-03-10").await["totals"]["pageviews"],
        1
    );
}

#[tokio::test]
async fn pagination_returns_every_row_exactly_once() {
    let app = spawn_app().await;
    let w = &app.website;
    let lines: Vec<Value> = (0..250)
        .map(|i| {
            pageview(
                w,
                &format!("v{i:03}"),
                &format!("2024-07-01T{:02}:{:02}:00Z", i / 60, i % 60),
                &format!("/p/{}", i % 120),
            )
        })
        .collect();
    app.ingest_ok(&lines).await;

    let mut seen = HashSet::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut url = app.api(&format!(
            "/analytics/{w}/visitors?from=2024-07-01&to=2024-07-01&limit=100"
        ));
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let body = app.get_json(&url).await;
        pages += 1;
        for row in body["data"].as_array().unwrap() {
            assert!(
                seen.insert(row["visitor_id"].as_str().unwrap().to_string()),
                "a visitor came twice"
            );
        }
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!((seen.len(), pages), (250, 3));

    // Pages are ordered by views, with ties: /p/0../p/9 have 3 views, the rest 2.
    let mut urls = HashSet::new();
    let mut last_views = u64::MAX;
    let mut cursor: Option<String> = None;
    loop {
        let mut url = app.api(&format!(
            "/analytics/{w}/pages?from=2024-07-01&to=2024-07-01&limit=7"
        ));
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let body = app.get_json(&url).await;
        for row in body["data"].as_array().unwrap() {
            let views = row["pageviews"].as_u64().unwrap();
            assert!(views <= last_views, "pages are ordered by views");
            last_views = views;
            assert!(
                urls.insert(row["url"].as_str().unwrap().to_string()),
                "a page came twice"
            );
        }
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(urls.len(), 120);
}

#[tokio::test]
async fn a_cursor_that_was_not_handed_out_is_refused() {
    let app = spawn_app().await;
    let response = app
        .get_with(
            &app.admin_key,
            &app.api(&format!(
                "/analytics/{}/visitors?cursor=bm9wZQ",
                app.website
            )),
        )
        .await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::BAD_REQUEST, "invalid_cursor".into())
    );
}
