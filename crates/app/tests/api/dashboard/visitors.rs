//! Visitors → a visitor → Export visitor data.

use reqwest::StatusCode;

use super::{add_person, add_user, location, login};
use crate::helpers::{pageview, spawn_app};

#[tokio::test]
async fn the_visitors_page_lists_identified_and_anonymous_visitors_and_exports_one_by_visitor_id() {
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
    app.ingest_ok(&[pageview(
        &app.website,
        "anon-7",
        "2024-05-01T12:00:00Z",
        "/pricing",
    )])
    .await;
    let (_, globex_site) = app.other_account().await;
    let signed = login(&app.base, "admin@company.com").await;

    let page = signed
        .text(&format!(
            "/visitors?website={}&from=2024-05-01&to=2024-05-01",
            app.website
        ))
        .await;
    assert!(
        page.contains("v-user_100") && page.contains("ann@example.com"),
        "{page}"
    );
    assert!(page.contains("anon-7"));
    assert!(page.contains("find=user_100"), "links to the person");

    // Another account's website is not found.
    let theirs = signed
        .get(&format!("/visitors?website={globex_site}"))
        .await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);

    let exported = signed
        .post(
            "/settings/privacy/data-export",
            &[
                ("subject", "anon-7"),
                ("subject_kind", "visitor_id"),
                ("format", "json"),
                ("pageviews", "on"),
            ],
            true,
        )
        .await;
    assert_eq!(exported.status(), StatusCode::SEE_OTHER);
    let id = location(&exported)
        .split("created=")
        .nth(1)
        .unwrap()
        .to_string();
    app.run_jobs().await;
    let export = app.get_json(&app.api(&format!("/exports/{id}"))).await;
    assert_eq!(export["status"], "completed");
    assert_eq!(export["subject"]["visitor_id"], "anon-7");
    let bytes = app
        .client
        .get(export["download_url"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body["pageviews"][0]["url"], "/pricing");
    app.downloads_recorded(1).await;
}
