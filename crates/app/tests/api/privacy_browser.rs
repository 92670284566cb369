//! A request by visitor id alone, over HTTP: the post `ferry.privacy()` makes from the site,
//! the page's form, a request verified by `visitor_id_possession`, fulfilled by staff, and
//! the status page's link to a file of that visitor's own rows — not another visitor's, not
//! those of another visitor an identify linked to the same user. The app has no mail relay:
//! nothing is mailed, and none is needed.

use reqwest::header::{CONTENT_TYPE, LOCATION};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::dashboard::{add_user, form, login};
use crate::helpers::{TestApp, pageview, spawn_app, unzip};
use crate::privacy_page::{browser, hidden};
use crate::requests::post_with;

const MINE: &str = "6f1c1d7e-2b4a-4c1e-9d0f-0a1b2c3d4e5f";
const OTHER: &str = "0d9e8f7a-1111-4222-8333-944455566677";
const LINKED: &str = "a1b2c3d4-aaaa-4bbb-8ccc-ddddeeeeffff";

async fn post(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> Response {
    browser()
        .post(app.url(path))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(fields))
        .send()
        .await
        .unwrap()
}

/// What `ferry.privacy("acme")` posts, then the page's form sent with `kind`.
async fn ask_as_browser(app: &TestApp, visitor: &str, kind: &str) -> Response {
    let opened = post(
        app,
        "/privacy/acme/browser",
        &[("visitor_id", visitor), ("website_id", &app.website)],
    )
    .await;
    assert_eq!(opened.status(), StatusCode::OK);
    let html = opened.text().await.unwrap();
    assert!(html.contains("Ask about this browser"), "{html}");
    assert!(
        !html.contains("value=\"erasure\""),
        "erasure is not offered"
    );
    post(
        app,
        "/privacy/acme/browser/ask",
        &[
            ("form_token", &hidden(&html, "form_token")),
            ("visitor_id", &hidden(&html, "visitor_id")),
            ("website_id", &hidden(&html, "website_id")),
            ("type", kind),
        ],
    )
    .await
}

async fn seed(app: &TestApp) {
    let site = app.website.as_str();
    app.ingest_ok(&[
        pageview(site, MINE, "2026-11-20T10:00:00Z", "/mine-first"),
        pageview(site, MINE, "2026-11-20T10:01:00Z", "/mine-second"),
        pageview(site, OTHER, "2026-11-20T10:02:00Z", "/someone-else"),
        // Both visitors were identified as one user: a shared computer, or one person on
        // two devices; the browser's request covers its own rows only.
        json!({"type": "identify", "website_id": site, "visitor_id": MINE, "user_id": "u7",
               "email": "ann@example.com", "name": "Ann"}),
        json!({"type": "identify", "website_id": site, "visitor_id": LINKED, "user_id": "u7"}),
        pageview(site, LINKED, "2026-11-20T10:03:00Z", "/linked-device"),
    ])
    .await;
}

async fn the_request(app: &TestApp, answer: Response) -> (String, Value) {
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let status = answer.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(status.starts_with("/privacy/acme/status/req_"), "{status}");
    let id = status["/privacy/acme/status/".len()..]
        .split('.')
        .next()
        .unwrap()
        .to_string();
    let request = app.get_json(&app.api(&format!("/requests/{id}"))).await;
    (status, request)
}

