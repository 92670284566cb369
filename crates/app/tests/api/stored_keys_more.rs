//! A destination's encryption key (before the account's, after the request's), schedules
//! that use the stored keys, and `ferry accounts encryption` with `ferry export`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::exports::person;
use crate::helpers::*;
use crate::stored_keys::{
    decrypts_to_the_persons_document, person_export, recipient, send, set_account_key,
};

async fn create_destination(app: &TestApp, body: Value) -> reqwest::Response {
    send(app, "POST", "/destinations", &app.admin_key, Some(body)).await
}

#[tokio::test]
async fn a_destinations_key_comes_after_the_requests_and_before_the_accounts() {
    let app = spawn_app().await;
    person(&app).await;
    let (account_gpg, account_key, account_fp) = recipient("account@example.com");
    let (dest_gpg, dest_key, dest_fp) = recipient("warehouse@example.com");
    set_account_key(&app, &account_key).await;
    let dir = tempfile::tempdir().unwrap();

    // A bad key is refused and nothing is stored.
    let bad =
        json!({"type": "local", "path": dir.path(), "encryption": {"pgp_public_key": "not a key"}});
    let response = create_destination(&app, bad).await;
    assert_eq!(
        error_code(response).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_encryption_key".into()
        )
    );
    let odd = json!({"type": "local", "path": dir.path(), "encryption": {"key": "x"}});
    assert_eq!(
        create_destination(&app, odd).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let listed = app.get_json(&app.api("/destinations")).await;
    assert_eq!(listed["data"], json!([]));

    let body = json!({"name": "vault", "type": "local", "path": dir.path(),
                      "encryption": {"pgp_public_key": dest_key}});
    let response = create_destination(&app, body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    assert_eq!(
        created["destination"]["encryption"],
        json!({"fingerprint": dest_fp})
    );
    assert!(
        !created.to_string().contains("BEGIN PGP"),
        "only the fingerprint"
    );
    let id = created["id"].as_str().unwrap().to_string();
    let shown = app.get_json(&app.api(&format!("/destinations/{id}"))).await;
    assert_eq!(shown["destination"]["encryption"]["fingerprint"], dest_fp);
    let trail = app
        .get_json(&app.api("/audit?action=destination.created"))
        .await;
    assert_eq!(trail["data"][0]["details"]["encrypted_to"], dest_fp);

    // No key in the request: the destination's, and the delivered file opens with it.
    let (job, bytes) = person_export(&app, json!({"delivery": id})).await;
    assert_eq!(job["encrypted_to"], dest_fp);
    decrypts_to_the_persons_document(&dest_gpg, &bytes);
    let export_id = job["export_id"].as_str().unwrap();
    let name = job["files"][0]["name"].as_str().unwrap();
    assert!(name.ends_with(".gpg"));
    let delivered = std::fs::read(dir.path().join(export_id).join(name)).unwrap();
    assert_eq!(delivered, bytes);
    let receipt = app
        .get_json(&app.api(&format!("/exports/{export_id}/receipt")))
        .await;
    assert_eq!(receipt["encrypted_to"], dest_fp);
    assert_eq!(receipt["delivery_method"], "local");

    // The request's key wins over the destination's.
    let (own_gpg, own, own_fp) = recipient("requester@example.com");
    let (job, bytes) = person_export(
        &app,
        json!({"delivery": id, "encryption": {"pgp_public_key": own}}),
    )
    .await;
    assert_eq!(job["encrypted_to"], own_fp);
    decrypts_to_the_persons_document(&own_gpg, &bytes);

    // A rename keeps the key; a bad new key changes nothing; null removes it, and then the
    // account's key applies.
    let rename = json!({"name": "vault 2"});
    let response = send(
        &app,
        "PATCH",
        &format!("/destinations/{id}"),
        &app.admin_key,
        Some(rename),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let renamed: Value = response.json().await.unwrap();
    assert_eq!(renamed["destination"]["encryption"]["fingerprint"], dest_fp);
    let bad = json!({"encryption": {"pgp_public_key": "nope"}});
    let response = send(
        &app,
        "PATCH",
        &format!("/destinations/{id}"),
        &app.admin_key,
        Some(bad),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let shown = app.get_json(&app.api(&format!("/destinations/{id}"))).await;
    assert_eq!(shown["destination"]["encryption"]["fingerprint"], dest_fp);
    let remove = json!({"encryption": null});
    let response = send(
        &app,
        "PATCH",
        &format!("/destinations/{id}"),
        &app.admin_key,
        Some(remove),
    )
    .await;
    let removed: Value = response.json().await.unwrap();
    assert_eq!(removed["destination"].get("encryption"), None, "{removed}");
    let (job, bytes) = person_export(&app, json!({"delivery": id})).await;
    assert_eq!(job["encrypted_to"], account_fp);
    decrypts_to_the_persons_document(&account_gpg, &bytes);

    // An inline destination may carry its own key too.
    let inline =
        json!({"type": "local", "path": dir.path(), "encryption": {"pgp_public_key": dest_key}});
    let (job, bytes) = person_export(&app, json!({"delivery": inline})).await;
    assert_eq!(job["encrypted_to"], dest_fp);
    decrypts_to_the_persons_document(&dest_gpg, &bytes);

    // A stored key that has expired since is refused when used, naming whose key it is.
    let (brief, _) = dest_gpg.key("brief@example.com", "ed25519", Some("cv25519"), "1d");
    let body =
        json!({"type": "local", "path": dir.path(), "encryption": {"pgp_public_key": brief}});
    let created: Value = create_destination(&app, body).await.json().await.unwrap();
    let brief_id = created["id"].as_str().unwrap();
    app.clock.advance(3 * 86_400 * 1000);
    let body = json!({"format": "json", "delivery": brief_id});
    let response = crate::exports::post(&app, "/users/user_123/export", body).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let answer: Value = response.json().await.unwrap();
    let message = answer["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("PATCH /destinations/{brief_id}")) && message.contains("expired"),
        "{message}"
    );
}

#[tokio::test]
async fn a_schedule_without_a_key_uses_its_destinations_then_the_accounts_and_cannot_opt_out() {
    let app = spawn_app().await;
    let (account_gpg, account_key, account_fp) = recipient("account@example.com");
    let (dest_gpg, dest_key, dest_fp) = recipient("warehouse@example.com");
    set_account_key(&app, &account_key).await;
    let dir = tempfile::tempdir().unwrap();
    let body =
        json!({"type": "local", "path": dir.path(), "encryption": {"pgp_public_key": dest_key}});
    let created: Value = create_destination(&app, body).await.json().await.unwrap();
    let destination = created["id"].as_str().unwrap();
    let starts = (chrono::Utc::now().date_naive() - chrono::Duration::days(1)).to_string();
    let refused = json!({"website_id": app.website, "frequency": "daily", "starts_on": starts,
                         "encryption": {"none": true}});
    let response = send(&app, "POST", "/schedules", &app.admin_key, Some(refused)).await;
    assert_eq!(
        error_code(response).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_encryption_key".into()
        )
    );
    for (with_destination, gpg, fingerprint) in [
        (Some(destination), &dest_gpg, &dest_fp),
        (None, &account_gpg, &account_fp),
    ] {
        let mut body = json!({"website_id": app.website, "frequency": "daily",
                              "include": ["pageviews"], "starts_on": starts});
        if let Some(d) = with_destination {
            body["destination_id"] = json!(d);
        }
        let schedule = crate::schedules::create(&app, body).await;
        let id = schedule["id"].as_str().unwrap();
        app.worker.enqueue_due_windows().await.unwrap();
        app.run_jobs().await;
        let runs = crate::schedules::show(&app, id).await["runs"].clone();
        let export_id = runs[0]["export_id"].as_str().unwrap();
        let job = app
            .get_json(&app.api(&format!("/exports/{export_id}")))
            .await;
        assert_eq!(job["status"], "completed", "{job}");
        assert_eq!(&job["encrypted_to"], fingerprint);
        let (_, encrypted) =
            crate::exports::fetch(&app, job["download_url"].as_str().unwrap(), None).await;
        let files = unzip(&gpg.decrypt(&encrypted));
        assert!(files.iter().any(|(n, _)| n == "manifest.json"));
    }
}

#[tokio::test]
async fn the_cli_sets_shows_and_removes_the_accounts_key_and_ferry_export_uses_it() {
    let dir = tempfile::tempdir().unwrap();
    crate::cli::one_person(dir.path()).await;
    let (gpg, armored, fingerprint) = recipient("cli@example.com");
    let key_file = dir.path().join("account.asc");
    std::fs::write(&key_file, armored).unwrap();
    let set = [
        "accounts",
        "encryption",
        "set",
        "acme",
        "--pgp-key",
        key_file.to_str().unwrap(),
    ];
    let (ok, out, err) = crate::cli::run(dir.path(), &set).await;
    assert!(ok, "{err}");
    assert_eq!(out, fingerprint);
    let (ok, out, _) =
        crate::cli::run(dir.path(), &["accounts", "encryption", "show", "acme"]).await;
    assert!(ok);
    assert_eq!(out, fingerprint);

    let sealed = dir.path().join("u1.json.gpg");
    let export = |out: &std::path::Path, extra: Option<&'static str>| {
        let mut args = vec![
            "export".to_string(),
            "--user".into(),
            "u1".into(),
            "-o".into(),
            out.to_str().unwrap().to_string(),
        ];
        args.extend(extra.map(str::to_string));
        args
    };
    let args = export(&sealed, None);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, _, err) = crate::cli::run(dir.path(), &args).await;
    assert!(ok, "{err}");
    let document: Value =
        serde_json::from_slice(&gpg.decrypt(&std::fs::read(&sealed).unwrap())).unwrap();
    assert_eq!(document["user"]["user_id"], "u1");

    let plain = dir.path().join("u1.json");
    let args = export(&plain, Some("--no-encryption"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, _, err) = crate::cli::run(dir.path(), &args).await;
    assert!(ok, "{err}");
    let document: Value = serde_json::from_slice(&std::fs::read(&plain).unwrap()).unwrap();
    assert_eq!(document["user"]["user_id"], "u1");

    let (ok, _, err) =
        crate::cli::run(dir.path(), &["accounts", "encryption", "remove", "acme"]).await;
    assert!(ok, "{err}");
    let (ok, out, _) =
        crate::cli::run(dir.path(), &["accounts", "encryption", "show", "acme"]).await;
    assert!(ok);
    assert_eq!(out, "");
    let (ok, _, err) =
        crate::cli::run(dir.path(), &["accounts", "encryption", "remove", "acme"]).await;
    assert!(!ok);
    assert!(err.contains("encryption_key_not_set"), "{err}");
}
