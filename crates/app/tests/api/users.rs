//! Finding a person before exporting them, as the reference page's `findUserByEmail` step
//! does: `GET /users/{userId}` and `GET /users?email=`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::exports::person;
use crate::helpers::*;

/// `GET /users?email=…` with `key`, the email encoded as a client would.
pub(crate) async fn by_email(app: &TestApp, key: &str, email: &str) -> reqwest::Response {
    let url = reqwest::Url::parse_with_params(&app.api("/users"), [("email", email)]).unwrap();
    app.get_with(key, url.as_str()).await
}

async fn by_id(app: &TestApp, key: &str, user_id: &str) -> reqwest::Response {
    let mut url = reqwest::Url::parse(&app.api("/users/")).unwrap();
    url.path_segments_mut().unwrap().pop().push(user_id);
    app.get_with(key, url.as_str()).await
}

#[tokio::test]
async fn a_person_is_found_by_user_id_or_by_email_in_any_case_with_every_linked_visitor() {
    let app = spawn_app().await;
    person(&app).await;
    let blog = app.create_website("blog.example.com", "UTC").await;
    app.ingest_ok(&[json!({"type": "identify", "website_id": blog, "visitor_id": "v7", "user_id": "user_123", "created_at": "2024-01-01T00:00:00Z"})])
        .await;

    let response = by_id(&app, &app.admin_key, "user_123").await;
    assert_eq!(response.status(), StatusCode::OK);
    let user: Value = response.json().await.unwrap();
    assert_eq!(
        user,
        json!({
            "id": "user_123",
            "user_id": "user_123",
            "email": "user@example.com",
            "name": "John Doe",
            "created_at": "2024-01-01T00:00:00Z",
            "properties": {"plan": "pro"},
            "identities": [
                {"website_id": app.website, "domain": "shop.example.com", "visitor_id": "v1",
                 "user_id": "user_123", "linked_by": "keyed_ingest", "profile_set_by": "keyed_ingest"},
                {"website_id": blog, "domain": "blog.example.com", "visitor_id": "v7",
                 "user_id": "user_123", "linked_by": "keyed_ingest", "profile_set_by": "keyed_ingest"},
            ],
        })
    );
    for email in ["user@example.com", "USER@Example.COM"] {
        let response = by_email(&app, &app.admin_key, email).await;
        assert_eq!(response.status(), StatusCode::OK, "{email}");
        assert_eq!(response.json::<Value>().await.unwrap(), user, "{email}");
    }
    // The page's flow: the `id` found is what the export call takes.
    let id = user["id"].as_str().unwrap();
    let export = crate::exports::post(&app, &format!("/users/{id}/export"), json!({})).await;
    assert_eq!(export.status(), StatusCode::ACCEPTED);
}

async fn answer(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json::<Value>().await.unwrap())
}

#[tokio::test]
async fn another_accounts_person_is_not_found_exactly_like_nobody() {
    let app = spawn_app().await;
    person(&app).await;
    let (globex_key, globex_site) = app.other_account().await;
    let theirs = |user: &str, email: &str| json!({"type": "identify", "website_id": globex_site, "visitor_id": "g1", "user_id": user, "email": email});
    let response = app
        .ingest_with(
            Some(&globex_key),
            ndjson(&[
                theirs("user_glx", "glx@example.com"),
                theirs("user_123", "someone@globex.example"),
            ]),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);

    let nobody = answer(by_id(&app, &app.admin_key, "nobody").await).await;
    assert_eq!(nobody.0, StatusCode::NOT_FOUND);
    assert_eq!(nobody.1["error"]["code"], "user_not_found");
    assert_eq!(
        answer(by_id(&app, &app.admin_key, "user_glx").await).await,
        nobody
    );
    // A visitor id is not a user id, even of an identified visitor.
    assert_eq!(
        answer(by_id(&app, &app.admin_key, "v1").await).await,
        nobody
    );

    let no_email = answer(by_email(&app, &app.admin_key, "nobody@example.com").await).await;
    assert_eq!(no_email.0, StatusCode::NOT_FOUND);
    assert_eq!(no_email.1["error"]["code"], "user_not_found");
    for email in [
        "glx@example.com",
        "GLX@example.com",
        "someone@globex.example",
    ] {
        let found = answer(by_email(&app, &app.admin_key, email).await).await;
        assert_eq!(found, no_email, "{email}");
    }
    // The same user id in both accounts: each key sees its own person only.
    let ours = answer(by_id(&app, &app.admin_key, "user_123").await).await;
    assert_eq!(ours.1["email"], "user@example.com");
    let other = answer(by_id(&app, &globex_key, "user_123").await).await;
    assert_eq!(other.1["email"], "someone@globex.example");
    assert_eq!(other.1["identities"][0]["website_id"], globex_site.as_str());
}

#[tokio::test]
async fn finding_a_person_takes_the_exports_read_scope_and_an_email_as_given() {
    let app = spawn_app().await;
    person(&app).await;
    let analytics = app.key_with("analytics:read").await;
    let reader = app.key_with("exports:read").await;
    for response in [
        by_id(&app, &analytics, "user_123").await,
        by_email(&app, &analytics, "user@example.com").await,
    ] {
        assert_eq!(
            error_code(response).await,
            (StatusCode::FORBIDDEN, "insufficient_scope".into())
        );
    }
    assert_eq!(
        by_id(&app, &reader, "user_123").await.status(),
        StatusCode::OK
    );
    let anonymous = app
        .client
        .get(app.api("/users/user_123"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(anonymous).await.0, StatusCode::UNAUTHORIZED);

    let without = app.get_with(&reader, &app.api("/users")).await;
    let status = without.status();
    let body: Value = without.json().await.unwrap();
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_query"))
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("?email="),
        "{body}"
    );
    let empty = by_email(&app, &reader, "").await;
    assert_eq!(
        error_code(empty).await,
        (StatusCode::BAD_REQUEST, "invalid_query".into())
    );
    let long = format!("{}@example.com", "a".repeat(320));
    let long = by_email(&app, &reader, &long).await;
    assert_eq!(
        error_code(long).await,
        (StatusCode::BAD_REQUEST, "invalid_query".into())
    );

    // SQL wildcards and quotes are characters of an address, never patterns.
    for hostile in [
        "%",
        "_",
        "%@example.com",
        "user@example.co_",
        "_ser@example.com",
        "user@example.com' OR '1'='1",
        "*",
    ] {
        let response = by_email(&app, &reader, hostile).await;
        assert_eq!(
            error_code(response).await,
            (StatusCode::NOT_FOUND, "user_not_found".into()),
            "{hostile}"
        );
    }
    for hostile in ["%", "user_12_", "user_%"] {
        let response = by_id(&app, &reader, hostile).await;
        assert_eq!(error_code(response).await.1, "user_not_found", "{hostile}");
    }
    let very_long = by_id(&app, &reader, &"u".repeat(4000)).await;
    assert_eq!(error_code(very_long).await.1, "user_not_found");
}
