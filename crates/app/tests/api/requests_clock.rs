//! Verification's edges: no relay, the public link's rate limit, and the clock that stands
//! still while the subject is unverified (when the account says so).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{error_code, spawn_app};
use crate::requests::{id, post_ok, post_with, receive, steps, unique_email};
use crate::requests_verification::{app_with_mail, code_and_link, verify};

#[tokio::test]
async fn without_a_relay_a_verification_is_refused_before_anything_changes() {
    let app = spawn_app().await;
    let request = receive(&app, "gus@example.com", None).await;
    let response = post_with(
        &app,
        &app.admin_key,
        &format!("/requests/{}/verification", id(&request)),
        json!({}),
    )
    .await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::CONFLICT, "mail_relay_not_configured".into())
    );
    let response = verify(&app, &request, "12345678").await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::CONFLICT, "verification_not_sent".into())
    );
    let shown = app
        .get_json(&app.api(&format!("/requests/{}", id(&request))))
        .await;
    assert_eq!(steps(&shown), ["received"]);
}

#[tokio::test]
async fn the_public_link_is_rate_limited_per_client() {
    let app = spawn_app().await;
    let link = app.url("/privacy/verify/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    for _ in 0..ferry::api::privacy_verify::PRIVACY_RATE_PER_MINUTE {
        assert_eq!(
            app.client.get(&link).send().await.unwrap().status(),
            StatusCode::NOT_FOUND
        );
    }
    let refused = app.client.post(&link).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn with_the_clock_stopped_while_unverified_the_due_date_moves_by_the_paused_days() {
    let app = app_with_mail().await;
    let response = app
        .client
        .put(app.api("/requests/settings"))
        .header("X-API-Key", &app.admin_key)
        .json(&json!({"clock_runs_while_unverified": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let today = chrono::DateTime::from_timestamp_millis(ferry::clock::Clock::now(&app.clock))
        .unwrap()
        .date_naive();
    let received = today - chrono::Days::new(3);
    let email = unique_email("paused");
    let request = receive(&app, &email, Some(&received.to_string())).await;
    let deadline = |paused: u32| {
        ferry_domain::request::Deadline {
            received_on: received,
            rule: ferry_domain::request::DueRule::EarlierOf,
            paused_days: paused,
            extension_months: 0,
        }
        .due_on(&[])
        .to_string()
    };
    assert_eq!(
        request["clock"],
        json!({"runs_while_unverified": false, "stopped": true, "paused_days": 3})
    );
    assert_eq!(request["due_on"], deadline(3));

    post_ok(
        &app,
        &format!("/requests/{}/verification", id(&request)),
        json!({}),
        StatusCode::ACCEPTED,
    )
    .await;
    app.run_jobs().await;
    let (code, _) = code_and_link(&email);
    app.clock.advance(3_600_000);
    let verified: Value = verify(&app, &request, &code).await.json().await.unwrap();
    assert_eq!(verified["status"], "verified");
    // Fixed at verification: later days count.
    app.clock.advance(5 * 86_400_000);
    let shown = app
        .get_json(&app.api(&format!("/requests/{}", id(&request))))
        .await;
    assert_eq!(shown["clock"]["stopped"], false);
    let paused = shown["clock"]["paused_days"].as_u64().unwrap() as u32;
    assert!(paused == 3 || paused == 4, "{shown}");
    assert_eq!(shown["due_on"], deadline(paused));
}

/// Thirty wrong codes at once: every verdict told was counted first, so racing buys no more
/// than the five attempts (the others are told `conflict`, with no verdict, or `locked`).
#[tokio::test]
async fn wrong_codes_sent_all_at_once_get_no_more_verdicts_than_attempts() {
    let app = app_with_mail().await;
    let email = unique_email("race");
    let request = crate::requests_verification::sent(&app, &email).await;
    let (code, _) = code_and_link(&email);
    let wrong = if code.starts_with('1') { "2" } else { "1" }.to_string() + &code[1..];
    let attempts = (0..30).map(|_| verify(&app, &request, &wrong));
    let mut codes = Vec::new();
    for response in futures_util::future::join_all(attempts).await {
        let body: Value = response.json().await.unwrap();
        codes.push(body["error"]["code"].as_str().unwrap().to_string());
    }
    let invalid = codes
        .iter()
        .filter(|c| *c == "verification_code_invalid")
        .count();
    assert!(invalid <= 4, "{codes:?}");
    assert!(
        codes.iter().all(|c| [
            "verification_code_invalid",
            "verification_locked",
            "conflict"
        ]
        .contains(&c.as_str())),
        "{codes:?}"
    );
    let shown = app
        .get_json(&app.api(&format!("/requests/{}", id(&request))))
        .await;
    let used = 5 - shown["verification"]["attempts_left"].as_u64().unwrap() as usize;
    let failed_steps = steps(&shown)
        .iter()
        .filter(|s| s.starts_with("verification_failed") || *s == "verification_locked")
        .count();
    assert_eq!(
        used, failed_steps,
        "every counted attempt is on the timeline"
    );
    assert_eq!(
        invalid,
        used.min(4),
        "each verdict told was a counted attempt: {codes:?}"
    );
}
