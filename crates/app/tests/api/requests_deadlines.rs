//! Extensions (Art. 12(3): two further months at most, with a reason mailed to the subject)
//! and escalations (mailed to the privacy contact once per threshold), under the injected
//! clock and through the real SMTP relay.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code};
use crate::requests::{id, post_ok, post_with, receive, unique_email};
use crate::requests_verification::{app_with_mail, mails_to};

const DAY: i64 = 86_400_000;

fn today(app: &TestApp) -> chrono::NaiveDate {
    chrono::DateTime::from_timestamp_millis(ferry::clock::Clock::now(&app.clock))
        .unwrap()
        .date_naive()
}

async fn extend(app: &TestApp, request: &Value, body: Value) -> reqwest::Response {
    post_with(
        app,
        &app.admin_key,
        &format!("/requests/{}/extend", id(request)),
        body,
    )
    .await
}

#[tokio::test]
async fn an_extension_needs_a_reason_mails_the_subject_and_stops_at_two_months() {
    let app = app_with_mail().await;
    let email = unique_email("extend");
    let request = receive(&app, &email, None).await;
    for (body, status, code) in [
        (
            json!({"months": 1}),
            StatusCode::BAD_REQUEST,
            "missing_field",
        ),
        (
            json!({"months": 1, "reason": "  "}),
            StatusCode::BAD_REQUEST,
            "missing_field",
        ),
        (
            json!({"months": 3, "reason": "busy"}),
            StatusCode::BAD_REQUEST,
            "invalid_value",
        ),
        (
            json!({"months": 0, "reason": "busy"}),
            StatusCode::BAD_REQUEST,
            "invalid_value",
        ),
        (
            json!({"days": 30, "reason": "busy"}),
            StatusCode::BAD_REQUEST,
            "unknown_field",
        ),
    ] {
        let response = extend(&app, &request, body.clone()).await;
        assert_eq!(
            error_code(response).await,
            (status, code.to_string()),
            "{body}"
        );
    }
    let reason = "the request covers ten years of records";
    let once: Value = extend(&app, &request, json!({"months": 1, "reason": reason}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(once["extension"], json!({"months": 1, "max_months": 2}));
    let expected = ferry_domain::request::Deadline {
        received_on: today(&app),
        rule: ferry_domain::request::DueRule::EarlierOf,
        paused_days: 0,
        extension_months: 1,
    }
    .due_on(&[]);
    assert_eq!(once["due_on"], expected.to_string());

    let response = extend(&app, &request, json!({"months": 2, "reason": reason})).await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "extension_limit".into())
    );
    let twice: Value = extend(&app, &request, json!({"months": 1, "reason": "still more"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(twice["extension"]["months"], 2);
    let response = extend(&app, &request, json!({"months": 1, "reason": reason})).await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "extension_limit".into())
    );

    app.run_jobs().await;
    let mails = mails_to(&email);
    assert_eq!(mails.len(), 2, "one notice per extension");
    let body = mails[0]["body"].as_str().unwrap();
    assert!(
        body.contains(reason) && body.contains(&expected.to_string()),
        "{body}"
    );
    assert!(body.contains("Article 12(3)"), "{body}");

    // A request that owes nothing any more cannot be extended.
    post_ok(
        &app,
        &format!("/requests/{}/cancel", id(&request)),
        json!({}),
        StatusCode::OK,
    )
    .await;
    let other = receive(&app, &unique_email("closed"), None).await;
    post_ok(
        &app,
        &format!("/requests/{}/cancel", id(&other)),
        json!({}),
        StatusCode::OK,
    )
    .await;
    let response = extend(&app, &other, json!({"months": 1, "reason": reason})).await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::CONFLICT, "illegal_transition".into())
    );
}

#[tokio::test]
async fn escalations_are_mailed_to_the_privacy_contact_once_per_threshold() {
    let app = app_with_mail().await;
    let contact = unique_email("dpo");
    let response = app
        .client
        .put(app.api("/requests/settings"))
        .header("X-API-Key", &app.admin_key)
        .json(&json!({"privacy_contact": contact, "escalate_days": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let subject = unique_email("late");
    // 25 days ago: due in 5 days (7 at most, when it falls on a weekend).
    let received = today(&app) - chrono::Days::new(25);
    let request = receive(&app, &subject, Some(&received.to_string())).await;
    let calm = receive(&app, &unique_email("calm"), None).await;
    assert!(request["days_left"].as_i64().unwrap() <= 7, "{request}");

    let soon = app
        .get_json(&app.api(&format!(
            "/requests?due_before={}",
            today(&app) + chrono::Days::new(7)
        )))
        .await;
    let ids: Vec<&str> = soon["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [id(&request)],
        "due within the week: only the late one"
    );

    for _ in 0..3 {
        app.worker.enqueue_request_escalations().await.unwrap();
        app.run_jobs().await;
    }
    let mails = mails_to(&contact);
    assert_eq!(mails.len(), 1, "due_soon, once");
    let body = mails[0]["body"].as_str().unwrap();
    assert!(
        body.contains(&id(&request)) && !body.contains(&subject),
        "names the request, not the person: {body}"
    );

    app.clock.advance(10 * DAY);
    let overdue = app.get_json(&app.api("/requests?overdue=true")).await;
    assert_eq!(overdue["data"].as_array().unwrap().len(), 1, "{overdue}");
    assert_eq!(overdue["data"][0]["id"], request["id"]);
    for _ in 0..3 {
        app.worker.enqueue_request_escalations().await.unwrap();
        app.run_jobs().await;
    }
    let mails = mails_to(&contact);
    assert_eq!(mails.len(), 2, "then overdue, once");
    assert!(mails[1]["body"].as_str().unwrap().contains("is overdue"));

    // An extension starts the thresholds anew; a request answered is never escalated.
    post_ok(
        &app,
        &format!("/requests/{}/cancel", id(&calm)),
        json!({}),
        StatusCode::OK,
    )
    .await;
    let extended: Value = extend(&app, &request, json!({"months": 2, "reason": "complex"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(extended["overdue"], false);
    app.clock.advance(60 * DAY);
    for _ in 0..2 {
        app.worker.enqueue_request_escalations().await.unwrap();
        app.run_jobs().await;
    }
    assert_eq!(
        mails_to(&contact).len(),
        3,
        "overdue again, after the extension"
    );
    let shown = app
        .get_json(&app.api(&format!("/requests/{}", id(&request))))
        .await;
    let escalations = shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["details"]["mail"] == "escalation")
        .count();
    assert_eq!(escalations, 3, "each escalation is on the timeline");
}
