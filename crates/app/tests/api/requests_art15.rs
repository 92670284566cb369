//! The whole Art. 15 answer in a person's package: `report.html` and the README's section,
//! read from the package the subject downloads through the link mailed to them by the real
//! SMTP relay. Hostile text (a key's label, the settings, a page URL, an event property)
//! must come out as text, never as markup.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::Digest;

use crate::helpers::{TestApp, pageview, unzip};
use crate::requests::{post_ok, unique_email};
use crate::requests_fulfilment::{path, ready_mails, verified};
use crate::requests_verification::app_with_mail;

const IMG: &str = "\"><img src=x onerror=alert(1)>";
const SCRIPT: &str = "<script>alert(1)</script>";

async fn put(app: &TestApp, key: &str, path: &str, body: Value) -> reqwest::Response {
    app.client
        .put(app.api(path))
        .header("X-API-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The account's statement, hostile text in it, and a website override.
pub async fn statement(app: &TestApp) {
    let body = json!({
        "controller": "Acme GmbH, Hauptstr. 1, Berlin",
        "dpo_contact": "dpo@acme.example",
        "purposes": format!("Shop statistics {SCRIPT}"),
        "recipients": format!("Our hosting provider {IMG}"),
        "retention": "Raw events for 13 months",
        "source": "Your browser, through our tracker",
        "supervisory_authority": "Berliner Beauftragte für Datenschutz",
    });
    let response = put(app, &app.admin_key, "/account/privacy-statement", body).await;
    assert_eq!(response.status(), StatusCode::OK);
    let site = format!("/websites/{}/privacy-statement", app.website);
    let response = put(
        app,
        &app.admin_key,
        &site,
        json!({"source": "Checkout forms"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
}

/// A person whose page URL and event property are hostile.
async fn hostile_person(app: &TestApp, email: &str) {
    app.ingest_ok(&[
        json!({"type": "identify", "website_id": app.website, "visitor_id": "v1",
               "user_id": "u1", "email": email, "name": "Ann"}),
        pageview(
            &app.website,
            "v1",
            "2026-11-20T10:00:00Z",
            &format!("/p?q={IMG}"),
        ),
        json!({"type": "event", "website_id": app.website, "visitor_id": "v1",
               "timestamp": "2026-11-20T10:02:00Z", "name": "signup",
               "properties": {"note": SCRIPT}}),
    ])
    .await;
}

/// An export of `u1` asked for by a key whose label is hostile, downloaded whole: (its id).
async fn earlier_export_downloaded(app: &TestApp) -> String {
    let response = app
        .client
        .post(app.api("/keys"))
        .header("X-API-Key", &app.admin_key)
        .json(&json!({"name": format!("CRM {IMG}"), "scopes": ["exports:write", "exports:read"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let key: Value = response.json().await.unwrap();
    let key = key["key"].as_str().unwrap().to_string();
    let response = app
        .client
        .post(app.api("/users/u1/export"))
        .header("X-API-Key", &key)
        .json(&json!({"format": "json"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let queued: Value = response.json().await.unwrap();
    let export_id = queued["export_id"].as_str().unwrap().to_string();
    app.run_jobs().await;
    let export = app
        .get_json(&app.api(&format!("/exports/{export_id}")))
        .await;
    let link = export["download_url"].as_str().unwrap();
    let file = app.client.get(link).send().await.unwrap();
    assert_eq!(file.status(), StatusCode::OK);
    let bare: Value = file.json().await.unwrap();
    assert!(
        bare.get("pageviews").is_some(),
        "the reference page's bare JSON is unchanged"
    );
    export_id
}

/// The files of the package the subject's mail links to.
async fn mailed_package(app: &TestApp, email: &str) -> Vec<(String, Vec<u8>)> {
    let mails = ready_mails(email);
    assert_eq!(mails.len(), 1, "{mails:?}");
    let link = mails[0]
        .split_whitespace()
        .find(|w| w.contains("/download/"))
        .unwrap();
    let bytes = app.client.get(link).send().await.unwrap().bytes().await;
    unzip(&bytes.unwrap())
}

fn file<'a>(files: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    &files.iter().find(|(n, _)| n == name).unwrap().1
}

#[tokio::test]
async fn an_access_requests_package_is_the_whole_art_15_answer_with_every_value_escaped() {
    let mut app = app_with_mail().await;
    let email = unique_email("art15");
    hostile_person(&app, &email).await;
    statement(&app).await;
    let earlier = earlier_export_downloaded(&app).await;
    app.downloads_recorded(1).await;

    let request = verified(&app, &email, "access").await;
    let started = post_ok(&app, &path(&request, "fulfil"), json!({}), StatusCode::OK).await;
    let this = started["fulfilment"]["export_ids"][0].as_str().unwrap();
    app.run_jobs().await;
    let files = mailed_package(&app, &email).await;
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["export.json", "report.html", "README.txt", "manifest.json"]
    );
    let html = String::from_utf8(file(&files, "report.html").to_vec()).unwrap();

    // Self-contained and inert.
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("<meta charset=\"utf-8\">"));
    assert!(html.contains(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
    ));
    for raw in ["<script", "<img", "<link", "<iframe", "http://", "https://"] {
        assert!(!html.contains(raw), "{raw} in the report: {html}");
    }
    // The statement, escaped; the website's override beside the account's.
    assert!(
        html.contains("Shop statistics &lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(html.contains("Our hosting provider &quot;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    for text in [
        "Acme GmbH, Hauptstr. 1, Berlin",
        "dpo@acme.example",
        "Raw events for 13 months",
        "Your browser, through our tracker",
        "Checkout forms",
        "Berliner Beauftragte für Datenschutz",
        "raw data is kept until it is deleted",
    ] {
        assert!(html.contains(text), "{text} missing: {html}");
    }
    // The summary of the data.
    assert!(
        html.contains("<tr><td>Pages viewed</td><td>1</td></tr>"),
        "{html}"
    );
    assert!(html.contains("<tr><td>Actions (events)</td><td>1</td></tr>"));
    assert!(html.contains("First seen 2026-11-20T10:00:00Z, last seen 2026-11-20T10:02:00Z"));
    assert!(
        html.contains(&format!("shop.example.com ({}): 1 browser", app.website)),
        "{html}"
    );
    // The access log: the earlier export by its key's label (escaped), its download, and
    // this export, by the key that answered the request; never a secret or an address.
    let log = &html[html.find("Who has accessed your data").unwrap()..];
    assert!(
        log.contains(&format!(
            "API key \u{201c}CRM &quot;&gt;&lt;img src=x onerror=alert(1)&gt;\u{201d}</td><td>asked for export {earlier}"
        )),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "downloaded {earlier}.json of export {earlier}, whole"
        )),
        "{log}"
    );
    assert!(
        log.contains(&format!("asked for export {this} (this export)")),
        "{log}"
    );
    assert!(!log.contains("127.0.0.1") && !log.contains(&app.admin_key));

    // The README says the same in plain text.
    let readme = String::from_utf8(file(&files, "README.txt").to_vec()).unwrap();
    assert!(
        readme.contains("About this data (GDPR Art. 15)"),
        "{readme}"
    );
    assert!(readme.contains(&format!("Shop statistics {SCRIPT}")));
    assert!(readme.contains("Checkout forms"));

    // Listed in the manifest with its SHA-256, like every file.
    let manifest: Value = serde_json::from_slice(file(&files, "manifest.json")).unwrap();
    let entry = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "report.html")
        .expect("report.html in the manifest");
    assert_eq!(entry["bytes"], html.len());
    assert_eq!(
        entry["sha256"],
        hex::encode(sha2::Sha256::digest(html.as_bytes()))
    );
}

#[tokio::test]
async fn every_person_package_carries_the_report_and_the_bulk_export_does_not() {
    let app = app_with_mail().await;
    hostile_person(&app, &unique_email("csv")).await;
    statement(&app).await;
    let asked = app
        .client
        .post(app.api("/users/u1/export"))
        .header("X-API-Key", &app.admin_key)
        .json(&json!({"format": "csv"}))
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), StatusCode::ACCEPTED);
    let bulk = app
        .client
        .post(app.api("/exports"))
        .header("X-API-Key", &app.admin_key)
        .json(&json!({"kind": "bulk", "website_id": app.website, "format": "csv"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bulk.status(), StatusCode::ACCEPTED);
    app.run_jobs().await;
    let list = app.get_json(&app.api("/exports")).await;
    for export in list["data"].as_array().unwrap() {
        let full = app
            .get_json(&app.api(&format!(
                "/exports/{}",
                export["export_id"].as_str().unwrap()
            )))
            .await;
        let link = full["download_url"].as_str().unwrap();
        let bytes = app
            .client
            .get(link)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let files = unzip(&bytes);
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        if full["kind"] == "bulk" {
            assert!(!names.contains(&"report.html"), "{names:?}");
        } else {
            assert_eq!(
                names,
                [
                    "pageviews.csv",
                    "events.csv",
                    "sessions.csv",
                    "profile.csv",
                    "report.html",
                    "README.txt",
                    "manifest.json"
                ]
            );
            let html = String::from_utf8(file(&files, "report.html").to_vec()).unwrap();
            assert!(
                !html.contains("<script") && !html.contains("<img"),
                "{html}"
            );
            assert!(html.contains("(this export)"), "{html}");
            assert!(
                html.contains("of the whole website shop.example.com, which holds your data"),
                "the bulk export is in the person's access log: {html}"
            );
        }
    }
}

#[tokio::test]
async fn the_cli_sets_the_statement_and_ferry_export_packages_it_with_the_operator_in_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let website = crate::cli::one_person(dir.path()).await;
    let json = dir.path().join("statement.json");
    std::fs::write(
        &json,
        json!({"purposes": format!("CLI {SCRIPT}")}).to_string(),
    )
    .unwrap();
    let set = [
        "accounts",
        "privacy-statement",
        "set",
        "acme",
        json.to_str().unwrap(),
    ];
    let (ok, out, err) = crate::cli::run(dir.path(), &set).await;
    assert!(ok, "{err}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(shown["statement"]["purposes"], format!("CLI {SCRIPT}"));
    assert_eq!(shown["updated_by"], "cli");
    let site = [
        "accounts",
        "privacy-statement",
        "set",
        "acme",
        "--website",
        &website,
        "-",
    ];
    let mut child = crate::cli::ferry(dir.path())
        .args(site)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use tokio::io::AsyncWriteExt;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(br#"{"source": "Checkout"}"#).await.unwrap();
    drop(stdin);
    assert!(child.wait_with_output().await.unwrap().status.success());
    // A bad field is refused with the service's message, and nothing changes.
    std::fs::write(&json, r#"{"purpose": "x"}"#).unwrap();
    let (ok, _, err) = crate::cli::run(dir.path(), &set).await;
    assert!(!ok && err.contains("unknown field `purpose`"), "{err}");

    let out = dir.path().join("u1.zip");
    let export = [
        "export",
        "--user",
        "u1",
        "--format",
        "csv",
        "-o",
        out.to_str().unwrap(),
    ];
    let (ok, _, err) = crate::cli::run(dir.path(), &export).await;
    assert!(ok, "{err}");
    let files = unzip(&std::fs::read(&out).unwrap());
    let html = String::from_utf8(file(&files, "report.html").to_vec()).unwrap();
    assert!(
        html.contains("CLI &lt;script&gt;") && !html.contains("<script"),
        "{html}"
    );
    assert!(html.contains("Checkout"), "{html}");
    assert!(
        html.contains("the operator, on the command line</td><td>asked for export"),
        "{html}"
    );
}
