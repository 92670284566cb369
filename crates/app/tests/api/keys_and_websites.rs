use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn a_key_is_shown_once_listed_without_its_secret_and_stops_working_when_revoked() {
    let app = spawn_app().await;
    let created: Value = app
        .client
        .post(app.api("/keys"))
        .header("X-API-Key", &app.admin_key)
        .json(&json!({"name": "reporting", "scopes": ["analytics:read"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = created["key"].as_str().unwrap();
    let id = created["id"].as_str().unwrap();
    assert_eq!(created["scopes"], json!(["analytics:read"]));
    assert_eq!(
        app.get_with(secret, &app.api("/websites")).await.status(),
        StatusCode::OK
    );

    let listing = app
        .get_with(&app.admin_key, &app.api("/keys"))
        .await
        .text()
        .await
        .unwrap();
    assert!(listing.contains(id));
    assert!(
        !listing.contains(secret),
        "a secret is never returned after creation"
    );
    assert!(!listing.contains(&app.admin_key));

    let revoked = app
        .client
        .delete(app.api(&format!("/keys/{id}")))
        .header("X-API-Key", &app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    let after = app.get_with(secret, &app.api("/websites")).await;
    assert_eq!(
        error_code(after).await,
        (StatusCode::UNAUTHORIZED, "invalid_api_key".into())
    );
    let again = app
        .client
        .delete(app.api("/keys/key_nope"))
        .header("X-API-Key", &app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(again).await,
        (StatusCode::NOT_FOUND, "key_not_found".into())
    );
}

#[tokio::test]
async fn websites_are_checked_and_domains_are_unique() {
    let app = spawn_app().await;
    let post = |body: Value| {
        app.client
            .post(app.api("/websites"))
            .header("X-API-Key", &app.admin_key)
            .json(&body)
            .send()
    };
    let taken = post(json!({"domain": "SHOP.example.com"})).await.unwrap();
    assert_eq!(
        error_code(taken).await,
        (StatusCode::CONFLICT, "conflict".into())
    );
    let zone = post(json!({"domain": "a.example.com", "timezone": "Mars/Olympus"}))
        .await
        .unwrap();
    assert_eq!(
        error_code(zone).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_website".into())
    );
    let domain = post(json!({"domain": "https://a.example.com/"}))
        .await
        .unwrap();
    assert_eq!(
        error_code(domain).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_website".into())
    );
    let created = post(
        json!({"domain": "blog.example.com", "timezone": "Europe/Berlin", "retention_days": 400}),
    )
    .await
    .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let body: Value = created.json().await.unwrap();
    assert_eq!(
        (&body["timezone"], &body["retention_days"]),
        (&json!("Europe/Berlin"), &json!(400))
    );
    let listed = app.get_json(&app.api("/websites")).await;
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);
}
