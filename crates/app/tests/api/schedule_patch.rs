//! `PATCH /schedules/{id}`: any of the settings `POST` takes, checked as `POST` checks them;
//! what the body leaves out keeps its value, and a refused change changes nothing.

use ferry_encrypt::test_support::Gpg;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;
use crate::schedules::{create, show};

async fn patch(app: &TestApp, key: &str, id: &str, body: Value) -> reqwest::Response {
    app.client
        .patch(app.api(&format!("/schedules/{id}")))
        .header("X-API-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The settings a change may touch, without the bookkeeping (`next_window_from`, …).
fn settings(view: &Value) -> Value {
    json!({
        "website_id": view["website_id"],
        "frequency": view["frequency"],
        "include": view["include"],
        "format": view["format"],
        "destination_id": view["destination_id"],
        "encryption": view["encryption"],
        "enabled": view["enabled"],
    })
}

#[tokio::test]
async fn a_patch_changes_the_fields_it_names_and_keeps_the_rest() {
    let app = spawn_app().await;
    let created = create(
        &app,
        json!({"website_id": app.website, "frequency": "daily", "include": ["pageviews"], "format": "csv"}),
    )
    .await;
    let id = created["id"].as_str().unwrap();

    let response = patch(
        &app,
        &app.admin_key,
        id,
        json!({"frequency": "0 0 1,15 * *", "include": ["events", "pageviews"]}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let changed: Value = response.json().await.unwrap();
    let mut expected = settings(&created);
    expected["frequency"] = json!("0 0 1,15 * *");
    expected["include"] = json!(["pageviews", "events"]);
    assert_eq!(settings(&changed), expected, "only the named fields change");
    assert_eq!(
        settings(&show(&app, id).await),
        expected,
        "and it is stored"
    );

    let audit = app
        .get_json(&app.api("/audit?action=schedule.updated"))
        .await;
    assert_eq!(audit["data"].as_array().unwrap().len(), 1, "{audit}");

    // Only `enabled`: a switch, audited as one.
    let off = patch(&app, &app.admin_key, id, json!({"enabled": false})).await;
    assert_eq!(off.status(), StatusCode::OK);
    expected["enabled"] = json!(false);
    assert_eq!(settings(&show(&app, id).await), expected);
    let audit = app
        .get_json(&app.api("/audit?action=schedule.disabled"))
        .await;
    assert_eq!(audit["data"].as_array().unwrap().len(), 1, "{audit}");
}

#[tokio::test]
async fn a_key_is_set_and_removed_by_patch() {
    let app = spawn_app().await;
    let gpg = Gpg::new();
    let (armored, fingerprint) = gpg.key("patch@example.com", "ed25519", Some("cv25519"), "never");
    let created = create(
        &app,
        json!({"website_id": app.website, "frequency": "weekly", "include": ["pageviews"]}),
    )
    .await;
    let id = created["id"].as_str().unwrap();

    let set = patch(
        &app,
        &app.admin_key,
        id,
        json!({"encryption": {"pgp_public_key": armored}}),
    )
    .await;
    assert_eq!(set.status(), StatusCode::OK);
    let shown = show(&app, id).await;
    assert_eq!(
        shown["encryption"]["fingerprint"]
            .as_str()
            .unwrap()
            .to_lowercase(),
        fingerprint.to_lowercase()
    );
    assert_eq!(shown["frequency"], "weekly", "the rest stays");

    // A change of something else keeps the key.
    let other = patch(&app, &app.admin_key, id, json!({"format": "csv"})).await;
    assert_eq!(other.status(), StatusCode::OK);
    assert!(show(&app, id).await["encryption"].is_object());

    let removed = patch(&app, &app.admin_key, id, json!({"encryption": null})).await;
    assert_eq!(removed.status(), StatusCode::OK);
    assert!(show(&app, id).await["encryption"].is_null());
}

#[tokio::test]
async fn a_refused_patch_changes_nothing() {
    let app = spawn_app().await;
    let other_site = app.create_website("other.example.com", "UTC").await;
    let created = create(
        &app,
        json!({"website_id": app.website, "frequency": "daily", "include": ["pageviews"]}),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let before = settings(&show(&app, id).await);

    for (body, code) in [
        (json!({"website_id": other_site}), "invalid_website"),
        (json!({"starts_on": "2026-01-01"}), "invalid_date_range"),
        (
            json!({"format": "xml", "frequency": "weekly"}),
            "invalid_format",
        ),
        (json!({"frequency": "hourly"}), "invalid_frequency"),
        (json!({"include": ["nope"]}), "invalid_include"),
        (
            json!({"destination_id": "dst_nope"}),
            "destination_not_found",
        ),
        (
            json!({"encryption": {"none": true}}),
            "invalid_encryption_key",
        ),
        (json!({"colour": "red"}), "unknown_field"),
    ] {
        let response = patch(&app, &app.admin_key, id, body.clone()).await;
        let (status, got) = error_code(response).await;
        assert!(status.is_client_error(), "{body}: {status}");
        assert_eq!(got, code, "{body}");
        assert_eq!(
            settings(&show(&app, id).await),
            before,
            "{body} changed nothing"
        );
    }

    // Another account's key finds no such schedule, and a read-only key may not change one.
    let (stranger, _) = app.other_account().await;
    let response = patch(&app, &stranger, id, json!({"frequency": "weekly"})).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let reader = app.key_with("exports:read").await;
    let response = patch(&app, &reader, id, json!({"frequency": "weekly"})).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(settings(&show(&app, id).await), before);
}
