//! Data-subject requests over HTTP: receipt with its legal due date, linking, the status
//! machine's refusals, scopes, another account's requests, settings, and the audit trail.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, spawn_app};

pub async fn post_with(app: &TestApp, key: &str, path: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.api(path))
        .header("X-API-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// POST with the admin key, asserting `status`, returning the JSON.
pub async fn post_ok(app: &TestApp, path: &str, body: Value, status: StatusCode) -> Value {
    let response = post_with(app, &app.admin_key, path, body).await;
    assert_eq!(response.status(), status, "POST {path}");
    response.json().await.unwrap()
}

/// A request received now (or `received_at`), asserting 201.
pub async fn receive(app: &TestApp, email: &str, received_at: Option<&str>) -> Value {
    let mut body = json!({"type": "access", "subject_email": email});
    if let Some(at) = received_at {
        body["received_at"] = json!(at);
    }
    post_ok(app, "/requests", body, StatusCode::CREATED).await
}

pub fn id(request: &Value) -> String {
    request["id"].as_str().unwrap().to_string()
}

/// An address no other test (or earlier run) sends to.
pub fn unique_email(name: &str) -> String {
    format!(
        "{name}-{}-{}@example.com",
        std::process::id(),
        ferry::keys::random_id("", 4)
    )
}

pub fn steps(request: &Value) -> Vec<String> {
    request["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_request_is_received_with_the_laws_due_date_and_its_timeline() {
    let app = spawn_app().await;
    // Received 31 January of a leap year: one calendar month is 29 February.
    let created = receive(&app, "Ann@Example.com", Some("2024-01-31")).await;
    assert!(id(&created).starts_with("req_"), "{created}");
    assert_eq!(created["status"], "received");
    assert_eq!(created["type"], "access");
    assert_eq!(created["subject"]["email"], "ann@example.com");
    assert_eq!(created["received_on"], "2024-01-31");
    assert_eq!(created["due_on"], "2024-02-29");
    assert_eq!(created["due_rule"], "earlier_of");
    assert_eq!(created["overdue"], true, "long past");
    assert!(created["days_left"].as_i64().unwrap() < -900);
    assert_eq!(created["verification"]["state"], "none");
    assert_eq!(
        created["allowed_actions"],
        json!(["send_verification", "verify", "reject", "cancel"])
    );

    let shown = app
        .get_json(&app.api(&format!("/requests/{}", id(&created))))
        .await;
    assert_eq!(steps(&shown), ["received"]);
    let step = &shown["timeline"][0];
    assert!(
        step["actor"].as_str().unwrap().starts_with("key_"),
        "{step}"
    );
    assert_eq!(step["details"]["due_on"], "2024-02-29");

    // Audited under the person, as exports are, by request id in the details.
    let audit = app
        .get_json(&app.api("/audit?action=request&subject=ann@example.com"))
        .await;
    let entries = audit["data"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert_eq!(entries[0]["action"], "request.received");
    assert_eq!(entries[0]["details"]["request_id"], created["id"]);
}

#[tokio::test]
async fn a_second_request_of_the_same_person_while_one_is_open_is_linked_not_lost() {
    let app = spawn_app().await;
    let first = receive(&app, "bo@example.com", None).await;
    let second = receive(&app, "BO@example.com", None).await;
    assert_ne!(first["id"], second["id"]);
    assert_eq!(second["linked_to"], first["id"]);
    let list = app.get_json(&app.api("/requests")).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 2, "both kept");

    let body = json!({"reason": "duplicate"});
    post_ok(
        &app,
        &format!("/requests/{}/cancel", id(&first)),
        body.clone(),
        StatusCode::OK,
    )
    .await;
    post_ok(
        &app,
        &format!("/requests/{}/cancel", id(&second)),
        body,
        StatusCode::OK,
    )
    .await;
    let third = receive(&app, "bo@example.com", None).await;
    assert_eq!(third["linked_to"], Value::Null, "nothing open to link to");
}

#[tokio::test]
async fn the_status_machine_refuses_illegal_steps_with_409_and_says_what_is_allowed() {
    let app = spawn_app().await;
    let request = receive(&app, "cy@example.com", None).await;
    let path = |action: &str| format!("/requests/{}/{action}", id(&request));

    let response = post_with(&app, &app.admin_key, &path("close"), json!({})).await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::CONFLICT, "illegal_transition".into())
    );
    let response = post_with(&app, &app.admin_key, &path("start"), json!({})).await;
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("it can send_verification, verify, reject, cancel"),
        "{body}"
    );
    // A rejection owes the subject a reason.
    let response = post_with(&app, &app.admin_key, &path("reject"), json!({})).await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::BAD_REQUEST, "missing_field".into())
    );

    let rejected = post_ok(
        &app,
        &path("reject"),
        json!({"reason": "not our customer"}),
        StatusCode::OK,
    )
    .await;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["allowed_actions"], json!([]));
    let response = post_with(&app, &app.admin_key, &path("cancel"), json!({})).await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "illegal_transition");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("rejected is final"),
        "{body}"
    );

    let shown = app
        .get_json(&app.api(&format!("/requests/{}", id(&request))))
        .await;
    assert_eq!(
        steps(&shown),
        ["received", "rejected"],
        "refusals change nothing"
    );
    assert_eq!(
        shown["timeline"][1]["details"]["reason"],
        "not our customer"
    );
    assert_eq!(shown["overdue"], false, "a rejected request owes nothing");
}

