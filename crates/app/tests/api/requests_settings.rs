//! A request's assignee and notes, and the account's request settings.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{error_code, spawn_app};
use crate::requests::{id, receive, steps};

#[tokio::test]
async fn assignee_and_notes_change_on_the_record_and_in_the_timeline() {
    let app = spawn_app().await;
    let request = receive(&app, "ed@example.com", None).await;
    let one = app.api(&format!("/requests/{}", id(&request)));
    let patch = |body: Value| {
        app.client
            .patch(&one)
            .header("X-API-Key", &app.admin_key)
            .json(&body)
            .send()
    };
    let changed: Value = patch(json!({"assignee": "dpo", "notes": "called back"}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (changed["assignee"].as_str(), changed["notes"].as_str()),
        (Some("dpo"), Some("called back"))
    );
    let cleared: Value = patch(json!({"notes": ""}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["notes"], Value::Null);
    assert_eq!(cleared["assignee"], "dpo");
    let response = patch(json!({})).await.unwrap();
    assert_eq!(
        error_code(response).await,
        (StatusCode::BAD_REQUEST, "missing_field".into())
    );
    let shown = app.get_json(&one).await;
    assert_eq!(steps(&shown), ["received", "updated", "updated"]);
    assert_eq!(
        shown["timeline"][1]["details"]["fields"],
        json!(["assignee", "notes"])
    );
}

#[tokio::test]
async fn settings_change_the_rule_and_holidays_of_requests_received_afterwards() {
    let app = spawn_app().await;
    let defaults = app.get_json(&app.api("/requests/settings")).await;
    assert_eq!(
        defaults,
        json!({"due_rule": "earlier_of", "holidays": [], "clock_runs_while_unverified": true,
               "escalate_days": 7, "privacy_contact": null, "require_approval": false,
               "delivery_link_days": 7, "suppress_erased": false, "privacy_page": true})
    );
    let put = |body: Value| {
        app.client
            .put(app.api("/requests/settings"))
            .header("X-API-Key", &app.admin_key)
            .json(&body)
            .send()
    };
    for bad in [
        json!({"due_rule": "forty_days"}),
        json!({"holidays": ["2026-02-30"]}),
        json!({"escalate_days": 61}),
        json!({"privacy_contact": "nobody"}),
        json!({"holidays": vec!["2026-01-01"; 401]}),
        json!({"delivery_link_days": 0}),
        json!({"delivery_link_days": 31}),
    ] {
        let response = put(bad.clone()).await.unwrap();
        assert_eq!(
            error_code(response).await,
            (StatusCode::BAD_REQUEST, "invalid_value".into()),
            "{bad}"
        );
    }
    assert_eq!(
        app.get_json(&app.api("/requests/settings")).await,
        defaults,
        "refusals change nothing"
    );

    // 2025-12-24 under calendar_month is due Saturday 24 January → Monday 26; a holiday
    // that Monday moves it to Tuesday.
    let set: Value = put(
        json!({"due_rule": "calendar_month", "holidays": ["2026-01-26"],
                                "privacy_contact": "DPO@example.com"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(set["privacy_contact"], "dpo@example.com");
    assert_eq!(
        set["escalate_days"], 7,
        "unchanged fields keep their values"
    );
    let request = receive(&app, "fa@example.com", Some("2025-12-24")).await;
    assert_eq!(request["due_rule"], "calendar_month");
    assert_eq!(request["due_on"], "2026-01-27");
}
