//! Settings → Privacy → Requests over HTTP: every route needs a session, every form its CSRF
//! token, another account's request is "not found", and a refused step shows the service's
//! message next to its form and changes nothing. Steps are the API's: the same timeline,
//! audited with the signed-in user's email.

use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::{Value, json};

use super::{Signed, add_user, client, location, login};
use crate::helpers::{TestApp, spawn_app};
use crate::requests::{id, post_with, receive, steps};

const QUEUE: &str = "/settings/privacy/requests";
const DAY: i64 = 86_400_000;

/// The request as the API shows it, timeline included.
async fn api_request(app: &TestApp, key: &str, id: &str) -> Value {
    let response = app
        .get_with(key, &app.api(&format!("/requests/{id}")))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// Creates a request through the queue page's form; its id (from the redirect).
async fn create(signed: &Signed, email: &str) -> String {
    let response = signed
        .post(
            QUEUE,
            &[
                ("type", "access"),
                ("subject_email", email),
                ("received_at", ""),
            ],
            true,
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let to = location(&response).to_string();
    to.strip_prefix(&format!("{QUEUE}/"))
        .expect("the request's page")
        .to_string()
}

#[tokio::test]
async fn no_requests_page_or_step_is_reachable_without_signing_in() {
    let app = spawn_app().await;
    add_user(app.store.as_ref(), "acme", "admin@company.com").await;
    let real = id(&receive(&app, "ann@example.com", None).await);
    let mut routes = vec![("GET", QUEUE.to_string()), ("POST", QUEUE.to_string())];
    routes.push(("GET", format!("{QUEUE}/{real}")));
    for step in [
        "verification",
        "verify",
        "start",
        "reject",
        "cancel",
        "close",
        "extend",
        "update",
        "fulfil",
        "approve",
    ] {
        routes.push(("POST", format!("{QUEUE}/{real}/{step}")));
    }
    for cookie in [None, Some("ferry_session=made-up-token")] {
        for (method, path) in &routes {
            let mut request = match *method {
                "GET" => client().get(format!("{}{path}", app.base)),
                _ => client()
                    .post(format!("{}{path}", app.base))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(
                        "csrf=x&months=1&reason=busy&type=access&subject_email=bob%40example.com",
                    ),
            };
            if let Some(cookie) = cookie {
                request = request.header(COOKIE, cookie);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "{method} {path}");
            assert_eq!(location(&response), "/login", "{method} {path}");
        }
    }
    let unchanged = api_request(&app, &app.admin_key, &real).await;
    assert_eq!(steps(&unchanged), ["received"], "nothing happened to it");
    let list = app.get_json(&app.api("/requests")).await;
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        1,
        "nothing was created"
    );
}

#[tokio::test]
async fn a_requests_form_without_its_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    add_user(app.store.as_ref(), "acme", "admin@company.com").await;
    add_user(app.store.as_ref(), "acme", "dpo@company.com").await;
    let signed = login(&app.base, "admin@company.com").await;
    let other = login(&app.base, "dpo@company.com").await;

    let new = [("type", "access"), ("subject_email", "ann@example.com")];
    assert_eq!(
        signed.post(QUEUE, &new, false).await.status(),
        StatusCode::FORBIDDEN
    );
    let list = app.get_json(&app.api("/requests")).await;
    assert_eq!(
        list["data"].as_array().unwrap().len(),
        0,
        "nothing was created"
    );

    let request = create(&signed, "ann@example.com").await;
    let extend = format!("{QUEUE}/{request}/extend");
    let body = [("months", "1"), ("reason", "ten years of records")];
    assert_eq!(
        signed.post(&extend, &body, false).await.status(),
        StatusCode::FORBIDDEN
    );
    let mut foreign = body.to_vec();
    foreign.push(("csrf", &other.csrf));
    assert_eq!(
        signed.post(&extend, &foreign, false).await.status(),
        StatusCode::FORBIDDEN,
        "another session's token"
    );
    for step in ["reject", "cancel", "update", "verify"] {
        let response = signed
            .post(
                &format!("{QUEUE}/{request}/{step}"),
                &[("reason", "x"), ("code", "1")],
                false,
            )
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{step}");
    }
    let unchanged = api_request(&app, &app.admin_key, &request).await;
    assert_eq!(steps(&unchanged), ["received"]);
    assert_eq!(unchanged["extension"]["months"], 0);
}

