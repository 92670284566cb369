//! Signed identify (issue 10, §1): the public `POST /api/identify` takes a user id only with
//! the site backend's `user_hash`; where a website allows unsigned calls, they never change a
//! known person and every link says who vouched for it.

use ferry::identify_signature::user_hash;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::exports::{post, wait_until_completed};
use crate::helpers::*;
use crate::users::by_email;

async fn identify(app: &TestApp, body: Value) -> reqwest::Response {
    app.client
        .post(app.url("/api/identify"))
        .header("Content-Type", "text/plain")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

/// `{user_id, visitor_id, email, user_hash?}` on the test website.
fn hit(app: &TestApp, visitor: &str, user: &str, email: &str, hash: Option<String>) -> Value {
    let mut body =
        json!({"website_id": app.website, "visitor_id": visitor, "user_id": user, "email": email});
    if let Some(hash) = hash {
        body["user_hash"] = json!(hash);
    }
    body
}

async fn user(app: &TestApp, user_id: &str) -> (StatusCode, Value) {
    let response = app
        .get_with(&app.admin_key, &app.api(&format!("/users/{user_id}")))
        .await;
    (response.status(), response.json().await.unwrap())
}

async fn allow_unsigned(app: &TestApp, allow: bool) {
    let response = app
        .client
        .patch(app.api(&format!("/websites/{}/identify", app.website)))
        .header("X-API-Key", &app.admin_key)
        .json(&json!({"unsigned_identify": allow}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let settings: Value = response.json().await.unwrap();
    assert_eq!(settings["unsigned_identify"], allow);
}

#[tokio::test]
async fn identify_without_a_valid_user_hash_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let wrong = user_hash("fis_not_the_secret", "victim");
    let right_for_another = user_hash(&app.identify_secret, "someone_else");
    for hash in [
        None,
        Some(wrong),
        Some(right_for_another),
        Some("zz".into()),
    ] {
        let response = identify(&app, hit(&app, "v1", "victim", "attacker@evil.test", hash)).await;
        assert_eq!(
            error_code(response).await,
            (StatusCode::FORBIDDEN, "identify_signature_required".into())
        );
    }
    assert_eq!(user(&app, "victim").await.0, StatusCode::NOT_FOUND);

    let signed = user_hash(&app.identify_secret, "victim");
    let response = identify(
        &app,
        hit(&app, "v1", "victim", "victim@example.com", Some(signed)),
    )
    .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let (status, found) = user(&app, "victim").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["email"], "victim@example.com");
    assert_eq!(
        found["identities"],
        json!([{"website_id": app.website, "domain": "shop.example.com", "visitor_id": "v1",
                "user_id": "victim", "linked_by": "signed_identify", "profile_set_by": "signed_identify"}])
    );
}

/// The attack of issue 10 on a website that opted into unsigned identify: the victim's email
/// stays, the victim's visitor stays theirs, and the planted link is marked for a reviewer.
#[tokio::test]
async fn an_unsigned_identify_never_takes_over_a_known_person() {
    let app = spawn_app().await;
    let w = &app.website;
    app.ingest_ok(&[
        pageview(w, "victim-browser", "2024-05-01T10:00:00Z", "/account"),
        json!({"type": "identify", "website_id": w, "visitor_id": "victim-browser", "user_id": "victim",
               "email": "victim@example.com", "name": "Vic Tim"}),
    ])
    .await;
    allow_unsigned(&app, true).await;

    // Rename the victim, and pull the victim's browser into an account the attacker owns.
    let planted = identify(
        &app,
        hit(
            &app,
            "attacker-browser",
            "victim",
            "attacker@evil.test",
            None,
        ),
    )
    .await;
    assert_eq!(planted.status(), StatusCode::ACCEPTED);
    let stolen = identify(
        &app,
        hit(
            &app,
            "victim-browser",
            "attacker",
            "attacker@evil.test",
            None,
        ),
    )
    .await;
    assert_eq!(stolen.status(), StatusCode::ACCEPTED);
    // A hash is still checked when one is sent.
    let forged = identify(
        &app,
        hit(&app, "x", "victim", "a@evil.test", Some("00".repeat(32))),
    )
    .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    let (_, victim) = user(&app, "victim").await;
    assert_eq!(
        (&victim["email"], &victim["name"]),
        (&json!("victim@example.com"), &json!("Vic Tim"))
    );
    let links: Vec<(String, String)> = victim["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["visitor_id"].as_str().unwrap().into(),
                i["linked_by"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        links,
        [
            ("victim-browser".to_string(), "keyed_ingest".to_string()),
            (
                "attacker-browser".to_string(),
                "unsigned_identify".to_string()
            ),
        ]
    );
    // Asking by the attacker's address finds only the attacker's own, unverified, user.
    let response = by_email(&app, &app.admin_key, "attacker@evil.test").await;
    let attacker: Value = response.json().await.unwrap();
    assert_eq!(attacker["user_id"], "attacker");
    assert_eq!(
        attacker["identities"],
        json!([]),
        "the victim's browser is not the attacker's"
    );

    // The export's view shows the same before anything leaves, and the manifest what it held.
    let response = post(
        &app,
        "/users/victim/export",
        json!({"format": "json", "include": "all"}),
    )
    .await;
    let id = response.json::<Value>().await.unwrap()["export_id"]
        .as_str()
        .unwrap()
        .to_string();
    let queued = app.get_json(&app.api(&format!("/exports/{id}"))).await;
    assert_eq!(queued["identities"], victim["identities"]);
    let done = wait_until_completed(&app, &id).await;
    assert_eq!(done["identities"][1]["linked_by"], "unsigned_identify");

    // The site's own backend may still change its user.
    let signed = user_hash(&app.identify_secret, "victim");
    identify(
        &app,
        hit(
            &app,
            "victim-browser",
            "victim",
            "new@example.com",
            Some(signed),
        ),
    )
    .await;
    assert_eq!(user(&app, "victim").await.1["email"], "new@example.com");
}

#[tokio::test]
async fn a_zip_export_manifest_says_who_vouched_for_each_identity() {
    let app = spawn_app().await;
    allow_unsigned(&app, true).await;
    let signed = user_hash(&app.identify_secret, "ann");
    identify(
        &app,
        hit(&app, "phone", "ann", "ann@example.com", Some(signed)),
    )
    .await;
    identify(&app, hit(&app, "laptop", "ann", "ann@example.com", None)).await;
    let response = post(&app, "/users/ann/export", json!({"format": "csv"})).await;
    let id = response.json::<Value>().await.unwrap()["export_id"]
        .as_str()
        .unwrap()
        .to_string();
    let done = wait_until_completed(&app, &id).await;
    let (status, bytes) =
        crate::exports::fetch(&app, done["download_url"].as_str().unwrap(), None).await;
    assert_eq!(status, StatusCode::OK);
    let files = unzip(&bytes);
    let manifest: Value =
        serde_json::from_slice(&files.iter().find(|(n, _)| n == "manifest.json").unwrap().1)
            .unwrap();
    let by = texts(&manifest["identities"], "linked_by");
    assert_eq!(by, ["signed_identify", "unsigned_identify"]);
}

#[tokio::test]
async fn rotating_the_identify_secret_retires_hashes_made_with_the_old_one() {
    let app = spawn_app().await;
    let settings_url = app.api(&format!("/websites/{}/identify", app.website));
    let before = app.get_json(&settings_url).await;
    assert_eq!(before["unsigned_identify"], false, "signed only by default");
    assert!(
        before.get("identify_secret").is_none(),
        "the secret is never shown again"
    );

    let response = app
        .client
        .post(app.api(&format!("/websites/{}/identify/rotate", app.website)))
        .header("X-API-Key", &app.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let rotated: Value = response.json().await.unwrap();
    let new_secret = rotated["identify_secret"].as_str().unwrap();
    assert!(new_secret.starts_with("fis_") && new_secret.len() == 68);
    assert_ne!(new_secret, app.identify_secret);

    let old = user_hash(&app.identify_secret, "u1");
    let response = identify(&app, hit(&app, "v1", "u1", "u1@example.com", Some(old))).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let new = user_hash(new_secret, "u1");
    let response = identify(&app, hit(&app, "v1", "u1", "u1@example.com", Some(new))).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);

    let after = app.get_json(&settings_url).await;
    assert!(after.get("identify_secret").is_none());
    let trail = app
        .get_json(&app.api("/audit?action=website.identify_secret_rotated"))
        .await;
    assert_eq!(trail["data"].as_array().unwrap().len(), 1, "{trail}");
    assert!(
        !trail.to_string().contains(new_secret),
        "the audit never holds the secret"
    );
}

#[tokio::test]
async fn only_an_admin_of_the_website_s_account_sees_or_changes_its_identify_settings() {
    let app = spawn_app().await;
    let reader = app
        .key_with("analytics:read,exports:read,exports:write,ingest")
        .await;
    let (globex_key, _) = app.other_account().await;
    let settings = app.api(&format!("/websites/{}/identify", app.website));
    let rotate = app.api(&format!("/websites/{}/identify/rotate", app.website));
    for (key, expected) in [
        (&reader, (StatusCode::FORBIDDEN, "insufficient_scope")),
        (&globex_key, (StatusCode::NOT_FOUND, "website_not_found")),
    ] {
        let expected = (expected.0, expected.1.to_string());
        let get = app.get_with(key, &settings).await;
        assert_eq!(error_code(get).await, expected);
        let patch = app
            .client
            .patch(&settings)
            .header("X-API-Key", key)
            .json(&json!({"unsigned_identify": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(patch).await, expected);
        let post = app
            .client
            .post(&rotate)
            .header("X-API-Key", key)
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(post).await, expected);
    }
    let still = app.get_json(&settings).await;
    assert_eq!(still["unsigned_identify"], false);
    let signed_before = user_hash(&app.identify_secret, "u1");
    let response = identify(
        &app,
        hit(&app, "v1", "u1", "u1@example.com", Some(signed_before)),
    )
    .await;
    assert_eq!(
        response.status(),
        StatusCode::ACCEPTED,
        "the secret was not rotated"
    );
}
