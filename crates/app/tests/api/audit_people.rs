//! The audit trail answers "every export about this person" by any of their identifiers, in
//! the caller's account only, and pages like every other list.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::exports::{fetch, person, post};
use crate::helpers::*;

/// `GET /audit` with `key` and `params`, encoded as a client would.
async fn audit_with(app: &TestApp, key: &str, params: &[(&str, &str)]) -> reqwest::Response {
    let url = reqwest::Url::parse_with_params(&app.api("/audit"), params).unwrap();
    app.get_with(key, url.as_str()).await
}

async fn trail(app: &TestApp, key: &str, params: &[(&str, &str)]) -> Vec<Value> {
    let response = audit_with(app, key, params).await;
    assert_eq!(response.status(), StatusCode::OK, "{params:?}");
    let body: Value = response.json().await.unwrap();
    body["data"].as_array().unwrap().clone()
}

async fn queue(app: &TestApp, key: &str, path: &str, body: Value) -> String {
    let response = app
        .client
        .post(app.api(path))
        .header("X-API-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let queued: Value = response.json().await.unwrap();
    queued["export_id"].as_str().unwrap().to_string()
}

/// Each export's actions, in order.
fn by_export(entries: &[Value]) -> BTreeMap<String, Vec<String>> {
    let mut exports: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in entries {
        let id = e["export_id"].as_str().unwrap_or("none").to_string();
        exports
            .entry(id)
            .or_default()
            .push(e["action"].as_str().unwrap().to_string());
    }
    exports
}

#[tokio::test]
async fn every_export_of_a_person_is_found_by_any_of_their_identifiers_and_only_in_their_account() {
    let mut app = spawn_app().await;
    person(&app).await;
    let key = app.admin_key.clone();
    // Asked by email in another case: its first attempt fails (a file is in the way of the
    // scratch directory), the retry completes.
    let in_the_way = app.data_dir().join("work");
    std::fs::write(&in_the_way, b"in the way").unwrap();
    let email = json!({"subject": {"email": "USER@Example.com"}});
    let by_email = queue(&app, &key, "/exports", email).await;
    app.run_jobs().await;
    std::fs::remove_file(&in_the_way).unwrap();
    app.clock.advance(1_000);
    app.run_jobs().await;
    // Asked by user id: generated, downloaded (so delivered), then deleted.
    let by_id = queue(&app, &key, "/users/user_123/export", json!({})).await;
    app.run_jobs().await;
    let job = app.get_json(&app.api(&format!("/exports/{by_id}"))).await;
    fetch(&app, job["download_url"].as_str().unwrap(), None).await;
    app.downloads_recorded(1).await;
    let deleted = app
        .client
        .delete(app.api(&format!("/exports/{by_id}")))
        .header("X-API-Key", &key);
    assert_eq!(deleted.send().await.unwrap().status(), StatusCode::OK);
    // Someone else of the account, and the same user id and email in another account.
    let quiet = queue(&app, &key, "/users/user_quiet/export", json!({})).await;
    let (globex_key, globex_site) = app.other_account().await;
    let theirs = json!({"type": "identify", "website_id": globex_site, "visitor_id": "v1", "user_id": "user_123", "email": "user@example.com"});
    let ingested = app.ingest_with(Some(&globex_key), ndjson(&[theirs])).await;
    assert_eq!(ingested.status(), StatusCode::OK);
    let globex_export = queue(&app, &globex_key, "/users/user_123/export", json!({})).await;
    app.run_jobs().await;

    let everything = trail(&app, &key, &[("action", "data_export")]).await;
    let expected: BTreeMap<String, Vec<String>> = by_export(&everything)
        .into_iter()
        .filter(|(id, _)| *id == by_id || *id == by_email)
        .collect();
    let actions = |id: &String| expected[id].join(" ");
    assert_eq!(
        actions(&by_id),
        "data_export.requested data_export.started data_export.completed \
         data_export.download_started data_export.downloaded data_export.delivered \
         data_export.deleted"
    );
    assert_eq!(
        actions(&by_email),
        "data_export.requested data_export.started data_export.failed \
         data_export.started data_export.completed"
    );
    for subject in [
        "user_123",
        "user_id:user_123",
        "USER@example.com",
        "user@example.com",
        "email:user@example.com",
        "v1",
        "visitor_id:v1",
    ] {
        let found = trail(&app, &key, &[("subject", subject)]).await;
        assert_eq!(by_export(&found), expected, "subject={subject}");
        for entry in &found {
            assert_eq!(entry["person"], "user_id:user_123", "{entry}");
            let asked = if entry["export_id"] == by_id.as_str() {
                "user_id:user_123"
            } else {
                "email:USER@Example.com"
            };
            assert_eq!(entry["subject"], asked, "the identifier the request used");
        }
    }
    let quiet_trail = trail(&app, &key, &[("subject", "quiet@example.com")]).await;
    assert_eq!(
        by_export(&quiet_trail).into_keys().collect::<Vec<_>>(),
        [quiet]
    );

    // The other account sees its own export of its own user_123, never acme's.
    for subject in ["user_123", "user@example.com", "v1", "%", "_"] {
        let found = trail(&app, &globex_key, &[("subject", subject)]).await;
        let ids: BTreeSet<String> = by_export(&found).into_keys().collect();
        let own: BTreeSet<String> = if subject.len() > 1 {
            [globex_export.clone()].into()
        } else {
            BTreeSet::new()
        };
        assert_eq!(ids, own, "subject={subject}");
    }
    // The person changes their address: the old one and the new one both still find them.
    let w = &app.website;
    app.ingest_ok(&[json!({"type": "identify", "website_id": w, "visitor_id": "v1", "user_id": "user_123", "email": "renamed@example.com"})])
        .await;
    for subject in ["user@example.com", "RENAMED@example.com"] {
        let found = trail(&app, &key, &[("subject", subject)]).await;
        assert_eq!(by_export(&found), expected, "subject={subject}");
    }
    let (ok, out, err) = crate::cli::run(app.data_dir(), &["audit", "verify"]).await;
    assert!(ok && out.contains("audit trail intact"), "{out}{err}");
}

#[tokio::test]
async fn audit_filters_read_wildcards_as_text_and_refuse_what_can_name_nobody() {
    let app = spawn_app().await;
    person(&app).await;
    let key = app.admin_key.clone();
    queue(&app, &key, "/users/user_123/export", json!({})).await;
    assert!(
        !trail(&app, &key, &[("action", "data_export")])
            .await
            .is_empty()
    );
    for (filter, value) in [
        ("subject", "%"),
        ("subject", "_"),
        ("subject", "%user%"),
        ("subject", "user_id:%"),
        ("subject", "email:%@example.com"),
        ("subject", "user_12_"),
        ("subject", "' OR '1'='1"),
        ("action", "%"),
        ("action", "data%"),
        ("action", "data_export%"),
        ("action", "data_expor_"),
        ("actor", "%"),
    ] {
        let found = trail(&app, &key, &[(filter, value)]).await;
        assert!(found.is_empty(), "{filter}={value}: {found:?}");
    }
    let long = "u".repeat(401);
    let response = audit_with(&app, &key, &[("subject", &long)]).await;
    assert_eq!(
        error_code(response).await,
        (StatusCode::BAD_REQUEST, "invalid_query".into())
    );
}

#[tokio::test]
async fn audit_pages_by_cursor_give_every_entry_once_and_after_still_works() {
    let app = spawn_app().await;
    person(&app).await;
    for _ in 0..3 {
        post(&app, "/users/user_123/export", json!({})).await;
    }
    app.run_jobs().await;
    let key = app.admin_key.clone();
    let all: Vec<i64> = trail(&app, &key, &[])
        .await
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert!(all.len() >= 9, "{all:?}");

    for filter in [vec![], vec![("subject", "user@example.com")]] {
        let (mut seen, mut cursor) = (Vec::new(), None::<String>);
        loop {
            let mut params = filter.clone();
            params.push(("limit", "2"));
            if let Some(c) = &cursor {
                params.push(("cursor", c));
            }
            let response = audit_with(&app, &key, &params).await;
            let page: Value = response.json().await.unwrap();
            let data = page["data"].as_array().unwrap();
            assert!(data.len() <= 2);
            seen.extend(data.iter().map(|e| e["seq"].as_i64().unwrap()));
            assert_eq!(
                page["next_after"],
                data.last().map_or(Value::Null, |e| e["seq"].clone())
            );
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
        }
        let expected: Vec<i64> = if filter.is_empty() {
            all.clone()
        } else {
            let found = trail(&app, &key, &filter).await;
            found.iter().map(|e| e["seq"].as_i64().unwrap()).collect()
        };
        assert_eq!(seen, expected, "{filter:?}");
    }

    // `after` pages as it always did.
    let first = trail(&app, &key, &[("limit", "2")]).await;
    let after = first[1]["seq"].to_string();
    let rest = trail(&app, &key, &[("after", &after)]).await;
    let rest: Vec<i64> = rest.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert_eq!(rest, all[2..]);

    let both = audit_with(&app, &key, &[("after", "1"), ("cursor", "x")]).await;
    assert_eq!(
        error_code(both).await,
        (StatusCode::BAD_REQUEST, "invalid_query".into())
    );
    let exports = app.get_json(&app.api("/exports?limit=1")).await;
    let foreign = exports["next_cursor"].as_str().unwrap().to_string();
    for bad in ["not-a-cursor", foreign.as_str()] {
        let response = audit_with(&app, &key, &[("cursor", bad)]).await;
        assert_eq!(
            error_code(response).await,
            (StatusCode::BAD_REQUEST, "invalid_cursor".into())
        );
    }
}