#[tokio::test]
async fn another_accounts_request_is_not_found_and_never_listed() {
    let app = spawn_app().await;
    let (globex_key, _) = app.other_account().await;
    add_user(app.store.as_ref(), "acme", "admin@acme.test").await;
    let theirs = post_with(
        &app,
        &globex_key,
        "/requests",
        json!({"type": "access", "subject_email": "secret.person@globex.test"}),
    )
    .await;
    assert_eq!(theirs.status(), StatusCode::CREATED);
    let theirs = id(&theirs.json().await.unwrap());

    let acme = login(&app.base, "admin@acme.test").await;
    let queue = acme.text(QUEUE).await;
    assert!(!queue.contains(&theirs) && !queue.contains("secret.person"));
    let page = acme.get(&format!("{QUEUE}/{theirs}")).await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(!page.text().await.unwrap().contains("secret.person"));
    for (step, body) in [
        ("extend", vec![("months", "1"), ("reason", "busy")]),
        ("close", vec![]),
        ("cancel", vec![]),
        ("reject", vec![("reason", "no")]),
        ("update", vec![("assignee", "mallory")]),
        ("verification", vec![]),
        ("verify", vec![("code", "12345678")]),
    ] {
        let response = acme
            .post(&format!("{QUEUE}/{theirs}/{step}"), &body, true)
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{step}");
    }
    let untouched = api_request(&app, &globex_key, &theirs).await;
    assert_eq!(steps(&untouched), ["received"]);
    assert_eq!(untouched["assignee"], Value::Null);
}

#[tokio::test]
async fn a_refused_step_shows_the_services_message_by_its_form_and_changes_nothing() {
    let app = spawn_app().await;
    add_user(app.store.as_ref(), "acme", "admin@company.com").await;
    let signed = login(&app.base, "admin@company.com").await;

    // A bad email is the service's message, by the new-request form.
    let bad = signed
        .post(
            QUEUE,
            &[("type", "access"), ("subject_email", "not an address")],
            true,
        )
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let html = bad.text().await.unwrap();
    assert!(html.contains("id=\"form-error\""), "{html}");
    assert!(
        html.contains("value=\"not an address\""),
        "the form comes back as sent"
    );

    let request = create(&signed, "ann@example.com").await;
    let path = format!("{QUEUE}/{request}");
    for (body, status, says) in [
        (
            vec![("months", "1")],
            StatusCode::BAD_REQUEST,
            "a `reason` is required",
        ),
        (
            vec![("months", "3"), ("reason", "busy")],
            StatusCode::BAD_REQUEST,
            "`months` is 1 or 2",
        ),
        (
            vec![("months", "x"), ("reason", "busy")],
            StatusCode::BAD_REQUEST,
            "`months` is 1 or 2",
        ),
    ] {
        let response = signed.post(&format!("{path}/extend"), &body, true).await;
        assert_eq!(response.status(), status, "{body:?}");
        let html = response.text().await.unwrap();
        let at = html
            .find("id=\"error-extend\"")
            .expect("the error by the extend form");
        assert!(html[at..].contains(says), "{body:?}: {html}");
    }
    // Closing a request that was never answered is not a step its status allows.
    let close = signed.post(&format!("{path}/close"), &[], true).await;
    assert_eq!(close.status(), StatusCode::CONFLICT);
    // Without a relay no code can go out: said, and nothing changes.
    let send = signed
        .post(&format!("{path}/verification"), &[], true)
        .await;
    assert_eq!(send.status(), StatusCode::CONFLICT);
    assert!(
        send.text()
            .await
            .unwrap()
            .contains("id=\"error-verification\"")
    );
    let reject = signed
        .post(&format!("{path}/reject"), &[("reason", " ")], true)
        .await;
    assert_eq!(reject.status(), StatusCode::BAD_REQUEST);
    let unchanged = api_request(&app, &app.admin_key, &request).await;
    assert_eq!(steps(&unchanged), ["received"], "{unchanged}");

    // Two months in all, then the limit, said by the form.
    for months in ["2", "1"] {
        let response = signed
            .post(
                &format!("{path}/extend"),
                &[("months", months), ("reason", "busy")],
                true,
            )
            .await;
        if months == "2" {
            assert_eq!(response.status(), StatusCode::SEE_OTHER);
        } else {
            // The form is gone once no month is left; a hand-made post gets the service's word.
            assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
            assert!(
                response
                    .text()
                    .await
                    .unwrap()
                    .contains("at most 2 further months")
            );
        }
    }
}

