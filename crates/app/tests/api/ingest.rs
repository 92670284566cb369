use ferry::config::ServeArgs;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn each_ingest_line_type_is_stored_and_shown_by_the_api() {
    let app = spawn_app().await;
    let w = &app.website;
    app.ingest_ok(&[
        json!({"type": "pageview", "website_id": w, "visitor_id": "v1", "timestamp": "2024-05-01T10:00:00Z",
               "url": "/products/widget", "title": "Widget", "referrer": "https://google.com",
               "device": "desktop", "browser": "Chrome", "country": "us"}),
        json!({"type": "event", "website_id": w, "visitor_id": "v1", "timestamp": "2024-05-01T10:01:00Z",
               "name": "add_to_cart", "properties": {"product_id": "SKU-001", "price": 99.99}}),
        json!({"type": "identify", "website_id": w, "visitor_id": "v1", "user_id": "user_123",
               "email": "user@example.com", "name": "John Doe", "properties": {"plan": "pro"},
               "created_at": "2024-01-01T00:00:00Z"}),
    ])
    .await;

    let summary = app.summary(w, "2024-05-01", "2024-05-01").await;
    assert_eq!(summary["totals"]["pageviews"], 1);
    assert_eq!(summary["totals"]["events"], 1);
    assert_eq!(summary["totals"]["sessions"], 1);
    assert_eq!(summary["totals"]["visitors"], 1);

    let visitors = app
        .get_json(&app.api(&format!(
            "/analytics/{w}/visitors?from=2024-05-01&to=2024-05-01"
        )))
        .await;
    let row = &visitors["data"][0];
    assert_eq!(row["visitor_id"], "v1");
    assert_eq!(row["user_id"], "user_123");
    assert_eq!(row["email"], "user@example.com");
    assert_eq!(
        (&row["device"], &row["browser"], &row["country"]),
        (&json!("desktop"), &json!("Chrome"), &json!("US"))
    );
    assert_eq!(row["first_seen"], "2024-05-01T10:00:00Z");
    assert_eq!(row["last_seen"], "2024-05-01T10:01:00Z");

    let pages = app
        .get_json(&app.api(&format!(
            "/analytics/{w}/pages?from=2024-05-01&to=2024-05-01"
        )))
        .await;
    assert_eq!(
        pages["data"],
        json!([{"url": "/products/widget", "pageviews": 1, "unique_visitors": 1}])
    );
}

#[tokio::test]
async fn bad_lines_are_reported_by_number_and_the_good_ones_kept() {
    let app = spawn_app().await;
    let w = &app.website;
    let body = format!(
        "{}\n{{\"type\":\"pageview\"\n\n{}\n{}\n{}\n",
        pageview(w, "v1", "2024-05-01T10:00:00Z", "/"),
        json!({"type": "event", "website_id": w, "visitor_id": "v1", "timestamp": "2024-05-01T10:00:05Z", "name": "x", "colour": "red"}),
        pageview("web_nope", "v1", "2024-05-01T10:00:00Z", "/"),
        event(w, "v1", "2024-05-01T10:02:00Z", "signup"),
    );
    let response = app.ingest_with(Some(&app.admin_key), body).await;
    assert_eq!(response.status(), StatusCode::OK);
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["accepted"], 2);
    assert_eq!(report["rejected"], 3);
    let rejected: Vec<(u64, &str)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rejected,
        [
            (2, "malformed_json"),
            (4, "unknown_field"),
            (5, "unknown_website")
        ]
    );
    assert_eq!(
        app.everything(w).await,
        json!({"pageviews": 1, "events": 1, "sessions": 1})
    );
}

#[tokio::test]
async fn a_key_ingests_only_into_its_own_accounts_websites() {
    let app = spawn_app().await;
    let (other_key, _) = app.other_account().await;
    let body = ndjson(&[pageview(&app.website, "v1", "2024-05-01T10:00:00Z", "/")]);
    let report: Value = app
        .ingest_with(Some(&other_key), body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["accepted"], 0);
    assert_eq!(report["errors"][0]["code"], "unknown_website");
    app.assert_nothing_stored(&app.website).await;
}

const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";

