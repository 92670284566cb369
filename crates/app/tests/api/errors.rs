//! Bad input gets the documented status and code, and changes nothing.

use ferry::config::ServeArgs;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

fn one_pageview(app: &TestApp) -> String {
    ndjson(&[pageview(&app.website, "v1", "2024-05-01T10:00:00Z", "/")])
}

#[tokio::test]
async fn malformed_json_is_a_400_and_stores_nothing() {
    let app = spawn_app().await;
    let tracker = app
        .client
        .post(app.url("/api/event"))
        .body("{\"visitor_id\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(tracker).await,
        (StatusCode::BAD_REQUEST, "malformed_json".into())
    );
    let website = app
        .client
        .post(app.api("/websites"))
        .header("X-API-Key", &app.admin_key)
        .body("{\"domain\": \"x.example.com\"")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(website).await,
        (StatusCode::BAD_REQUEST, "malformed_json".into())
    );
    let listed = app.get_json(&app.api("/websites")).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 1);
    app.assert_nothing_stored(&app.website).await;
}

#[tokio::test]
async fn unknown_fields_are_refused_not_ignored() {
    let app = spawn_app().await;
    let tracker = app
        .client
        .post(app.url("/api/event"))
        .json(&json!({"website_id": app.website, "visitor_id": "v", "url": "/", "colour": "red"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(tracker).await,
        (StatusCode::BAD_REQUEST, "unknown_field".into())
    );
    let website = app
        .client
        .post(app.api("/websites"))
        .header("X-API-Key", &app.admin_key)
        .json(&json!({"domain": "x.example.com", "timezon": "UTC"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(website).await,
        (StatusCode::BAD_REQUEST, "unknown_field".into())
    );
    app.assert_nothing_stored(&app.website).await;
}

#[tokio::test]
async fn an_unknown_website_is_a_404() {
    let app = spawn_app().await;
    let tracker = app
        .client
        .post(app.url("/api/event"))
        .json(&json!({"website_id": "web_nope", "visitor_id": "v", "url": "/"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(tracker).await,
        (StatusCode::NOT_FOUND, "website_not_found".into())
    );
    let analytics = app
        .get_with(&app.admin_key, &app.api("/analytics/web_nope"))
        .await;
    assert_eq!(
        error_code(analytics).await,
        (StatusCode::NOT_FOUND, "website_not_found".into())
    );
    app.assert_nothing_stored(&app.website).await;
}

#[tokio::test]
async fn a_missing_or_wrong_key_is_a_401() {
    let app = spawn_app().await;
    let missing = app.ingest_with(None, one_pageview(&app)).await;
    assert_eq!(
        error_code(missing).await,
        (StatusCode::UNAUTHORIZED, "missing_api_key".into())
    );
    let wrong = app
        .ingest_with(Some("fy_not-a-real-key"), one_pageview(&app))
        .await;
    assert_eq!(
        error_code(wrong).await,
        (StatusCode::UNAUTHORIZED, "invalid_api_key".into())
    );
    let analytics = app
        .client
        .get(app.api(&format!("/analytics/{}", app.website)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(analytics).await,
        (StatusCode::UNAUTHORIZED, "missing_api_key".into())
    );
    let bearer = app
        .client
        .get(app.api(&format!("/analytics/{}", app.website)))
        .bearer_auth(&app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        bearer.status(),
        StatusCode::OK,
        "Authorization: Bearer works too"
    );
    app.assert_nothing_stored(&app.website).await;
}

#[tokio::test]
async fn another_accounts_key_cannot_see_this_website() {
    let app = spawn_app().await;
    let (other_key, other_site) = app.other_account().await;
    for path in ["", "/visitors", "/pages"] {
        let response = app
            .get_with(
                &other_key,
                &app.api(&format!("/analytics/{}{path}", app.website)),
            )
            .await;
        assert_eq!(
            error_code(response).await,
            (StatusCode::NOT_FOUND, "website_not_found".into())
        );
    }
    // ... and the answer is the same as for a website that does not exist at all.
    let mine = app
        .get_with(
            &app.admin_key,
            &app.api(&format!("/analytics/{other_site}")),
        )
        .await;
    assert_eq!(
        error_code(mine).await,
        (StatusCode::NOT_FOUND, "website_not_found".into())
    );
    let shown = app
        .get_with(&other_key, &app.api(&format!("/websites/{}", app.website)))
        .await;
    assert_eq!(shown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_key_without_the_scope_is_a_403() {
    let app = spawn_app().await;
    let reader = app.key_with("analytics:read").await;
    let ingest = app.ingest_with(Some(&reader), one_pageview(&app)).await;
    assert_eq!(
        error_code(ingest).await,
        (StatusCode::FORBIDDEN, "insufficient_scope".into())
    );
    let ingester = app.key_with("ingest").await;
    let analytics = app
        .get_with(&ingester, &app.api(&format!("/analytics/{}", app.website)))
        .await;
    assert_eq!(
        error_code(analytics).await,
        (StatusCode::FORBIDDEN, "insufficient_scope".into())
    );
    let keys = app.get_with(&reader, &app.api("/keys")).await;
    assert_eq!(
        error_code(keys).await,
        (StatusCode::FORBIDDEN, "insufficient_scope".into())
    );
    app.assert_nothing_stored(&app.website).await;
}

#[tokio::test]
async fn reversed_or_impossible_dates_are_a_422() {
    let app = spawn_app().await;
    let w = &app.website;
    for query in [
        "from=2024-05-02&to=2024-05-01",
        "from=2024-02-30&to=2024-03-01",
        "from=2024-01-01&to=2024-13-01",
        "from=yesterday",
        "from=1990-01-01&to=2024-01-01",
    ] {
        for path in ["", "/visitors", "/pages"] {
            let response = app
                .get_with(
                    &app.admin_key,
                    &app.api(&format!("/analytics/{w}{path}?{query}")),
                )
                .await;
            assert_eq!(
                error_code(response).await,
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_date_range".into()
                ),
                "{path}?{query}"
            );
        }
    }
    let limit = app
        .get_with(
            &app.admin_key,
            &app.api(&format!("/analytics/{w}/pages?limit=0")),
        )
        .await;
    assert_eq!(
        error_code(limit).await,
        (StatusCode::BAD_REQUEST, "invalid_query".into())
    );
}

#[tokio::test]
async fn an_oversized_body_is_a_413_and_stores_nothing() {
    let mut args = ServeArgs::loopback();
    args.body_limit = 4 * 1024;
    let app = spawn_app_with(args).await;
    let lines: Vec<_> = (0..100)
        .map(|i| pageview(&app.website, &format!("v{i}"), "2024-05-01T10:00:00Z", "/"))
        .collect();
    let body = ndjson(&lines);
    assert!(body.len() > 4 * 1024);
    let response = app.ingest_with(Some(&app.admin_key), body).await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large".into())
    );
    let big_hit = json!({"website_id": app.website, "visitor_id": "v", "url": "/", "title": "x".repeat(5000)});
    let response = app
        .client
        .post(app.url("/api/event"))
        .json(&big_hit)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(response).await,
        (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large".into())
    );
    app.assert_nothing_stored(&app.website).await;
}

#[tokio::test]
async fn unknown_endpoints_and_methods_answer_in_json() {
    let app = spawn_app().await;
    let missing = app.client.get(app.api("/nope")).send().await.unwrap();
    assert_eq!(
        error_code(missing).await,
        (StatusCode::NOT_FOUND, "not_found".into())
    );
    let method = app.client.put(app.url("/api/ingest")).send().await.unwrap();
    assert_eq!(
        error_code(method).await,
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed".into())
    );
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}