#[tokio::test]
async fn steps_taken_here_are_the_apis_steps_audited_with_the_users_email() {
    let app = spawn_app().await;
    add_user(app.store.as_ref(), "acme", "admin@company.com").await;
    let signed = login(&app.base, "admin@company.com").await;
    let request = create(&signed, "ann@example.com").await;
    let path = format!("{QUEUE}/{request}");
    for (step, body) in [
        (
            "update",
            vec![
                ("assignee", "dpo team"),
                ("notes", "<script>alert(1)</script>"),
            ],
        ),
        ("verify", vec![("code", "12345678")]),
    ] {
        let response = signed.post(&format!("{path}/{step}"), &body, true).await;
        if step == "update" {
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "{step}");
        } else {
            // No code was sent: the service refuses it as the API would.
            assert_eq!(response.status(), StatusCode::CONFLICT, "{step}");
        }
    }
    let extend = signed
        .post(
            &format!("{path}/extend"),
            &[("months", "1"), ("reason", "ten years of records")],
            true,
        )
        .await;
    assert_eq!(extend.status(), StatusCode::SEE_OTHER);
    let cancel = signed
        .post(&format!("{path}/cancel"), &[("reason", "withdrawn")], true)
        .await;
    assert_eq!(cancel.status(), StatusCode::SEE_OTHER);

    let shown = api_request(&app, &app.admin_key, &request).await;
    assert_eq!(
        steps(&shown),
        ["received", "updated", "extended", "cancelled"]
    );
    for step in shown["timeline"].as_array().unwrap() {
        assert_eq!(step["actor"], "admin@company.com", "{step}");
    }
    assert_eq!(shown["assignee"], "dpo team");
    assert_eq!(shown["status"], "cancelled");
    let audit = app
        .get_json(&app.api("/audit?action=request.extended"))
        .await;
    let entry = &audit["data"][0];
    assert_eq!(entry["actor"], "admin@company.com", "{audit}");
    assert_eq!(entry["details"]["reason"], "ten years of records");

    // The page shows the same timeline, and no step of a cancelled request.
    let html = signed.text(&path).await;
    assert!(html.contains("ten years of records") && html.contains("withdrawn"));
    assert!(!html.contains("id=\"extend-form\"") && !html.contains("id=\"close-form\""));
    // What people typed is shown as text, never run (the page allows no script anyway).
    assert!(html.contains("&#60;script&#62;alert(1)") && !html.contains("<script>"));
}

#[tokio::test]
async fn the_queue_marks_due_soon_and_overdue_in_words_and_filters_by_them() {
    let app = spawn_app().await;
    add_user(app.store.as_ref(), "acme", "admin@company.com").await;
    let now = ferry::clock::Clock::now(&app.clock);
    let day = |days_ago: i64| {
        chrono::DateTime::from_timestamp_millis(now - days_ago * DAY)
            .unwrap()
            .date_naive()
            .to_string()
    };
    let fresh = id(&receive(&app, "fresh@example.com", None).await);
    let soon = id(&receive(&app, "soon@example.com", Some(&day(26))).await);
    let late = id(&receive(&app, "late@example.com", Some(&day(45))).await);
    let signed = login(&app.base, "admin@company.com").await;

    let queue = signed.text(QUEUE).await;
    let row = |id: &str| {
        let at = queue.find(&format!("id=\"row-{id}\"")).expect("listed");
        queue[at..].split("</tr>").next().unwrap().to_string()
    };
    assert!(
        row(&late).contains("Overdue by") && row(&late).contains("days late"),
        "{}",
        row(&late)
    );
    assert!(
        row(&soon).contains("Due soon") && row(&soon).contains("days late"),
        "{}",
        row(&soon)
    );
    assert!(
        !row(&fresh).contains("late\"") && row(&fresh).contains("days left"),
        "{}",
        row(&fresh)
    );
    assert!(
        row(&fresh).contains("fresh@example.com") && row(&fresh).contains("earlier of 30 days")
    );

    let overdue = signed.text(&format!("{QUEUE}?deadline=overdue")).await;
    assert!(overdue.contains(&late) && !overdue.contains(&soon) && !overdue.contains(&fresh));
    let due_soon = signed.text(&format!("{QUEUE}?deadline=due_soon")).await;
    assert!(due_soon.contains(&late) && due_soon.contains(&soon) && !due_soon.contains(&fresh));
    let received = signed.text(&format!("{QUEUE}?status=received")).await;
    assert!(received.contains(&fresh));
    let closed = signed.text(&format!("{QUEUE}?status=closed")).await;
    assert!(closed.contains("No requests match."));
    let bad = signed.get(&format!("{QUEUE}?status=lost")).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}
