//! Overview over HTTP: the numbers are the API's (the same rollups), the chart and its
//! screen-reader table carry them, tracked values are escaped, and another account's website
//! or a bad range is refused as a page that says what to do.

use chrono::{TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::json;

use super::{add_person, add_user, login};
use crate::helpers::{TestApp, event, pageview, spawn_app};

/// Two visitors over two days, one of them a person; a page whose URL and title are markup.
async fn traffic(app: &TestApp) {
    add_person(
        app,
        &app.website,
        &app.admin_key,
        "user_100",
        "ann@example.com",
    )
    .await;
    app.ingest_ok(&[
        pageview(&app.website, "anon-7", "2024-05-02T09:00:00Z", "/pricing"),
        pageview(&app.website, "anon-7", "2024-05-02T09:05:00Z", "/pricing"),
        json!({"type": "pageview", "website_id": app.website, "visitor_id": "anon-7",
               "timestamp": "2024-05-02T09:06:00Z", "url": "/x?<script>alert(1)</script>",
               "title": "<img src=x onerror=alert(2)>"}),
        event(&app.website, "anon-7", "2024-05-02T09:07:00Z", "signup"),
    ])
    .await;
}

/// The number in the element with `id` on the page.
fn number(page: &str, id: &str) -> String {
    let at = page
        .find(&format!("id=\"{id}\">"))
        .unwrap_or_else(|| panic!("no #{id}"))
        + id.len()
        + 6;
    page[at..].split('<').next().unwrap().to_string()
}

#[tokio::test]
async fn the_overview_shows_the_apis_totals_a_chart_of_each_day_and_the_top_pages() {
    let app = spawn_app().await;
    add_user(app.store.as_ref(), "acme", "admin@company.com").await;
    traffic(&app).await;
    let signed = login(&app.base, "admin@company.com").await;
    let site = &app.website;

    let page = signed
        .text(&format!(
            "/overview?website={site}&range=custom&from=2024-05-01&to=2024-05-02"
        ))
        .await;
    let api = app.summary(site, "2024-05-01", "2024-05-02").await;
    for (id, field) in [
        ("total-pageviews", "pageviews"),
        ("total-visitors", "visitors"),
        ("total-sessions", "sessions"),
        ("total-events", "events"),
    ] {
        assert_eq!(number(&page, id), api["totals"][field].to_string(), "{id}");
    }
    assert_eq!(number(&page, "total-pageviews"), "5");
    // The chart: one bar per day, a title naming the range, and the same numbers in a table.
    assert!(page.contains("<svg id=\"daily-chart\""), "{page}");
    assert!(page.contains("role=\"img\""));
    assert!(page.contains("Page views per day from 2024-05-01 to 2024-05-02: 5 in all"));
    assert_eq!(page.matches("<rect class=\"bar\"").count(), 2);
    assert!(
        page.contains("<title>2024-05-02: 3 page views</title>"),
        "{page}"
    );
    assert!(
        page.contains("<th scope=\"row\">2024-05-01</th><td>2</td>"),
        "{page}"
    );
    // Top pages, most viewed first; a URL and title sent by a page are shown as text only.
    let top = &page[page.find("id=\"top-pages\"").unwrap()..];
    assert!(top.find("/pricing").unwrap() < top.find("/checkout").unwrap());
    assert!(
        page.contains("/x?&#60;script&#62;alert(1)&#60;/script&#62;"),
        "{page}"
    );
    assert!(!page.contains("<script>"));
    assert!(page.contains("aria-current=\"page\">Overview"));

    // The presets count back from today, the website's day.
    app.clock.set(
        Utc.with_ymd_and_hms(2024, 5, 3, 12, 0, 0)
            .unwrap()
            .timestamp_millis(),
    );
    let week = signed
        .text(&format!("/overview?website={site}&range=7"))
        .await;
    assert!(week.contains("2024-04-27 to 2024-05-03"), "{week}");
    assert_eq!(number(&week, "total-pageviews"), "5");
    assert_eq!(week.matches("<rect class=\"bar\"").count(), 7);
    // Without a choice: the account's first website, the last 30 days.
    let default = signed.text("/overview").await;
    assert!(default.contains("2024-04-04 to 2024-05-03"), "{default}");
    assert_eq!(default.matches("<rect class=\"bar\"").count(), 30);
}

#[tokio::test]
async fn another_accounts_website_and_a_bad_range_are_refused_with_what_to_do() {
    let app = spawn_app().await;
    add_user(app.store.as_ref(), "acme", "admin@company.com").await;
    let (_, theirs) = app.other_account().await;
    let signed = login(&app.base, "admin@company.com").await;

    let response = signed.get(&format!("/overview?website={theirs}")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body = response.text().await.unwrap();
    assert!(!body.contains("globex.example.com"), "{body}");

    for (query, says) in [
        ("range=365", "7, 30, 90 or custom"),
        ("range=custom&from=2024-05-09&to=2024-05-01", "from"),
        ("range=custom&from=yesterday", "YYYY-MM-DD"),
        ("range=custom&from=2000-01-01&to=2024-05-01", "days"),
    ] {
        let response = signed
            .get(&format!("/overview?website={}&{query}", app.website))
            .await;
        assert!(response.status().is_client_error(), "{query}");
        let body = response.text().await.unwrap();
        assert!(body.contains(says), "{query}: {body}");
    }
}

#[tokio::test]
async fn an_account_without_a_website_is_told_how_to_add_one() {
    let app = spawn_app().await;
    let other = app
        .store
        .create_account("initech", ferry_domain::Plan::Pro)
        .await
        .unwrap();
    assert!(app.store.websites(other.id).await.unwrap().is_empty());
    add_user(app.store.as_ref(), "initech", "boss@initech.example").await;
    let signed = login(&app.base, "boss@initech.example").await;
    let page = signed.text("/overview").await;
    assert!(
        page.contains("No website yet") && page.contains("ferry websites create"),
        "{page}"
    );
}
