//! OpenPGP-encrypted exports (issue 11, §1), decrypted by real GnuPG: a person's JSON and ZIP,
//! a website's bulk ZIP, the CLI; and keys GnuPG could not use refused before anything runs.

use ferry_encrypt::test_support::Gpg;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Digest;

use crate::exports::{fetch, person, post, wait_until_completed};
use crate::helpers::*;

/// A GnuPG home with one Curve25519 key (what `gpg --full-generate-key` makes by default).
fn recipient(uid: &str) -> (Gpg, String, String) {
    let gpg = Gpg::new();
    let (armored, fingerprint) = gpg.key(uid, "ed25519", Some("cv25519"), "never");
    (gpg, armored, fingerprint)
}

async fn queue(app: &TestApp, path: &str, body: Value) -> String {
    let response = post(app, path, body).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let queued: Value = response.json().await.unwrap();
    queued["export_id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_persons_json_export_encrypted_to_their_key_decrypts_with_gnupg() {
    let app = spawn_app().await;
    person(&app).await;
    let (gpg, armored, fingerprint) = recipient("dpo@example.com");
    let body =
        json!({"format": "json", "include": "all", "encryption": {"pgp_public_key": armored}});
    let id = queue(&app, "/users/user_123/export", body).await;
    let job = wait_until_completed(&app, &id).await;
    assert_eq!(job["encrypted_to"], fingerprint);
    assert_eq!(job["files"][0]["name"], format!("{id}.json.gpg"));

    let response = app
        .client
        .get(job["download_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "application/pgp-encrypted"
    );
    let encrypted = response.bytes().await.unwrap();
    assert_eq!(
        job["files"][0]["sha256"],
        hex::encode(sha2::Sha256::digest(&encrypted))
    );
    assert!(
        !encrypted.windows(16).any(|w| w == b"user@example.com"),
        "no plaintext"
    );
    let document: Value = serde_json::from_slice(&gpg.decrypt(&encrypted)).unwrap();
    assert_eq!(document["user"]["email"], "user@example.com");
    assert_eq!(document["pageviews"].as_array().unwrap().len(), 2);

    let receipt = app
        .get_json(&app.api(&format!("/exports/{id}/receipt")))
        .await;
    assert_eq!(receipt["encrypted_to"], fingerprint);
    let trail = app
        .get_json(&app.api("/audit?action=data_export.completed"))
        .await;
    assert_eq!(trail["data"][0]["details"]["encrypted_to"], fingerprint);
}

#[tokio::test]
async fn a_csv_package_and_a_bulk_zip_are_encrypted_whole_and_say_to_whom_inside() {
    let app = spawn_app().await;
    person(&app).await;
    let (gpg, armored, fingerprint) = recipient("archive@example.com");
    let encryption = json!({"pgp_public_key": armored});
    let person_id = queue(
        &app,
        "/users/user_123/export",
        json!({"format": "csv", "encryption": encryption}),
    )
    .await;
    let bulk = json!({"kind": "bulk", "website_id": app.website, "format": "csv", "encryption": encryption});
    let bulk_id = queue(&app, "/exports", bulk).await;
    for id in [person_id, bulk_id] {
        let job = wait_until_completed(&app, &id).await;
        assert_eq!(job["files"][0]["name"], format!("{id}.zip.gpg"));
        let (status, encrypted) = fetch(&app, job["download_url"].as_str().unwrap(), None).await;
        assert_eq!(status, StatusCode::OK);
        let files = unzip(&gpg.decrypt(&encrypted));
        let manifest: Value =
            serde_json::from_slice(&files.iter().find(|(n, _)| n == "manifest.json").unwrap().1)
                .unwrap();
        assert_eq!(manifest["encrypted_to"], fingerprint, "{id}");
        assert!(
            files
                .iter()
                .any(|(n, _)| n == "pageviews.csv" || n.starts_with("pageviews")),
            "{id}"
        );
    }
}

#[tokio::test]
async fn keys_that_cannot_be_used_are_refused_with_what_to_send_instead_and_queue_nothing() {
    let app = spawn_app().await;
    person(&app).await;
    let gpg = Gpg::new();
    let (signing_only, _) = gpg.key("sign@example.com", "ed25519", None, "never");
    let private = gpg.private_key("sign@example.com");
    for (key, says) in [
        (
            json!("not a key"),
            "not an ASCII-armored OpenPGP public key",
        ),
        (json!(private.clone()), "this is a private key"),
        // Parsing is bounded: a megabyte of "key" is refused before it is read.
        (
            json!(format!(
                "-----BEGIN PGP PUBLIC KEY BLOCK-----\n{}",
                "A".repeat(70_000)
            )),
            "over 65536 bytes",
        ),
        (json!(signing_only), "no valid encryption subkey"),
    ] {
        let body = json!({"format": "json", "encryption": {"pgp_public_key": key}});
        let response = post(&app, "/users/user_123/export", body).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"]["code"], "invalid_encryption_key");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{message}");
        assert!(
            !answer.to_string().contains("PRIVATE KEY"),
            "a private key is never echoed"
        );
    }
    let listed = app.get_json(&app.api("/exports")).await;
    assert_eq!(listed["data"], json!([]), "nothing was queued");
}

#[tokio::test]
async fn a_key_that_expires_before_the_export_runs_fails_the_export_instead_of_using_it() {
    let app = spawn_app().await;
    person(&app).await;
    let gpg = Gpg::new();
    let (armored, _) = gpg.key("brief@example.com", "ed25519", Some("cv25519"), "1d");
    let body = json!({"format": "json", "encryption": {"pgp_public_key": armored}});
    let id = queue(&app, "/users/user_123/export", body).await;
    app.clock.advance(3 * 86_400 * 1000);
    app.run_jobs().await;
    let job = app.get_json(&app.api(&format!("/exports/{id}"))).await;
    assert_eq!(job["status"], "failed", "{job}");
    assert_eq!(job["error"]["code"], "invalid_encryption_key");
    assert!(
        job["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
}

#[tokio::test]
async fn ferry_export_encrypts_to_a_key_file_and_gnupg_decrypts_it() {
    let dir = tempfile::tempdir().unwrap();
    crate::cli::one_person(dir.path()).await;
    let (gpg, armored, _) = recipient("cli@example.com");
    let key_file = dir.path().join("dpo.asc");
    std::fs::write(&key_file, armored).unwrap();
    let out = dir.path().join("u1.json.gpg");
    let args = [
        "export",
        "--user",
        "u1",
        "--format",
        "json",
        "--pgp-key",
        key_file.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ];
    let (ok, _, err) = crate::cli::run(dir.path(), &args).await;
    assert!(ok, "{err}");
    let document: Value =
        serde_json::from_slice(&gpg.decrypt(&std::fs::read(&out).unwrap())).unwrap();
    assert_eq!(document["user"]["user_id"], "u1");
}