#[tokio::test]
async fn bad_input_is_refused_with_a_code_and_creates_nothing() {
    let app = spawn_app().await;
    let cases = [
        (
            json!({"type": "deletion", "subject_email": "a@example.com"}),
            StatusCode::BAD_REQUEST,
            "invalid_value",
        ),
        (
            json!({"type": "access", "subject_email": "not-an-email"}),
            StatusCode::BAD_REQUEST,
            "invalid_value",
        ),
        (
            json!({"type": "access", "subject_email": "a@example.com, b@example.com"}),
            StatusCode::BAD_REQUEST,
            "invalid_value",
        ),
        (
            json!({"type": "access", "subject_email": "a@example.com", "received_at": "2999-01-01"}),
            StatusCode::BAD_REQUEST,
            "invalid_timestamp",
        ),
        (
            json!({"type": "access", "subject_email": "a@example.com", "received_at": "yesterday"}),
            StatusCode::BAD_REQUEST,
            "invalid_timestamp",
        ),
        (
            json!({"type": "access", "subject_email": "a@example.com", "colour": "red"}),
            StatusCode::BAD_REQUEST,
            "unknown_field",
        ),
        (
            json!({"type": "access"}),
            StatusCode::BAD_REQUEST,
            "missing_field",
        ),
        (
            json!({"type": "access", "subject_email": "a@example.com", "notes": "x".repeat(10_001)}),
            StatusCode::BAD_REQUEST,
            "invalid_value",
        ),
        (
            json!({"type": "access", "subject_email": format!("{}@example.com", "a".repeat(300))}),
            StatusCode::BAD_REQUEST,
            "invalid_value",
        ),
    ];
    for (body, status, code) in cases {
        let response = post_with(&app, &app.admin_key, "/requests", body.clone()).await;
        assert_eq!(
            error_code(response).await,
            (status, code.to_string()),
            "{body}"
        );
    }
    let list = app.get_json(&app.api("/requests")).await;
    assert_eq!(list["data"], json!([]));
    for query in [
        "status=open",
        "due_before=soon",
        "limit=0",
        "limit=1001",
        "overdue=maybe",
    ] {
        let response = app
            .get_with(&app.admin_key, &app.api(&format!("/requests?{query}")))
            .await;
        assert_eq!(
            error_code(response).await,
            (StatusCode::BAD_REQUEST, "invalid_query".into()),
            "{query}"
        );
    }
}

#[tokio::test]
async fn requests_need_their_own_scopes_and_another_account_never_sees_them() {
    let app = spawn_app().await;
    let request = receive(&app, "di@example.com", None).await;
    let one = format!("/requests/{}", id(&request));

    // Export and analytics keys hold no right to people's requests.
    let exporter = app
        .key_with("exports:read,exports:write,analytics:read")
        .await;
    for path in ["/requests", one.as_str(), "/requests/settings"] {
        let response = app.get_with(&exporter, &app.api(path)).await;
        assert_eq!(
            error_code(response).await,
            (StatusCode::FORBIDDEN, "insufficient_scope".into()),
            "{path}"
        );
    }
    let reader = app.key_with("requests:read").await;
    assert_eq!(
        app.get_with(&reader, &app.api(&one)).await.status(),
        StatusCode::OK
    );
    let response = post_with(
        &app,
        &reader,
        "/requests",
        json!({"type": "access", "subject_email": "x@example.com"}),
    )
    .await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::FORBIDDEN, "insufficient_scope".into())
    );
    let response = post_with(&app, &reader, &format!("{one}/cancel"), json!({})).await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::FORBIDDEN, "insufficient_scope".into())
    );
    // Settings are the admin's.
    let writer = app.key_with("requests:read,requests:write").await;
    let response = app
        .client
        .put(app.api("/requests/settings"))
        .header("X-API-Key", &writer)
        .json(&json!({"escalate_days": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(response).await,
        (StatusCode::FORBIDDEN, "insufficient_scope".into())
    );

    let (other, _) = app.other_account().await;
    let response = app.get_with(&other, &app.api(&one)).await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::NOT_FOUND, "request_not_found".into())
    );
    for action in ["cancel", "reject", "verify", "extend", "start"] {
        let body = match action {
            "verify" => json!({"code": "12345678"}),
            "extend" => json!({"months": 1, "reason": "r"}),
            _ => json!({"reason": "r"}),
        };
        let response = post_with(&app, &other, &format!("{one}/{action}"), body).await;
        assert_eq!(
            error_code(response).await,
            (StatusCode::NOT_FOUND, "request_not_found".into()),
            "{action}"
        );
    }
    let response = app
        .client
        .patch(app.api(&one))
        .header("X-API-Key", &other)
        .json(&json!({"notes": "mine now"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(response).await,
        (StatusCode::NOT_FOUND, "request_not_found".into())
    );
    let theirs = app
        .get_with(&other, &app.api("/requests"))
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(theirs["data"], json!([]));
    let mine = app.get_json(&app.api(&one)).await;
    assert_eq!(
        steps(&mine),
        ["received"],
        "nothing the other account sent changed it"
    );
    assert_eq!(mine["notes"], Value::Null);
}
