//! A visitor's page over HTTP: the person behind the visitor, their activity newest first in
//! bounded pages, tracked values escaped, and nothing of another account's visitors.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{add_person, add_user, location, login};
use crate::helpers::{pageview, spawn_app};

#[tokio::test]
async fn a_visitors_page_shows_who_they_are_and_their_activity_newest_first_a_page_at_a_time() {
    let app = spawn_app().await;
    add_user(app.store.as_ref(), "acme", "admin@company.com").await;
    add_person(
        &app,
        &app.website,
        &app.admin_key,
        "user_100",
        "ann@example.com",
    )
    .await;
    // 30 more page views a minute apart, the last with markup in every field a page sends.
    let mut lines: Vec<Value> = (0..29)
        .map(|i| {
            pageview(
                &app.website,
                "v-user_100",
                &format!("2024-05-02T10:{i:02}:00Z"),
                &format!("/p/{i}"),
            )
        })
        .collect();
    lines.push(
        json!({"type": "pageview", "website_id": app.website, "visitor_id": "v-user_100",
        "timestamp": "2024-05-02T10:59:00Z", "url": "/x?<script>alert(1)</script>",
        "title": "<img src=x onerror=alert(2)>", "referrer": "\"><svg onload=alert(3)>"}),
    );
    lines.push(
        json!({"type": "event", "website_id": app.website, "visitor_id": "v-user_100",
        "timestamp": "2024-05-02T11:00:00Z", "name": "<b>buy</b>",
        "properties": {"note": "</code><script>alert(4)</script>"}}),
    );
    app.ingest_ok(&lines).await;
    let signed = login(&app.base, "admin@company.com").await;

    // The Visitors list links each visitor to their page.
    let list = signed
        .text(&format!(
            "/visitors?website={}&from=2024-05-01&to=2024-05-02",
            app.website
        ))
        .await;
    let link = format!("/visitors/v-user_100?website={}", app.website);
    assert!(list.contains(&format!("href=\"{link}\"")), "{list}");

    let page = signed.text(&link).await;
    assert!(page.contains("id=\"user-id\">user_100<"), "{page}");
    assert!(page.contains("id=\"email\">ann@example.com<"));
    // Newest first: the markup page view leads, escaped; 25 rows, then a link to the rest.
    let views =
        &page[page.find("id=\"visitor-pageviews\"").unwrap()..page.find("id=\"events\"").unwrap()];
    assert_eq!(views.matches("<tr><td data-label=\"Time\">").count(), 25);
    assert!(views.find("/x?&#60;script&#62;").unwrap() < views.find("/p/28").unwrap());
    assert!(
        views.contains("/p/5<") && !views.contains("/p/4<"),
        "the oldest are on the next page"
    );
    for raw in ["<script>", "<img src=x", "<svg onload", "<b>buy</b>"] {
        assert!(!page.contains(raw), "{raw} printed as markup");
    }
    assert!(page.contains("&#60;img src=x onerror=alert(2)&#62;"));
    assert!(page.contains("&#60;b&#62;buy&#60;/b&#62;"));
    let more = page
        .split("id=\"more-pageviews\"")
        .next()
        .and_then(|p| p.rsplit("href=\"").next())
        .map(|h| h.split('"').next().unwrap().replace("&#38;", "&"))
        .expect("a link to older page views");
    let older = signed.text(&more).await;
    let views = &older
        [older.find("id=\"visitor-pageviews\"").unwrap()..older.find("id=\"events\"").unwrap()];
    assert_eq!(views.matches("<tr><td data-label=\"Time\">").count(), 7);
    assert!(
        views.contains("/p/4<")
            && views.contains("/checkout")
            && views.contains("/products/widget")
    );
    assert!(!views.contains("/p/5<"), "nothing shown twice");
    assert!(!older.contains("id=\"more-pageviews\""), "the last page");
    // Sessions and events are there too, each with the visitor's own counts.
    assert!(page.contains("id=\"visitor-sessions\"") && page.contains("purchase"));

    // A damaged cursor is a 400 saying what to do, not a crash.
    let broken = signed.get(&format!("{link}&pageviews=not-a-cursor")).await;
    assert_eq!(broken.status(), StatusCode::BAD_REQUEST);
    assert!(
        broken
            .text()
            .await
            .unwrap()
            .contains("open the visitor again")
    );

    // "Export visitor data" is the Data Export form's own request, by visitor id.
    assert!(page.contains("name=\"subject_kind\" value=\"visitor_id\""));
    let exported = signed
        .post(
            "/settings/privacy/data-export",
            &[
                ("subject", "v-user_100"),
                ("subject_kind", "visitor_id"),
                ("format", "json"),
                ("pageviews", "on"),
            ],
            true,
        )
        .await;
    assert_eq!(exported.status(), StatusCode::SEE_OTHER);
    assert!(location(&exported).contains("created=exp_"));
}

#[tokio::test]
async fn another_accounts_visitor_or_an_unknown_one_is_not_found() {
    let app = spawn_app().await;
    add_user(app.store.as_ref(), "acme", "admin@company.com").await;
    let (their_key, their_site) = app.other_account().await;
    let line = pageview(
        &their_site,
        "their-visitor",
        "2024-05-01T10:00:00Z",
        "/secret",
    );
    let response = app
        .ingest_with(Some(&their_key), crate::helpers::ndjson(&[line]))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let signed = login(&app.base, "admin@company.com").await;

    let long = "v".repeat(5000);
    for path in [
        format!("/visitors/their-visitor?website={their_site}"),
        "/visitors/their-visitor".to_string(),
        format!("/visitors/their-visitor?website={}", app.website),
        "/visitors/nobody".to_string(),
        format!("/visitors/{long}"),
    ] {
        let response = signed.get(&path).await;
        assert_eq!(
            response.status(),
            StatusCode::NOT_FOUND,
            "{}",
            &path[..40.min(path.len())]
        );
        let body = response.text().await.unwrap();
        assert!(
            !body.contains("/secret") && body.contains("no such visitor"),
            "{body}"
        );
    }
}