#[tokio::test]
async fn a_browser_asks_by_its_visitor_id_and_downloads_only_its_own_rows_from_the_status_page() {
    let app = spawn_app().await;
    seed(&app).await;

    let (status_path, request) =
        the_request(&app, ask_as_browser(&app, MINE, "access").await).await;
    assert_eq!(request["status"], "verified", "{request}");
    assert_eq!(
        request["verification"]["method"], "visitor_id_possession",
        "{request}"
    );
    assert_eq!(request["subject"]["email"], Value::Null, "{request}");
    assert_eq!(request["subject"]["visitor_id"], MINE);
    assert_eq!(request["subject"]["label"], "visitor v6f1c1d7e…");
    assert_eq!(request["linked_to"], Value::Null);
    let id = request["id"].as_str().unwrap().to_string();
    // Staff see the visitor in place of an email, in the queue and on the request's page.
    add_user(app.store.as_ref(), "acme", "staff@acme.example").await;
    let staff = login(&app.url(""), "staff@acme.example").await;
    let queue = staff.text("/settings/privacy/requests").await;
    assert!(queue.contains("visitor v6f1c1d7e…"), "{queue}");
    let shown = staff
        .text(&format!("/settings/privacy/requests/{id}"))
        .await;
    assert!(shown.contains("request from visitor v6f1c1d7e…"), "{shown}");

    let fulfilled = post_with(
        &app,
        &app.admin_key,
        &format!("/requests/{id}/fulfil"),
        json!({}),
    )
    .await;
    assert_eq!(
        fulfilled.status(),
        StatusCode::OK,
        "{}",
        fulfilled.text().await.unwrap()
    );
    let mut events = app.run_jobs().await;
    events.extend(app.run_jobs().await);
    assert!(
        events
            .iter()
            .all(|e| matches!(e.outcome, ferry::jobs::Outcome::Done)),
        "{events:?}"
    );
    let request = app.get_json(&app.api(&format!("/requests/{id}"))).await;
    assert_eq!(request["status"], "delivered", "{request}");

    let page = browser().get(app.url(&status_path)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Asked from this browser"), "{html}");
    let href = html
        .split("class=\"file\"")
        .next()
        .and_then(|before| before.rsplit("href=\"").next())
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    assert!(href.starts_with("/download/"), "{html}");
    let file = browser().get(app.url(&href)).send().await.unwrap();
    assert_eq!(file.status(), StatusCode::OK);
    let bytes = file.bytes().await.unwrap();
    let export = unzip(&bytes)
        .into_iter()
        .find(|(name, _)| name.ends_with("export.json"))
        .map(|(_, body)| String::from_utf8(body).unwrap())
        .expect("export.json in the ZIP");
    assert!(
        export.contains("/mine-first") && export.contains("/mine-second"),
        "{export}"
    );
    assert!(
        !export.contains("/someone-else"),
        "another visitor's rows: {export}"
    );
    assert!(
        !export.contains("/linked-device"),
        "a linked visitor's rows: {export}"
    );
    assert!(
        !export.contains(LINKED) && !export.contains("ann@example.com"),
        "{export}"
    );
}

#[tokio::test]
async fn a_made_up_visitor_id_gets_the_same_pages_and_a_request_that_finds_nothing() {
    let app = spawn_app().await;
    seed(&app).await;
    let made_up = "12345678-9abc-4def-8123-456789abcdef";
    let (status_path, request) =
        the_request(&app, ask_as_browser(&app, made_up, "portability").await).await;
    assert_eq!(request["status"], "verified");
    assert_eq!(request["verification"]["method"], "visitor_id_possession");
    let page = browser().get(app.url(&status_path)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);

    let id = request["id"].as_str().unwrap();
    let fulfilled = post_with(
        &app,
        &app.admin_key,
        &format!("/requests/{id}/fulfil"),
        json!({}),
    )
    .await;
    assert_eq!(fulfilled.status(), StatusCode::NOT_FOUND);
    let problem: Value = fulfilled.json().await.unwrap();
    assert_eq!(problem["error"]["code"], "subject_not_found", "{problem}");
    // Staff say so; the refusal is shown on the status page (there is no address to mail).
    let reason = "we hold no data about this browser";
    let rejected = post_with(
        &app,
        &app.admin_key,
        &format!("/requests/{id}/reject"),
        json!({"reason": reason}),
    )
    .await;
    assert_eq!(rejected.status(), StatusCode::OK);
    let events = app.run_jobs().await;
    // Its rejection mail job finds no address and sends nothing: done, not failed for want of
    // a relay.
    assert!(
        events
            .iter()
            .all(|e| matches!(e.outcome, ferry::jobs::Outcome::Done)),
        "{events:?}"
    );
    let html = browser()
        .get(app.url(&status_path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(reason), "{html}");
}

#[tokio::test]
async fn a_malformed_or_oversized_visitor_id_or_a_foreign_website_is_refused_with_a_message() {
    let app = spawn_app().await;
    let long = "a".repeat(65);
    for bad in [
        "",
        "short",
        "has spaces in it",
        "<script>alert(1)</script>",
        long.as_str(),
    ] {
        let answer = post(
            &app,
            "/privacy/acme/browser",
            &[("visitor_id", bad), ("website_id", &app.website)],
        )
        .await;
        assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let html = answer.text().await.unwrap();
        assert!(html.contains("not one the site"), "{html}");
        assert!(bad.is_empty() || !html.contains(bad), "echoed: {html}");
    }
    let answer = post(
        &app,
        "/privacy/acme/browser",
        &[("visitor_id", MINE), ("website_id", "web_nosuchsite")],
    )
    .await;
    assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The second step checks again, and wants its form token.
    let answer = post(
        &app,
        "/privacy/acme/browser/ask",
        &[
            ("visitor_id", MINE),
            ("website_id", &app.website),
            ("type", "access"),
        ],
    )
    .await;
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    let list = app.get_json(&app.api("/requests")).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 0, "{list}");
}
