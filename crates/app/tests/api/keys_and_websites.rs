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

#[tokio::test]
async fn two_accounts_may_register_one_domain_and_the_tracker_then_needs_the_website_id() {
    let app = spawn_app().await;
    let (other_key, _) = app.other_account().await;
    let hit = |body: Value| {
        app.client
            .post(app.url("/api/event"))
            .header("Content-Type", "text/plain")
            .body(body.to_string())
            .send()
    };
    let by_domain = json!({"domain": "shop.example.com", "visitor_id": "v1", "url": "/"});
    let alone = hit(by_domain.clone()).await.unwrap();
    assert_eq!(alone.status(), StatusCode::ACCEPTED, "one website has it");

    // The other account registers the same domain: no conflict, nothing said about ours.
    let twin = app
        .client
        .post(app.api("/websites"))
        .header("X-API-Key", &other_key)
        .json(&json!({"domain": "SHOP.example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(twin.status(), StatusCode::CREATED);
    let twin: Value = twin.json().await.unwrap();
    let twin_id = twin["id"].as_str().unwrap();
    assert_ne!(twin_id, app.website);

    let before = app.everything(&app.website).await;
    let ambiguous = hit(by_domain).await.unwrap();
    assert_eq!(
        error_code(ambiguous).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "website_id_required".into()
        )
    );
    assert_eq!(app.everything(&app.website).await, before, "nothing stored");
    let identify = app
        .client
        .post(app.url("/api/identify"))
        .json(&json!({"domain": "shop.example.com", "visitor_id": "v1", "user_id": "u1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(identify).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "website_id_required".into()
        )
    );

    // Named by id, each account's hits land in its own website.
    for (website, visitor) in [(app.website.as_str(), "mine"), (twin_id, "theirs")] {
        let named = hit(json!({"website_id": website, "visitor_id": visitor, "url": "/"}))
            .await
            .unwrap();
        assert_eq!(named.status(), StatusCode::ACCEPTED);
    }
    let ours = app.everything(&app.website).await;
    assert_eq!(ours["pageviews"], before["pageviews"].as_u64().unwrap() + 1);
    let theirs = app
        .get_with(&other_key, &app.api(&format!("/websites/{twin_id}")))
        .await;
    assert_eq!(theirs.status(), StatusCode::OK);
    // Still one website per domain within an account.
    let again = app
        .client
        .post(app.api("/websites"))
        .header("X-API-Key", &other_key)
        .json(&json!({"domain": "shop.example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(again).await,
        (StatusCode::CONFLICT, "conflict".into())
    );
}
