//! The request page's Fulfil and Approve over HTTP, through the real SMTP relay: the same
//! service functions as `POST /requests/{id}/fulfil` and `/approve`, audited with the user's
//! email; approval is an admin's; each refusal is shown on the page and changes nothing.

use ferry_store::DashboardRole;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{Signed, add_user, add_user_as, login};
use crate::helpers::{TestApp, spawn_app};
use crate::requests::{id, receive, steps, unique_email};
use crate::requests_fulfilment::{exports, person, ready_mails, show};
use crate::requests_verification::{app_with_mail, code_and_link};

const QUEUE: &str = "/settings/privacy/requests";

async fn require_approval(app: &TestApp) {
    let response = app
        .client
        .put(app.api("/requests/settings"))
        .header("X-API-Key", &app.admin_key)
        .json(&json!({"require_approval": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

async fn step(
    signed: &Signed,
    request: &Value,
    action: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    signed
        .post(&format!("{QUEUE}/{}/{action}", id(request)), form, true)
        .await
}

#[tokio::test]
async fn send_verification_enter_the_code_fulfil_and_approve_from_the_page_mail_the_subject_their_data()
 {
    let app = app_with_mail().await;
    add_user(app.store.as_ref(), "acme", "admin@company.com").await;
    add_user_as(
        app.store.as_ref(),
        "acme",
        "member@company.com",
        DashboardRole::Member,
    )
    .await;
    require_approval(&app).await;
    let email = unique_email("dash-fulfil");
    person(&app, &email).await;
    let request = receive(&app, &email, None).await;
    let admin = login(&app.base, "admin@company.com").await;
    let member = login(&app.base, "member@company.com").await;

    let sent = step(&admin, &request, "verification", &[]).await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    app.run_jobs().await;
    let (code, _) = code_and_link(&email);
    let verified = step(&admin, &request, "verify", &[("code", &code)]).await;
    assert_eq!(verified.status(), StatusCode::SEE_OTHER);
    let page = admin.text(&format!("{QUEUE}/{}", id(&request))).await;
    assert!(
        page.contains("id=\"fulfil-form\"") && !page.contains("id=\"approve-form\""),
        "{page}"
    );

    let asked = step(&admin, &request, "fulfil", &[("one_time", "on")]).await;
    assert_eq!(asked.status(), StatusCode::SEE_OTHER);
    let shown = show(&app, &request).await;
    assert_eq!(shown["status"], "awaiting_approval");
    assert_eq!(shown["fulfilment"]["one_time"], true);
    app.run_jobs().await;
    assert!(
        exports(&app).await.is_empty(),
        "nothing generated before approval"
    );

    // A member sees the step but cannot take it: the page says why, nothing moves.
    let refused = step(&member, &request, "approve", &[]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body = refused.text().await.unwrap();
    assert!(
        body.contains("id=\"error-approve\"") && body.contains("Only an admin"),
        "{body}"
    );
    assert_eq!(show(&app, &request).await["status"], "awaiting_approval");

    let approved = step(&admin, &request, "approve", &[("reason", "checked the ID")]).await;
    assert_eq!(approved.status(), StatusCode::SEE_OTHER);
    let shown = show(&app, &request).await;
    assert_eq!(shown["status"], "in_progress");
    let page = admin.text(&format!("{QUEUE}/{}", id(&request))).await;
    let export_id = shown["fulfilment"]["export_ids"][0].as_str().unwrap();
    assert!(page.contains(export_id), "the page names the export");
    app.run_jobs().await;
    assert_eq!(ready_mails(&email).len(), 1, "the subject got their links");
    let shown = show(&app, &request).await;
    assert_eq!(shown["status"], "delivered");
    assert_eq!(
        steps(&shown),
        [
            "received",
            "verification_sent",
            "mail_sent",
            "verified",
            "approval_requested",
            "approved",
            "delivered"
        ]
    );
    let by_the_user = [
        "verification_sent",
        "verified",
        "approval_requested",
        "approved",
    ];
    for s in shown["timeline"].as_array().unwrap() {
        if by_the_user.contains(&s["step"].as_str().unwrap()) {
            assert_eq!(s["actor"], "admin@company.com", "{s}");
        }
    }
    let receipt = app
        .get_json(&app.api(&format!("/exports/{export_id}/receipt")))
        .await;
    assert!(
        receipt["requested_by"]
            .as_str()
            .unwrap()
            .contains("admin@company.com"),
        "{receipt}"
    );
}

#[tokio::test]
async fn fulfil_without_a_relay_or_its_csrf_token_is_refused_on_the_page_and_changes_nothing() {
    let app = spawn_app().await;
    add_user(app.store.as_ref(), "acme", "admin@company.com").await;
    let request = receive(&app, "ann@example.com", None).await;
    let signed = login(&app.base, "admin@company.com").await;
    // Without its token: refused before anything is looked at.
    let forged = signed
        .post(&format!("{QUEUE}/{}/fulfil", id(&request)), &[], false)
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let approve = signed
        .post(&format!("{QUEUE}/{}/approve", id(&request)), &[], false)
        .await;
    assert_eq!(approve.status(), StatusCode::FORBIDDEN);
    // This app has no SMTP relay: nobody could be mailed the data.
    let refused = step(&signed, &request, "fulfil", &[]).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let body = refused.text().await.unwrap();
    assert!(body.contains("FERRY_SMTP_URL"), "{body}");
    let shown = show(&app, &request).await;
    assert_eq!(shown["status"], "received");
    assert_eq!(steps(&shown), ["received"]);
    // Approving what was never asked for: the service's refusal, shown above the forms.
    let early = step(&signed, &request, "approve", &[]).await;
    assert_eq!(early.status(), StatusCode::CONFLICT);
    assert!(early.text().await.unwrap().contains("id=\"error-approve\""));
}
