//! What exports and answers say beyond their rows (issue 9): person CSV rows name their
//! website, an export without `from`/`to` names the days it covers, and an empty range says
//! where the data is instead of passing for "nothing happened".

use serde_json::{Value, json};

use crate::bulk_exports::bulk;
use crate::exports::{export, fetch, person, post, wait_until_completed};
use crate::helpers::*;

pub(crate) fn csv_rows(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(bytes);
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn member<'a>(files: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    &files.iter().find(|(n, _)| n == name).expect(name).1
}

#[tokio::test]
async fn a_persons_csv_rows_name_their_website_in_a_last_column_as_the_json_rows_do() {
    let app = spawn_app().await;
    person(&app).await;
    let blog = app.create_website("blog.example.com", "UTC").await;
    app.ingest_ok(&[
        pageview(&blog, "b1", "2024-05-03T08:00:00Z", "/post"),
        json!({"type": "event", "website_id": blog, "visitor_id": "b1", "timestamp": "2024-05-03T08:01:00Z",
            "name": "like", "properties": {"post": "p1"}}),
        json!({"type": "identify", "website_id": blog, "visitor_id": "b1", "user_id": "user_123"}),
    ])
    .await;
    let job = export(&app, json!({"format": "csv"})).await;
    let (_, zip) = fetch(&app, job["download_url"].as_str().unwrap(), None).await;
    let files = unzip(&zip);
    let shop = app.website.as_str();

    let (header, rows) = csv_rows(member(&files, "pageviews.csv"));
    // The reference columns first, untouched; Ferry's own after them.
    assert_eq!(
        header.join(","),
        "timestamp,url,title,referrer,device,browser,country,website_id"
    );
    let sites: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r[1].as_str(), r[7].as_str()))
        .collect();
    assert_eq!(
        sites,
        [
            ("/products/widget", shop),
            ("/checkout", shop),
            ("/post", blog.as_str())
        ]
    );
    let (header, rows) = csv_rows(member(&files, "events.csv"));
    assert_eq!(
        header.join(","),
        "timestamp,name,property_post,website_id",
        "after the property columns"
    );
    let events: Vec<&str> = rows.iter().map(|r| r[3].as_str()).collect();
    assert_eq!(events, [shop, blog.as_str()]);
    let (header, rows) = csv_rows(member(&files, "sessions.csv"));
    assert_eq!(
        header.join(","),
        "session_id,started_at,ended_at,pages_viewed,events_triggered,website_id"
    );
    assert_eq!(
        rows.iter().map(|r| r[5].as_str()).collect::<Vec<_>>(),
        [shop, shop, blog.as_str()]
    );
    let readme = String::from_utf8(member(&files, "README.txt").to_vec()).unwrap();
    assert_eq!(
        readme.matches("website_id (which website)").count(),
        3,
        "{readme}"
    );

    // The JSON rows carry the very same values.
    let json_job = export(&app, json!({"format": "json"})).await;
    let (_, doc) = fetch(&app, json_job["download_url"].as_str().unwrap(), None).await;
    let doc: Value = serde_json::from_slice(&doc).unwrap();
    let json_sites = texts(&doc["pageviews"], "website_id");
    assert_eq!(json_sites, [shop, shop, blog.as_str()]);
}

async fn receipt(app: &TestApp, id: &str) -> Value {
    app.get_json(&app.api(&format!("/exports/{id}/receipt")))
        .await
}

async fn subject_export(app: &TestApp, body: Value) -> Value {
    let response = post(app, "/exports", body).await;
    let queued: Value = response.json().await.unwrap();
    wait_until_completed(app, queued["export_id"].as_str().unwrap()).await
}

