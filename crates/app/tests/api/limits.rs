//! Limits over HTTP: exports a day (429 with `Retry-After` and `X-RateLimit-*`), bytes per
//! export (`plan_size_exceeded` while streaming) and the per-key request rate.

use ferry_domain::LimitSetting;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::bulk_exports::traffic;
use crate::exports::post;
use crate::helpers::*;

#[tokio::test]
async fn the_daily_export_limit_answers_429_with_retry_after_and_rate_headers() {
    let app = spawn_app().await;
    crate::exports::person(&app).await;
    let account = app.store.account_by_name("acme").await.unwrap().unwrap();
    app.store
        .set_account_limits(account.id, Some(LimitSetting::Limited(2)), None)
        .await
        .unwrap();
    let body = json!({"kind": "bulk", "website_id": app.website, "include": ["summary"]});
    for remaining in ["1", "0"] {
        let response = post(&app, "/exports", body.clone()).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        assert_eq!(response.headers()["x-ratelimit-limit"], "2");
        assert_eq!(response.headers()["x-ratelimit-remaining"], remaining);
    }
    let response = post(&app, "/users/user_123/export", json!({"format": "json"})).await;
    let headers = response.headers().clone();
    let (status, code) = error_code(response).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "export_limit_reached")
    );
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(
        (86_000..=86_400).contains(&retry),
        "retry after the oldest export's day: {retry}"
    );
    assert_eq!(headers["x-ratelimit-limit"], "2");
    assert_eq!(headers["x-ratelimit-remaining"], "0");
    let listed = app.get_json(&app.api("/exports")).await;
    assert_eq!(
        listed["data"].as_array().unwrap().len(),
        2,
        "the refused request queued nothing"
    );

    // No limit (the Enterprise plan's default, here set on the account): no refusal, no headers.
    app.store
        .set_account_limits(account.id, Some(LimitSetting::Unlimited), None)
        .await
        .unwrap();
    let response = post(&app, "/exports", body).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert!(response.headers().get("x-ratelimit-limit").is_none());
}

#[tokio::test]
async fn an_export_over_the_plan_size_stops_with_plan_size_exceeded() {
    let app = spawn_app().await;
    traffic(&app).await;
    let account = app.store.account_by_name("acme").await.unwrap().unwrap();
    app.store
        .set_account_limits(account.id, None, Some(LimitSetting::Limited(2_000)))
        .await
        .unwrap();
    let response = post(
        &app,
        "/exports",
        json!({"kind": "bulk", "website_id": app.website, "format": "csv"}),
    )
    .await;
    let id = response.json::<Value>().await.unwrap()["export_id"]
        .as_str()
        .unwrap()
        .to_string();
    app.run_jobs().await;
    let job = app.get_json(&app.api(&format!("/exports/{id}"))).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "plan_size_exceeded");
    let message = job["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("2 KB")
            && message.contains("this account's own limit")
            && message.contains("shorter date range"),
        "{message}"
    );
    assert_eq!(job["attempts"], 1, "a limit is not retried");
    let rows = job["progress"]["rows"].as_u64().unwrap();
    assert!(
        (1..72).contains(&rows),
        "stopped before the end, and the progress shows how far it got: {rows}"
    );
    assert!(
        !app.data_dir().join("artifacts").join(&id).exists(),
        "nothing left to download"
    );
    assert!(
        !app.data_dir().join("artifacts/.tmp").join(&id).exists(),
        "no half file left"
    );
}