#[tokio::test]
async fn the_tracker_records_device_browser_and_country_and_ignores_bots() {
    let mut args = ServeArgs::loopback();
    args.country_header = Some("CF-IPCountry".into());
    let app = spawn_app_with(args).await;
    let hit = |ua: &str, body: Value| {
        app.client
            .post(app.url("/api/event"))
            .header("User-Agent", ua)
            .header("CF-IPCountry", "de")
            .header("Content-Type", "text/plain")
            .body(body.to_string())
            .send()
    };
    let response = hit(CHROME, json!({"domain": "shop.example.com", "type": "pageview", "visitor_id": "b1", "url": "/", "title": "Home"}))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let response = hit(CHROME, json!({"website_id": app.website, "type": "event", "visitor_id": "b1", "name": "signup", "properties": {"plan": "pro"}}))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let bot = hit(
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        json!({"domain": "shop.example.com", "visitor_id": "bot", "url": "/"}),
    )
    .await
    .unwrap();
    assert_eq!(bot.json::<Value>().await.unwrap()["stored"], false);
    let identify = app
        .client
        .post(app.url("/api/identify"))
        .json(&json!({"website_id": app.website, "visitor_id": "b1", "user_id": "u9", "email": "u9@example.com",
            "user_hash": ferry::identify_signature::user_hash(&app.identify_secret, "u9")}))
        .send()
        .await
        .unwrap();
    assert_eq!(identify.status(), StatusCode::ACCEPTED);

    let visitors = app
        .get_json(&app.api(&format!("/analytics/{}/visitors", app.website)))
        .await;
    let rows = visitors["data"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "the bot is not recorded: {visitors}");
    let row = &rows[0];
    assert_eq!(
        (&row["device"], &row["browser"], &row["country"]),
        (&json!("desktop"), &json!("Chrome"), &json!("DE"))
    );
    assert_eq!(
        (&row["pageviews"], &row["user_id"]),
        (&json!(1), &json!("u9"))
    );
    let summary = app
        .get_json(&app.api(&format!("/analytics/{}", app.website)))
        .await;
    assert_eq!(summary["totals"]["events"], 1);
}

#[tokio::test]
async fn the_tracker_script_is_served_as_javascript() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/js/ferry.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/javascript")
    );
    let script = response.text().await.unwrap();
    for needle in [
        "/api/event",
        "/api/identify",
        "user_hash",
        "pushState",
        "localStorage",
    ] {
        assert!(script.contains(needle), "ferry.js handles {needle}");
    }
}

#[tokio::test]
async fn the_country_comes_from_a_maxmind_database_by_peer_or_proxy_address() {
    // The checkout running the test, not the one that first built it (see golden.rs).
    let dir =
        std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into());
    let fixture = format!("{dir}/tests/fixtures/geoip-country-test.mmdb");
    let mut args = ServeArgs::loopback();
    args.geoip_db = Some(fixture.clone().into());
    let app = spawn_app_with(args).await;
    let hit = |visitor: &str| json!({"website_id": app.website, "visitor_id": visitor, "url": "/"});
    let direct = app
        .client
        .post(app.url("/api/event"))
        .json(&hit("peer"))
        .send()
        .await
        .unwrap();
    assert_eq!(direct.status(), StatusCode::ACCEPTED);

    let mut args = ServeArgs::loopback();
    args.geoip_db = Some(fixture.into());
    args.client_ip_header = Some("X-Forwarded-For".into());
    let proxied = spawn_app_with(args).await;
    let hit = json!({"website_id": proxied.website, "visitor_id": "proxied", "url": "/"});
    let response = proxied
        .client
        .post(proxied.url("/api/event"))
        .header("X-Forwarded-For", "203.0.113.5, 10.0.0.1")
        .json(&hit)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);

    for (app, expected) in [(&app, "NL"), (&proxied, "JP")] {
        let visitors = app
            .get_json(&app.api(&format!("/analytics/{}/visitors", app.website)))
            .await;
        assert_eq!(visitors["data"][0]["country"], expected);
    }
}

#[tokio::test]
async fn concurrent_batches_from_two_accounts_each_get_their_own_report() {
    let app = spawn_app().await;
    let (other_key, other_site) = app.other_account().await;
    let mine = &app.website;
    // Each batch has one line for its own account's website and one for the other's.
    let batch = |i: usize, own: &str, foreign: &str| {
        ndjson(&[
            pageview(own, &format!("v{i}"), "2024-05-01T10:00:00Z", "/"),
            pageview(foreign, &format!("v{i}"), "2024-05-01T10:00:00Z", "/"),
        ])
    };
    let requests = (0..16).map(|i| {
        let (key, own, foreign) = if i % 2 == 0 {
            (app.admin_key.clone(), mine.clone(), other_site.clone())
        } else {
            (other_key.clone(), other_site.clone(), mine.clone())
        };
        let body = batch(i, &own, &foreign);
        let app = &app;
        async move {
            let report: Value = app
                .ingest_with(Some(&key), body)
                .await
                .json()
                .await
                .unwrap();
            report
        }
    });
    let reports = futures_util::future::join_all(requests).await;
    for report in &reports {
        assert_eq!(report["accepted"], 1, "{report}");
        assert_eq!(report["errors"][0]["line"], 2, "{report}");
        assert_eq!(report["errors"][0]["code"], "unknown_website", "{report}");
    }
    assert_eq!(app.everything(mine).await["pageviews"], 8);
    let theirs: Value = app
        .client
        .get(app.api(&format!(
            "/analytics/{other_site}?from=2024-05-01&to=2024-05-01"
        )))
        .header("X-API-Key", &other_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["totals"]["pageviews"], 8);
}

