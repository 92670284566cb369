//! Editing a schedule on the Scheduled page: the service's `update`, audited as the user; a
//! refused edit shows why and changes nothing; the website cannot change; another account's
//! schedule cannot be opened or changed.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{add_user, location, login};
use crate::helpers::{TestApp, spawn_app};

const PAGE: &str = "/settings/data-export/scheduled";

async fn schedule(app: &TestApp, id: &str) -> Value {
    app.get_json(&app.api(&format!("/schedules/{id}"))).await
}

#[tokio::test]
async fn an_edit_changes_frequency_types_format_and_state_through_the_service_and_a_bad_one_nothing()
 {
    let app = spawn_app().await;
    add_user(app.store.as_ref(), "acme", "admin@company.com").await;
    let made = crate::schedules::create(
        &app,
        json!({"website_id": app.website, "frequency": "daily", "include": ["pageviews"], "format": "csv"}),
    )
    .await;
    let id = made["id"].as_str().unwrap().to_string();
    let admin = login(&app.base, "admin@company.com").await;

    let form = admin.text(&format!("{PAGE}/{id}/edit")).await;
    assert!(
        form.contains(&format!("action=\"{PAGE}/{id}/edit\"")),
        "{form}"
    );
    assert!(form.contains("name=\"dt_pageviews\" checked"));
    assert!(!form.contains("name=\"starts_on\""), "the first day stays");

    let edit = format!("{PAGE}/{id}/edit");
    let bad = admin
        .post(
            &edit,
            &[
                ("website_id", &app.website),
                ("frequency", "cron"),
                ("cron", "5 5 * * *"),
                ("dt_sessions", "on"),
                ("format", "json"),
            ],
            true,
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = bad.text().await.unwrap();
    assert!(page.contains("id=\"schedule-error\"") && page.contains("`0 0`"));
    assert!(page.contains(&format!("Edit schedule <code>{id}</code>")));
    let (_, other_site) = app.other_account().await;
    let moved = admin
        .post(
            &edit,
            &[
                ("website_id", &other_site),
                ("frequency", "daily"),
                ("dt_pageviews", "on"),
            ],
            true,
        )
        .await;
    assert_eq!(moved.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        moved
            .text()
            .await
            .unwrap()
            .contains("website cannot change")
    );
    let forged = admin
        .post(
            &edit,
            &[("website_id", &app.website), ("frequency", "weekly")],
            false,
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(schedule(&app, &id).await["frequency"], "daily", "unchanged");

    let ok = admin
        .post(
            &edit,
            &[
                ("website_id", &app.website),
                ("frequency", "weekly"),
                ("dt_sessions", "on"),
                ("dt_summary", "on"),
                ("format", "ndjson"),
            ],
            true,
        )
        .await;
    assert_eq!(location(&ok), format!("{PAGE}?done=schedule-updated"));
    let after = schedule(&app, &id).await;
    assert_eq!(after["frequency"], "weekly");
    assert_eq!(after["format"], "ndjson");
    assert_eq!(after["include"], json!(["sessions", "summary"]));
    assert_eq!(after["enabled"], false, "the box was not ticked");
    assert_eq!(after["starts_on"], made["starts_on"]);
    let trail = app.get_json(&app.api("/audit?action=schedule")).await;
    let updated: Vec<&Value> = trail["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "schedule.updated")
        .collect();
    assert_eq!(updated.len(), 1);
    assert_eq!(updated[0]["actor"], "admin@company.com");
}

#[tokio::test]
async fn another_accounts_schedule_cannot_be_opened_or_edited() {
    let app = spawn_app().await;
    let (globex_key, globex_site) = app.other_account().await;
    add_user(app.store.as_ref(), "acme", "admin@acme.test").await;
    let theirs: Value = app
        .client
        .post(app.api("/schedules"))
        .header("X-API-Key", &globex_key)
        .json(&json!({"website_id": globex_site, "frequency": "daily"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = theirs["id"].as_str().unwrap();
    let acme = login(&app.base, "admin@acme.test").await;
    let edit = format!("{PAGE}/{id}/edit");
    assert_eq!(acme.get(&edit).await.status(), StatusCode::NOT_FOUND);
    let r = acme
        .post(
            &edit,
            &[
                ("website_id", &globex_site),
                ("frequency", "weekly"),
                ("dt_pageviews", "on"),
            ],
            true,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let still: Value = app
        .client
        .get(app.api(&format!("/schedules/{id}")))
        .header("X-API-Key", &globex_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(still["frequency"], "daily");
}
