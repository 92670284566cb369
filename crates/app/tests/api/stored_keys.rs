//! Stored encryption keys (issue 11, §1): the account's default key and a destination's key,
//! and the precedence request > destination > account, with an explicit, audited opt-out.
//! Every encrypted file here is opened by real GnuPG.

use ferry_encrypt::test_support::Gpg;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::exports::{fetch, person, post, wait_until_completed};
use crate::helpers::*;

/// A GnuPG home with one Curve25519 key: (home, armored public key, fingerprint).
pub(crate) fn recipient(uid: &str) -> (Gpg, String, String) {
    let gpg = Gpg::new();
    let (armored, fingerprint) = gpg.key(uid, "ed25519", Some("cv25519"), "never");
    (gpg, armored, fingerprint)
}

pub(crate) async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app
        .client
        .request(method.parse().unwrap(), app.api(path))
        .header("X-API-Key", key);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

pub(crate) async fn set_account_key(app: &TestApp, armored: &str) -> Value {
    let body = json!({"pgp_public_key": armored});
    let response = send(
        app,
        "PUT",
        "/account/encryption",
        &app.admin_key,
        Some(body),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Queues a person's JSON export with `extra` merged into the body; runs it; returns the
/// finished export and its file's bytes.
pub(crate) async fn person_export(app: &TestApp, extra: Value) -> (Value, Vec<u8>) {
    let mut body = json!({"format": "json", "include": "all"});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let response = post(app, "/users/user_123/export", body).await;
    assert_eq!(
        response.status(),
        StatusCode::ACCEPTED,
        "{:?}",
        response.text().await
    );
    let queued: Value = response.json().await.unwrap();
    let job = wait_until_completed(app, queued["export_id"].as_str().unwrap()).await;
    let (status, bytes) = fetch(app, job["download_url"].as_str().unwrap(), None).await;
    assert_eq!(status, StatusCode::OK);
    (job, bytes)
}

pub(crate) fn decrypts_to_the_persons_document(gpg: &Gpg, bytes: &[u8]) {
    let document: Value = serde_json::from_slice(&gpg.decrypt(bytes)).unwrap();
    assert_eq!(document["user"]["email"], "user@example.com");
}

async fn requested_entry(app: &TestApp, id: &str) -> Value {
    let trail = app
        .get_json(&app.api("/audit?action=data_export.requested"))
        .await;
    trail["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["export_id"] == id)
        .cloned()
        .unwrap()
}

#[tokio::test]
async fn the_accounts_key_encrypts_every_export_that_names_none_and_only_an_admin_sets_it() {
    let app = spawn_app().await;
    person(&app).await;
    let (gpg, armored, fingerprint) = recipient("account@example.com");
    let reader = app.key_with("exports:read").await;

    let shown = app.get_json(&app.api("/account/encryption")).await;
    assert_eq!(shown["fingerprint"], Value::Null);
    let body = json!({"pgp_public_key": armored});
    for method in ["PUT", "DELETE"] {
        let response = send(
            &app,
            method,
            "/account/encryption",
            &reader,
            Some(body.clone()),
        )
        .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{method}");
    }
    // Refused keys leave nothing stored.
    let private = gpg.private_key("account@example.com");
    let oversized = format!(
        "-----BEGIN PGP PUBLIC KEY BLOCK-----\n{}",
        "A".repeat(70_000)
    );
    for bad in [
        json!("not a key"),
        json!(private),
        json!(oversized),
        json!(42),
    ] {
        let body = json!({"pgp_public_key": bad});
        let response = send(
            &app,
            "PUT",
            "/account/encryption",
            &app.admin_key,
            Some(body),
        )
        .await;
        // 422 for a key that cannot be used, 400 for a value that is not text.
        assert!(response.status().is_client_error());
        let answer = response.text().await.unwrap();
        assert!(answer.contains("\"code\""), "{answer}");
        assert!(!answer.contains("PRIVATE KEY BLOCK"), "never echoed");
    }
    let shown = app.get_json(&app.api("/account/encryption")).await;
    assert_eq!(shown["fingerprint"], Value::Null, "nothing was stored");

    let set = set_account_key(&app, &armored).await;
    assert_eq!(set["fingerprint"], fingerprint);
    assert!(
        !set.to_string().contains("BEGIN PGP"),
        "the key is not echoed"
    );
    let shown: Value = send(&app, "GET", "/account/encryption", &reader, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["fingerprint"], fingerprint);
    assert!(shown["set_by"].as_str().unwrap().starts_with("key_"));
    assert!(shown["set_at"].is_string());
    let trail = app
        .get_json(&app.api("/audit?action=account.encryption_key_set"))
        .await;
    assert_eq!(trail["data"][0]["details"]["fingerprint"], fingerprint);

    // A person's export that names no key: encrypted to the account's.
    let (job, bytes) = person_export(&app, json!({})).await;
    assert_eq!(job["encrypted_to"], fingerprint);
    assert!(
        job["files"][0]["name"]
            .as_str()
            .unwrap()
            .ends_with(".json.gpg")
    );
    decrypts_to_the_persons_document(&gpg, &bytes);
    let id = job["export_id"].as_str().unwrap();
    let receipt = app
        .get_json(&app.api(&format!("/exports/{id}/receipt")))
        .await;
    assert_eq!(receipt["encrypted_to"], fingerprint);
    let entry = requested_entry(&app, id).await;
    assert_eq!(entry["details"]["encryption"]["source"], "account");

    // A bulk ZIP too, and its manifest says to whom.
    crate::bulk_exports::traffic(&app).await;
    let job = crate::bulk_exports::bulk(&app, json!({"format": "csv"})).await;
    assert_eq!(job["encrypted_to"], fingerprint);
    let (_, encrypted) = fetch(&app, job["download_url"].as_str().unwrap(), None).await;
    let files = unzip(&gpg.decrypt(&encrypted));
    let manifest: Value =
        serde_json::from_slice(&files.iter().find(|(n, _)| n == "manifest.json").unwrap().1)
            .unwrap();
    assert_eq!(manifest["encrypted_to"], fingerprint);

    // The request's own key wins.
    let (own_gpg, own, own_fingerprint) = recipient("requester@example.com");
    let (job, bytes) = person_export(&app, json!({"encryption": {"pgp_public_key": own}})).await;
    assert_eq!(job["encrypted_to"], own_fingerprint);
    decrypts_to_the_persons_document(&own_gpg, &bytes);

    // Opting out is explicit, and the audit trail records which key was skipped.
    let (job, bytes) = person_export(&app, json!({"encryption": {"none": true}})).await;
    assert_eq!(job["encrypted_to"], Value::Null);
    let document: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(document["user"]["email"], "user@example.com");
    let entry = requested_entry(&app, job["export_id"].as_str().unwrap()).await;
    assert_eq!(entry["details"]["encryption"]["none"], true);
    assert_eq!(
        entry["details"]["encryption"]["skipped"],
        json!({"source": "account", "fingerprint": fingerprint})
    );
    for half_said in [
        json!({"none": false}),
        json!({}),
        json!({"none": true, "pgp_public_key": "x"}),
    ] {
        let body = json!({"format": "json", "encryption": half_said});
        let response = post(&app, "/users/user_123/export", body).await;
        assert_eq!(
            error_code(response).await,
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_encryption_key".into()
            )
        );
    }

    // Removed: exports are plain again; removing twice says there is none.
    let response = send(&app, "DELETE", "/account/encryption", &app.admin_key, None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let trail = app
        .get_json(&app.api("/audit?action=account.encryption_key_removed"))
        .await;
    assert_eq!(trail["data"][0]["details"]["fingerprint"], fingerprint);
    let (job, _) = person_export(&app, json!({})).await;
    assert_eq!(job["encrypted_to"], Value::Null);
    let response = send(&app, "DELETE", "/account/encryption", &app.admin_key, None).await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::NOT_FOUND, "encryption_key_not_set".into())
    );
}

#[tokio::test]
async fn another_account_neither_sees_nor_uses_the_accounts_key() {
    let app = spawn_app().await;
    let (_, armored, _) = recipient("account@example.com");
    set_account_key(&app, &armored).await;
    let (other_key, other_site) = app.other_account().await;
    let shown: Value = send(&app, "GET", "/account/encryption", &other_key, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["fingerprint"], Value::Null);
    let body = json!({"kind": "bulk", "website_id": other_site, "format": "csv"});
    let response = send(&app, "POST", "/exports", &other_key, Some(body)).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let queued: Value = response.json().await.unwrap();
    app.run_jobs().await;
    let id = queued["export_id"].as_str().unwrap();
    let job: Value = send(&app, "GET", &format!("/exports/{id}"), &other_key, None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["encrypted_to"], Value::Null);
    assert!(job["files"][0]["name"].as_str().unwrap().ends_with(".zip"));
}

#[tokio::test]
async fn a_stored_key_that_expires_fails_the_queued_export_and_refuses_new_ones() {
    let app = spawn_app().await;
    person(&app).await;
    let gpg = Gpg::new();
    let (armored, _) = gpg.key("brief@example.com", "ed25519", Some("cv25519"), "1d");
    set_account_key(&app, &armored).await;
    let response = post(&app, "/users/user_123/export", json!({"format": "json"})).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let queued: Value = response.json().await.unwrap();
    app.clock.advance(3 * 86_400 * 1000);
    app.run_jobs().await;
    let id = queued["export_id"].as_str().unwrap();
    let job = app.get_json(&app.api(&format!("/exports/{id}"))).await;
    assert_eq!(job["status"], "failed", "never a plaintext export: {job}");
    assert_eq!(job["error"]["code"], "invalid_encryption_key");
    assert!(
        job["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    let response = post(&app, "/users/user_123/export", json!({"format": "json"})).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["error"]["code"], "invalid_encryption_key");
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("the account's encryption key") && message.contains("expired"),
        "{message}"
    );
}