#[tokio::test]
async fn the_public_tracker_takes_at_most_64_kib_while_keyed_ingest_keeps_the_server_limit() {
    let app = spawn_app().await;
    let hit = |name: String| json!({"website_id": app.website, "type": "pageview", "visitor_id": "b1", "url": format!("/{name}")});
    let big = hit("x".repeat(70 * 1024)).to_string();
    let response = app
        .client
        .post(app.url("/api/event"))
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(response).await,
        (StatusCode::PAYLOAD_TOO_LARGE, "body_too_large".into())
    );
    let small = app
        .client
        .post(app.url("/api/event"))
        .body(hit("fine".into()).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(small.status(), StatusCode::ACCEPTED);
    // An authenticated import of the same size is within the server's 16 MiB.
    let line = pageview(
        &app.website,
        "v1",
        "2024-05-01T10:00:00Z",
        &"/y".repeat(35 * 1024),
    );
    let imported = app.ingest_with(Some(&app.admin_key), ndjson(&[line])).await;
    assert_eq!(imported.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_body_of_many_bad_lines_gets_the_count_and_the_first_thousand_of_them() {
    let app = spawn_app().await;
    let mut body = String::new();
    for _ in 0..1_500 {
        body.push_str("{\"type\":\"pageview\",\"colour\":\"red\"}\n");
    }
    body.push_str(&format!(
        "{}\n",
        pageview(&app.website, "v1", "2024-05-01T10:00:00Z", "/")
    ));
    let response = app.ingest_with(Some(&app.admin_key), body).await;
    assert_eq!(response.status(), StatusCode::OK);
    let report: Value = response.json().await.unwrap();
    assert_eq!(
        (report["accepted"].as_u64(), report["rejected"].as_u64()),
        (Some(1), Some(1_500))
    );
    let listed = report["errors"].as_array().unwrap();
    assert_eq!(listed.len(), 1_000);
    assert_eq!(
        (listed[0]["line"].as_u64(), listed[999]["line"].as_u64()),
        (Some(1), Some(1_000))
    );
    assert_eq!(report["errors_truncated"], true);
}

#[tokio::test]
async fn an_identify_that_would_take_a_users_merged_properties_over_16_kib_is_refused_and_changes_nothing()
 {
    let app = spawn_app().await;
    let w = &app.website;
    // Each line is within the per-line limits (64 keys, 8 KiB), ~6.5 KB of new keys each.
    let properties = |batch: usize| -> Value {
        (0..60)
            .map(|k| (format!("b{batch}_k{k:02}"), json!("x".repeat(90))))
            .collect::<serde_json::Map<String, Value>>()
            .into()
    };
    let identify = |visitor: &str, batch: usize| {
        json!({"type": "identify", "website_id": w, "visitor_id": visitor, "user_id": "big",
               "properties": properties(batch)})
    };
    app.ingest_ok(&[identify("v1", 1), identify("v2", 2)]).await;

    let response = app
        .ingest_with(
            Some(&app.admin_key),
            ndjson(&[identify("v3", 3), identify("v4", 1)]),
        )
        .await;
    let report: Value = response.json().await.unwrap();
    assert_eq!(report["accepted"], 1, "{report}");
    assert_eq!(report["errors"][0]["line"], 1);
    assert_eq!(report["errors"][0]["code"], "invalid_value");
    let message = report["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("16384"), "{message}");

    let user = app.get_json(&app.api("/users/big")).await;
    let keys = user["properties"].as_object().unwrap();
    assert_eq!(keys.len(), 120, "the refused line added no key");
    assert!(!keys.contains_key("b3_k00"));
    let visitors = texts(&user["identities"], "visitor_id");
    assert_eq!(
        visitors,
        ["v1", "v2", "v4"],
        "the refused line linked no visitor; rewriting stored keys is fine"
    );
}
