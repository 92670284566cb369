//! Signing in and out, and what every dashboard route refuses: no session, no CSRF token.

use reqwest::StatusCode;
use reqwest::header::COOKIE;
use sha2::{Digest, Sha256};

use super::{PASSWORD, add_person, add_user, client, location, login, set_cookie, try_login};
use crate::helpers::{spawn_app, spawn_app_with};

/// Every route the dashboard adds, with a method it takes.
const ROUTES: [(&str, &str); 15] = [
    ("GET", "/"),
    ("GET", "/settings/privacy/data-export"),
    ("POST", "/settings/privacy/data-export"),
    ("POST", "/settings/privacy/data-export/exp_1/delete"),
    ("GET", "/settings/privacy/data-export/exp_1/receipt"),
    ("GET", "/settings/audit-log"),
    ("GET", "/settings/audit-log.csv"),
    ("GET", "/settings/audit-log/verify"),
    ("POST", "/logout"),
    ("GET", "/settings/api-keys"),
    ("POST", "/settings/api-keys"),
    ("POST", "/settings/api-keys/key_1/revoke"),
    ("GET", "/visitors"),
    ("GET", "/overview"),
    ("GET", "/visitors/v-1"),
];

async fn assert_every_route_sends_to_login(base: &str, cookie: Option<&str>) {
    let client = client();
    for (method, path) in ROUTES {
        let mut request = match method {
            "GET" => client.get(format!("{base}{path}")),
            _ => client
                .post(format!("{base}{path}"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body("csrf=x&subject=user_1"),
        };
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        let response = request.send().await.unwrap();
        let expected = if path == "/" { "/overview" } else { "/login" };
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{method} {path}");
        assert_eq!(location(&response), expected, "{method} {path}");
    }
}

#[tokio::test]
async fn no_dashboard_page_is_reachable_without_signing_in() {
    let app = spawn_app().await;
    add_user(app.store.as_ref(), "acme", "admin@company.com").await;
    assert_every_route_sends_to_login(&app.base, None).await;
    assert_every_route_sends_to_login(&app.base, Some("ferry_session=made-up-token")).await;

    // A session works until it is signed out; then its cookie is worth nothing.
    let signed = login(&app.base, "admin@company.com").await;
    assert_eq!(
        signed.get("/settings/audit-log").await.status(),
        StatusCode::OK
    );
    let out = signed.post("/logout", &[], true).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&out), "/login");
    assert_every_route_sends_to_login(&app.base, Some(&signed.cookie)).await;

    // And it ends by itself after 12 hours.
    let signed = login(&app.base, "admin@company.com").await;
    app.clock.advance(12 * 3600 * 1000 + 1);
    assert_every_route_sends_to_login(&app.base, Some(&signed.cookie)).await;
}