#[tokio::test]
async fn the_api_refuses_a_key_over_its_request_rate_with_429_and_headers() {
    let mut args = ferry::config::ServeArgs::loopback();
    args.api_rate_limit = 5;
    let app = spawn_app_with(args).await;
    // spawn_app created the website with the admin key: one of its five requests.
    let mut accepted = 0;
    let response = loop {
        let response = app.get_with(&app.admin_key, &app.api("/websites")).await;
        if response.status() != StatusCode::OK {
            break response;
        }
        accepted += 1;
        assert!(accepted <= 4, "the limit holds");
    };
    assert_eq!(accepted, 4);
    let headers = response.headers().clone();
    let (status, code) = error_code(response).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
    );
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(
        (1..=12).contains(&retry),
        "one request's worth of the minute: {retry}"
    );
    assert_eq!(headers["x-ratelimit-limit"], "5");
    assert_eq!(headers["x-ratelimit-remaining"], "0");
    // Per key: another key of the same account is not held back.
    let account = app.store.account_by_name("acme").await.unwrap().unwrap();
    let other = ferry::keys::mint(None, ferry_domain::Scopes::all());
    app.store
        .create_key(account.id, other.record)
        .await
        .unwrap();
    let other = other.secret;
    assert_eq!(
        app.get_with(&other, &app.api("/websites")).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_person_linked_to_more_visitors_than_the_cap_fails_with_too_many_visitors() {
    let mut args = ferry::config::ServeArgs::loopback();
    args.max_subject_visitors = 3;
    let app = spawn_app_with(args).await;
    let w = &app.website;
    let mut lines = Vec::new();
    for (user, visitors) in [("wide", 4), ("fits", 3)] {
        for v in 0..visitors {
            let visitor = format!("{user}-v{v}");
            lines.push(pageview(w, &visitor, "2024-05-01T10:00:00Z", "/"));
            lines.push(json!({"type": "identify", "website_id": w, "visitor_id": visitor, "user_id": user}));
        }
    }
    app.ingest_ok(&lines).await;

    let mut ids = Vec::new();
    for user in ["wide", "fits"] {
        let response = post(&app, &format!("/users/{user}/export"), json!({})).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let body: Value = response.json().await.unwrap();
        ids.push(body["export_id"].as_str().unwrap().to_string());
    }
    app.run_jobs().await;

    let wide = app
        .get_json(&app.api(&format!("/exports/{}", ids[0])))
        .await;
    assert_eq!(wide["status"], "failed", "{wide}");
    assert_eq!(wide["error"]["code"], "too_many_visitors");
    let message = wide["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("4 visitors") && message.contains("website_id"),
        "{message}"
    );
    assert_eq!(wide["attempts"], 1, "a cap is not retried");
    let fits = app
        .get_json(&app.api(&format!("/exports/{}", ids[1])))
        .await;
    assert_eq!(
        fits["status"], "completed",
        "exactly the cap is fine: {fits}"
    );
}

#[tokio::test]
async fn a_download_link_over_its_request_rate_gets_429_and_other_links_are_not_held_back() {
    let mut args = ferry::config::ServeArgs::loopback();
    args.link_rate_limit = 3;
    let app = spawn_app_with(args).await;
    crate::exports::person(&app).await;
    let first = crate::exports::export(&app, json!({"format": "json"})).await;
    let second = crate::exports::export(&app, json!({"format": "json"})).await;
    let url = first["download_url"].as_str().unwrap();

    // Parallel ranged requests, as a download manager makes them: the link's own budget.
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..3 {
        let request = app.client.get(url).header("Range", "bytes=0-9");
        requests.spawn(async move { request.send().await.unwrap().status() });
    }
    while let Some(status) = requests.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::PARTIAL_CONTENT);
    }
    let refused = app.client.get(url).send().await.unwrap();
    let headers = refused.headers().clone();
    assert_eq!(
        error_code(refused).await,
        (StatusCode::TOO_MANY_REQUESTS, "rate_limited".into())
    );
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry), "{retry}");
    assert_eq!(headers["x-ratelimit-limit"], "3");

    let (status, _) =
        crate::exports::fetch(&app, second["download_url"].as_str().unwrap(), None).await;
    assert_eq!(status, StatusCode::OK, "another link has its own budget");
    let refused = app.client.get(url).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
}