#[tokio::test]
async fn an_export_without_from_and_to_names_the_days_of_its_rows_and_null_without_rows() {
    let app = spawn_app().await;
    person(&app).await;
    let job = export(&app, json!({"format": "csv"})).await;
    let id = job["export_id"].as_str().unwrap();
    let days = json!({"start": "2024-05-01", "end": "2024-05-02"});
    assert_eq!(receipt(&app, id).await["date_range"], days);
    let (_, zip) = fetch(&app, job["download_url"].as_str().unwrap(), None).await;
    let manifest: Value = serde_json::from_slice(member(&unzip(&zip), "manifest.json")).unwrap();
    assert_eq!(manifest["date_range"], days, "the manifest says the same");
    assert_eq!(
        job["notice"],
        Value::Null,
        "an export with rows needs no notice"
    );

    // One side asked for: it stays as asked, the other closes at the last row's day.
    let job = export(&app, json!({"format": "json", "from": "2024-04-01"})).await;
    assert_eq!(
        receipt(&app, job["export_id"].as_str().unwrap()).await["date_range"],
        json!({"start": "2024-04-01", "end": "2024-05-02"})
    );

    // Someone who never did anything: no day to name.
    let quiet = subject_export(&app, json!({"subject": {"user_id": "user_quiet"}})).await;
    let quiet_id = quiet["export_id"].as_str().unwrap();
    assert_eq!(
        receipt(&app, quiet_id).await["date_range"],
        json!({"start": null, "end": null})
    );
    let notice = quiet["notice"].as_str().unwrap_or_default();
    assert!(
        notice.contains("all time") && notice.contains("this person has no recorded activity"),
        "{quiet}"
    );
}

#[tokio::test]
async fn an_export_of_days_without_data_completes_and_says_where_the_data_is() {
    let app = spawn_app().await;
    person(&app).await;
    // The person's profile is one row, but none of the range's data is there.
    let job = export(
        &app,
        json!({"format": "json", "from": "2023-01-01", "to": "2023-12-31"}),
    )
    .await;
    assert_eq!(
        job["notice"],
        "no data in 2023-01-01 to 2023-12-31: this person has data from 2024-05-01 to 2024-05-02; ask for days in that span"
    );
    assert_eq!(
        receipt(&app, job["export_id"].as_str().unwrap()).await["date_range"],
        json!({"start": "2023-01-01", "end": "2023-12-31"}),
        "asked-for bounds stay on the receipt"
    );

    let empty = bulk(&app, json!({"from": "2001-01-01", "to": "2001-01-31"})).await;
    assert_eq!(
        empty["notice"],
        "no data in 2001-01-01 to 2001-01-31: this website has data from 2024-05-01 to 2024-05-02; ask for days in that span"
    );
    let full = bulk(&app, json!({"from": "2024-05-01", "to": "2024-05-31"})).await;
    assert_eq!(full["notice"], Value::Null);
}

#[tokio::test]
async fn the_analytics_summary_names_the_websites_data_span_and_an_empty_range_says_so() {
    let app = spawn_app().await;
    person(&app).await;
    let with_data = app.summary(&app.website, "2024-05-01", "2024-05-31").await;
    assert_eq!(
        with_data["data_span"],
        json!({"first": "2024-05-01", "last": "2024-05-02"})
    );
    assert_eq!(with_data["notice"], Value::Null);

    // The reference page's own example range, a year before this data.
    let page_dates = app.summary(&app.website, "2023-01-01", "2023-12-31").await;
    assert_eq!(page_dates["totals"]["pageviews"], 0);
    assert_eq!(page_dates["data_span"], with_data["data_span"]);
    assert_eq!(
        page_dates["notice"],
        "no data in 2023-01-01 to 2023-12-31: this website has data from 2024-05-01 to 2024-05-02; ask for days in that span"
    );

    let new_site = app.create_website("new.example.com", "UTC").await;
    let nothing = app.summary(&new_site, "2024-05-01", "2024-05-31").await;
    assert_eq!(nothing["data_span"], Value::Null);
    assert!(
        nothing["notice"]
            .as_str()
            .is_some_and(|n| n.contains("no recorded activity yet")),
        "{nothing}"
    );

    // Days in the website's time zone: 02:00 UTC on May 1st is still April 30th in New York.
    let ny = app
        .create_website("ny.example.com", "America/New_York")
        .await;
    app.ingest_ok(&[pageview(&ny, "n1", "2024-05-01T02:00:00Z", "/")])
        .await;
    let body = app.summary(&ny, "2024-04-01", "2024-04-30").await;
    assert_eq!(
        body["data_span"],
        json!({"first": "2024-04-30", "last": "2024-04-30"})
    );
    assert_eq!(body["notice"], Value::Null);
}