#[tokio::test]
async fn a_form_posted_without_its_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    add_user(app.store.as_ref(), "acme", "admin@company.com").await;
    add_user(app.store.as_ref(), "acme", "dpo@company.com").await;
    add_person(
        &app,
        &app.website,
        &app.admin_key,
        "user_100",
        "ann@example.com",
    )
    .await;
    let signed = login(&app.base, "admin@company.com").await;
    let other = login(&app.base, "dpo@company.com").await;
    let generate = [
        ("subject", "user_100"),
        ("format", "json"),
        ("profile", "on"),
    ];

    let missing = signed
        .post("/settings/privacy/data-export", &generate, false)
        .await;
    assert_eq!(missing.status(), StatusCode::FORBIDDEN);
    let mut foreign = generate.to_vec();
    foreign.push(("csrf", &other.csrf));
    let wrong = signed
        .post("/settings/privacy/data-export", &foreign, false)
        .await;
    assert_eq!(
        wrong.status(),
        StatusCode::FORBIDDEN,
        "another session's token"
    );
    let exports = app.get_json(&app.api("/exports")).await;
    assert_eq!(
        exports["data"].as_array().unwrap().len(),
        0,
        "nothing was queued"
    );

    let id = signed.generate("user_100").await;
    let delete = format!("/settings/privacy/data-export/{id}/delete");
    assert_eq!(
        signed.post(&delete, &[], false).await.status(),
        StatusCode::FORBIDDEN
    );
    let export = app.get_json(&app.api(&format!("/exports/{id}"))).await;
    assert_eq!(export["status"], "queued", "not cancelled");

    assert_eq!(
        signed.post("/logout", &[], false).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        signed.get("/settings/audit-log").await.status(),
        StatusCode::OK,
        "still signed in"
    );

    // The sign-in form too: without the token of its own cookie, nobody is signed in.
    let response = client()
        .post(app.url("/login"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(super::form(&[
            ("email", "admin@company.com"),
            ("password", PASSWORD),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&response, "ferry_session").is_none());

    // A form is small: a body over 256 KiB is refused before anything reads it.
    let huge = "x".repeat(300 * 1024);
    let response = signed
        .post(
            "/settings/privacy/data-export",
            &[("pgp_public_key", &huge)],
            true,
        )
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_strict_and_the_database_keeps_only_hashes() {
    let app = spawn_app().await;
    add_user(app.store.as_ref(), "acme", "admin@company.com").await;
    let response = try_login(&app.base, "admin@company.com", PASSWORD, &[]).await;
    let (token, cookie) = set_cookie(&response, "ferry_session").unwrap();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http on loopback: {cookie}"
    );

    let db = rusqlite::Connection::open(app.data_dir().join("ferry.db")).unwrap();
    let stored: String = db
        .query_row("SELECT token_hash FROM dashboard_sessions", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(stored, hex::encode(Sha256::digest(token.as_bytes())));
    let hash: String = db
        .query_row("SELECT password_hash FROM dashboard_users", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(PASSWORD));

    // Served as https (its public URL), the cookie is Secure too.
    let mut args = ferry::config::ServeArgs::loopback();
    args.public_url = Some("https://ferry.example.com".into());
    let app = spawn_app_with(args).await;
    add_user(app.store.as_ref(), "acme", "admin@company.com").await;
    let response = try_login(&app.base, "admin@company.com", PASSWORD, &[]).await;
    let (_, cookie) = set_cookie(&response, "ferry_session").unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn a_dashboard_export_goes_through_the_export_service_and_names_the_user_as_requester() {
    let mut app = spawn_app().await;
    add_user(app.store.as_ref(), "acme", "admin@company.com").await;
    add_person(
        &app,
        &app.website,
        &app.admin_key,
        "user_100",
        "ann@example.com",
    )
    .await;
    let signed = login(&app.base, "admin@company.com").await;

    // Find shows whom the email resolves to before anything is generated.
    let found = signed
        .text("/settings/privacy/data-export?find=ANN%40example.com")
        .await;
    assert!(
        found.contains("user_100") && found.contains("v-user_100"),
        "{found}"
    );
    assert!(found.contains("keyed ingest"));

    let id = signed.generate("ann@example.com").await;
    let running = signed.text("/settings/privacy/data-export").await;
    assert!(
        running.contains("http-equiv=\"refresh\""),
        "reloads while it runs"
    );
    app.run_jobs().await;
    let page = signed.text("/settings/privacy/data-export").await;
    assert!(!page.contains("http-equiv=\"refresh\""), "stops once done");
    let receipt = app
        .get_json(&app.api(&format!("/exports/{id}/receipt")))
        .await;
    assert_eq!(receipt["requested_by"], "admin@company.com");
    let shown = signed
        .text(&format!("/settings/privacy/data-export/{id}/receipt"))
        .await;
    assert!(shown.contains("admin@company.com") && shown.contains(&id));

    let export = app.get_json(&app.api(&format!("/exports/{id}"))).await;
    let url = export["download_url"].as_str().unwrap();
    assert!(
        page.contains(&url.replace(&app.base, "")),
        "the page links the download"
    );
    let bytes = app
        .client
        .get(url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["user"]["email"], "ann@example.com");
    app.downloads_recorded(1).await;

    let trail = app
        .get_json(&app.api("/audit?action=data_export&actor=admin@company.com"))
        .await;
    let actions: Vec<&str> = trail["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"data_export.requested"), "{actions:?}");

    // Deleting from the dashboard is the API's delete: audited under the user.
    let deleted = signed
        .post(
            &format!("/settings/privacy/data-export/{id}/delete"),
            &[],
            true,
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    let export = app.get_json(&app.api(&format!("/exports/{id}"))).await;
    assert_eq!(export["status"], "expired");
    let trail = app
        .get_json(&app.api("/audit?action=data_export.deleted"))
        .await;
    assert_eq!(trail["data"][0]["actor"], "admin@company.com");
}

#[tokio::test]
async fn what_people_sent_is_shown_as_text_never_as_markup() {
    let app = spawn_app().await;
    add_user(app.store.as_ref(), "acme", "admin@company.com").await;
    let evil = "<script>alert(1)</script>";
    let line = serde_json::json!({"type": "identify", "website_id": app.website, "visitor_id": "v\"><img src=x>", "user_id": "user_x", "email": "x@example.com", "name": evil});
    app.ingest_ok(&[line]).await;
    let signed = login(&app.base, "admin@company.com").await;
    let page = signed
        .text("/settings/privacy/data-export?find=user_x")
        .await;
    assert!(
        page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{page}"
    );
    assert!(!page.contains(evil) && !page.contains("<img src=x>"));
    let echoed = signed
        .text(&format!(
            "/settings/privacy/data-export?find={}",
            super::form(&[("", evil)]).trim_start_matches('=')
        ))
        .await;
    assert!(!echoed.contains(evil));
    let login_page = try_login(&app.base, evil, "wrong password!", &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(!login_page.contains(evil));
}
