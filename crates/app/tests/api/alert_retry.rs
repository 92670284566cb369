//! An alert whose webhook is down when the delivery fails for good is retried with the
//! deliveries' back-off until the receiver answers, and the mail, which went through at once,
//! is not sent again.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ferry_domain::queue::{DELIVERY_ATTEMPTS, DELIVERY_BACKOFF_MS};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::alert_email::{put_alert_email, unique_address, with_relay};
use crate::delivery::{SECRET, s3, set_webhook};
use crate::exports::{person, post};
use crate::helpers::*;
use crate::requests_verification::mails_to;

/// A receiver that answers 503 to its first `failures` requests, then 200; counts them all.
async fn flaky_receiver(failures: usize) -> (String, Arc<AtomicUsize>) {
    let seen = Arc::new(AtomicUsize::new(0));
    let count = seen.clone();
    let router = axum::Router::new().route(
        "/alerts",
        axum::routing::post(move || {
            let count = count.clone();
            async move {
                if count.fetch_add(1, Ordering::SeqCst) < failures {
                    axum::http::StatusCode::SERVICE_UNAVAILABLE
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/alerts", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, seen)
}

fn alert_jobs(ran: &[ferry::jobs::JobEvent]) -> usize {
    ran.iter().filter(|e| e.kind.name() == "alert").count()
}

#[tokio::test]
async fn a_webhook_that_is_down_gets_the_alert_later_and_the_mail_goes_once() {
    let app = spawn_app_with(with_relay()).await;
    person(&app).await;
    let to = unique_address("alert-retry");
    let set = put_alert_email(&app, &app.admin_key, json!({"to": to})).await;
    assert_eq!(set.status(), StatusCode::OK);
    let (url, received) = flaky_receiver(2).await;
    set_webhook(&app, &url).await;

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = s3("ferry-test", &format!("http://127.0.0.1:{port}"), SECRET);
    let queued = post(
        &app,
        "/users/user_123/export",
        json!({"format": "json", "delivery": down}),
    )
    .await;
    assert_eq!(queued.status(), StatusCode::ACCEPTED);
    let id = queued.json::<Value>().await.unwrap()["export_id"]
        .as_str()
        .unwrap()
        .to_string();
    app.run_jobs().await;
    // Every attempt of the delivery, each after its back-off; the last fails it for good.
    for n in 1..DELIVERY_ATTEMPTS {
        app.clock.advance(DELIVERY_BACKOFF_MS << (n - 1));
        app.run_jobs().await;
    }
    let job = app.get_json(&app.api(&format!("/exports/{id}"))).await;
    assert_eq!(job["delivery"]["status"], "failed", "{job}");

    // The last failure ran both channels: the mail went, the webhook answered 503.
    assert_eq!(received.load(Ordering::SeqCst), 1, "the webhook was tried");
    assert_eq!(mails_to(&to).len(), 1, "the mail went at once");

    // Its retry waits the first back-off, then the receiver refuses once more.
    app.clock.advance(DELIVERY_BACKOFF_MS - 1000);
    assert_eq!(
        alert_jobs(&app.run_jobs().await),
        0,
        "not before its back-off"
    );
    app.clock.advance(1000);
    assert_eq!(alert_jobs(&app.run_jobs().await), 1);
    assert_eq!(received.load(Ordering::SeqCst), 2);
    // The next waits twice as long; then the receiver takes it.
    app.clock.advance(2 * DELIVERY_BACKOFF_MS);
    assert_eq!(alert_jobs(&app.run_jobs().await), 1);
    assert_eq!(
        received.load(Ordering::SeqCst),
        3,
        "delivered on the third try"
    );

    // Nothing more: the webhook job is done, and the mail was never sent again.
    app.clock.advance(100 * DELIVERY_BACKOFF_MS);
    assert_eq!(alert_jobs(&app.run_jobs().await), 0);
    assert_eq!(received.load(Ordering::SeqCst), 3);
    assert_eq!(
        mails_to(&to).len(),
        1,
        "one mail, however often the webhook was tried"
    );
    let audit: Value = app
        .get_json(&app.api("/audit?action=data_export.delivery_failed"))
        .await;
    assert_eq!(audit["data"].as_array().unwrap().len(), 1, "{audit}");
}
