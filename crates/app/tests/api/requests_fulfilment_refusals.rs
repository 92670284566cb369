//! Fulfilment's refusals: an unverified request never produces an export, an erasure
//! request is answered by erasing (no export), approval is an admin's and no other account's, bad
//! options and forged links change nothing.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::error_code;
use crate::requests::{id, post_ok, post_with, unique_email};
use crate::requests_fulfilment::{exports, path, person, ready_mails, show, verified};
use crate::requests_verification::app_with_mail;

#[tokio::test]
async fn an_unverified_request_never_produces_an_export() {
    let app = app_with_mail().await;
    let email = unique_email("unverified");
    person(&app, &email).await;
    let body = json!({"type": "access", "subject_email": email});
    let received = post_ok(&app, "/requests", body, StatusCode::CREATED).await;
    assert!(show(&app, &received).await["identities"].is_null());
    for stage in ["received", "verification_sent"] {
        if stage == "verification_sent" {
            let path = path(&received, "verification");
            post_ok(&app, &path, json!({}), StatusCode::ACCEPTED).await;
        }
        for action in ["fulfil", "approve", "close"] {
            let response =
                post_with(&app, &app.admin_key, &path(&received, action), json!({})).await;
            assert_eq!(
                error_code(response).await,
                (StatusCode::CONFLICT, "illegal_transition".into()),
                "{action} from {stage}"
            );
        }
        // `start` moves nothing out of an unverified status either.
        let response = post_with(&app, &app.admin_key, &path(&received, "start"), json!({})).await;
        assert_eq!(
            response.status(),
            StatusCode::CONFLICT,
            "start from {stage}"
        );
        app.run_jobs().await;
        assert!(exports(&app).await.is_empty(), "{stage}");
    }
    assert!(app.worker.enqueue_request_deliveries().await.unwrap() == 0);
    assert!(ready_mails(&email).is_empty());
}

#[tokio::test]
async fn an_erasure_request_is_answered_by_erasing_not_with_an_export() {
    let app = app_with_mail().await;
    let email = unique_email("erase");
    person(&app, &email).await;
    let request = verified(&app, &email, "erasure").await;
    let response = post_with(&app, &app.admin_key, &path(&request, "fulfil"), json!({})).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(show(&app, &request).await["status"], "in_progress");
    app.run_jobs().await;
    assert!(exports(&app).await.is_empty());
    assert_eq!(show(&app, &request).await["status"], "delivered");
}

#[tokio::test]
async fn only_the_accounts_admin_can_approve_and_no_other_account_can_touch_it() {
    let app = app_with_mail().await;
    let email = unique_email("tenant");
    person(&app, &email).await;
    let settings = json!({"require_approval": true});
    app.client
        .put(app.api("/requests/settings"))
        .header("X-API-Key", &app.admin_key)
        .json(&settings)
        .send()
        .await
        .unwrap();
    let request = verified(&app, &email, "access").await;
    let (other, _) = app.other_account().await;
    for action in ["fulfil", "approve"] {
        let response = post_with(&app, &other, &path(&request, action), json!({})).await;
        assert_eq!(
            error_code(response).await,
            (StatusCode::NOT_FOUND, "request_not_found".into()),
            "{action}"
        );
    }
    let writer = app.key_with("requests:read,requests:write").await;
    post_ok(&app, &path(&request, "fulfil"), json!({}), StatusCode::OK).await;
    let response = post_with(&app, &writer, &path(&request, "approve"), json!({})).await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::FORBIDDEN, "insufficient_scope".into())
    );
    // Nor can it get round the approval by asking again.
    let response = post_with(&app, &writer, &path(&request, "fulfil"), json!({})).await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::CONFLICT, "illegal_transition".into())
    );
    assert_eq!(show(&app, &request).await["status"], "awaiting_approval");
    assert!(exports(&app).await.is_empty());
}

#[tokio::test]
async fn a_bad_key_is_refused_before_anything_changes() {
    let app = app_with_mail().await;
    let email = unique_email("badkey");
    person(&app, &email).await;
    let request = verified(&app, &email, "access").await;
    for bad in [
        json!({"encryption": {"pgp_public_key": "not a key"}}),
        json!({"encryption": {}}),
        json!({"one_time": "yes"}),
        json!({"format": "xml"}),
    ] {
        let response =
            post_with(&app, &app.admin_key, &path(&request, "fulfil"), bad.clone()).await;
        let (status, code) = error_code(response).await;
        assert!(status.is_client_error(), "{bad}: {status} {code}");
    }
    let shown = show(&app, &request).await;
    assert_eq!(shown["status"], "verified");
    assert!(exports(&app).await.is_empty());
}

#[tokio::test]
async fn the_received_link_tells_nothing_for_a_forged_token() {
    let app = app_with_mail().await;
    let email = unique_email("forged");
    person(&app, &email).await;
    let request = verified(&app, &email, "access").await;
    let base = app.url("/privacy/received/");
    // Before delivery even the real link confirms nothing.
    let early = format!("{base}{}", ferry::keys::random_id("", 8));
    assert_eq!(
        app.client.post(&early).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    post_ok(&app, &path(&request, "fulfil"), json!({}), StatusCode::OK).await;
    app.run_jobs().await;
    assert_eq!(show(&app, &request).await["status"], "delivered");
    // A forged MAC for a real request, garbage, and an overlong token: the same page.
    let forged = format!(
        "{base}{}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        id(&request)
    );
    let long = format!("{base}{}", "a".repeat(5000));
    let mut pages = Vec::new();
    for url in [forged.as_str(), &format!("{base}nonsense"), &long] {
        let got = app.client.post(url).send().await.unwrap();
        assert_eq!(got.status(), StatusCode::NOT_FOUND, "{url}");
        pages.push(got.text().await.unwrap());
    }
    assert!(pages.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(
        show(&app, &request).await["status"],
        "delivered",
        "a forged MAC for a delivered request confirms nothing"
    );
}

#[tokio::test]
async fn an_email_that_resolves_to_nobody_is_told_so_and_nothing_changes() {
    let app = app_with_mail().await;
    let email = unique_email("nobody");
    let request = verified(&app, &email, "access").await;
    assert_eq!(show(&app, &request).await["identities"], json!([]));
    let response = post_with(&app, &app.admin_key, &path(&request, "fulfil"), json!({})).await;
    let (status, code) = error_code(response).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::NOT_FOUND, "subject_not_found")
    );
    let shown = show(&app, &request).await;
    assert_eq!(shown["status"], "verified");
    assert!(shown["fulfilment"].is_null());
    assert!(exports(&app).await.is_empty());
}

#[tokio::test]
async fn without_a_mail_relay_fulfilment_is_refused_before_anything_changes() {
    let app = crate::helpers::spawn_app().await;
    let body = json!({"type": "access", "subject_email": unique_email("norelay")});
    let request = post_ok(&app, "/requests", body, StatusCode::CREATED).await;
    let response = post_with(&app, &app.admin_key, &path(&request, "fulfil"), json!({})).await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::CONFLICT, "mail_relay_not_configured".into())
    );
    assert_eq!(show(&app, &request).await["status"], "received");
}
