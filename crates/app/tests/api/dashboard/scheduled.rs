//! Settings → Data Export → Scheduled, over HTTP: schedules and destinations made on the page
//! are the API's (the same services, audited as the signed-in user), credentials never come
//! back, bad input changes nothing, every route needs a session and a CSRF token, members
//! cannot touch destinations, and one account never sees or changes another's.

use ferry_store::DashboardRole;
use reqwest::StatusCode;
use reqwest::header::COOKIE;
use serde_json::{Value, json};

use super::{Signed, add_user, add_user_as, client, location, login};
use crate::helpers::{TestApp, spawn_app};

const PAGE: &str = "/settings/data-export/scheduled";
const SECRET: &str = "s3cret-Value-that-must-never-show";

/// Every route of the page, with a method it takes.
const ROUTES: [(&str, &str); 8] = [
    ("GET", PAGE),
    ("POST", PAGE),
    ("POST", "/settings/data-export/scheduled/sch_1/enabled"),
    ("POST", "/settings/data-export/scheduled/sch_1/run"),
    ("POST", "/settings/data-export/scheduled/sch_1/delete"),
    ("POST", "/settings/data-export/scheduled/destinations"),
    (
        "POST",
        "/settings/data-export/scheduled/destinations/dst_1/test",
    ),
    (
        "POST",
        "/settings/data-export/scheduled/destinations/dst_1/delete",
    ),
];

fn s3_form<'a>(bucket: &'a str, secret: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("type", "s3"),
        ("name", "warehouse"),
        ("bucket", bucket),
        ("region", "us-east-1"),
        ("path", "ferry-exports/"),
        ("access_key_id", "ferry-test"),
        ("secret_access_key", secret),
        ("endpoint", crate::delivery::MOTO),
    ]
}

async fn listed(app: &TestApp, what: &str) -> Vec<Value> {
    app.get_json(&app.api(&format!("/{what}"))).await["data"]
        .as_array()
        .unwrap()
        .clone()
}

/// The audit trail's actions by `actor`, oldest first.
async fn actions_by(app: &TestApp, actor: &str) -> Vec<String> {
    app.get_json(&app.api("/audit")).await["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == actor)
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

async fn create_schedule(admin: &Signed, website: &str, destination: &str) -> reqwest::Response {
    admin
        .post(
            PAGE,
            &[
                ("website_id", website),
                ("frequency", "daily"),
                ("format", "csv"),
                ("dt_pageviews", "on"),
                ("dt_events", "on"),
                ("destination_id", destination),
                ("enabled", "on"),
            ],
            true,
        )
        .await
}

#[tokio::test]
async fn schedules_and_destinations_made_on_the_page_are_the_apis_audited_as_the_user_with_credentials_write_only()
 {
    let app = spawn_app().await;
    add_user(app.store.as_ref(), "acme", "admin@company.com").await;
    let admin = login(&app.base, "admin@company.com").await;
    let post = |path: &'static str, pairs: Vec<(&'static str, &'static str)>, csrf: bool| {
        let admin = &admin;
        async move { admin.post(path, &pairs, csrf).await }
    };

    // No CSRF token: refused, nothing stored.
    let forged = post(
        "/settings/data-export/scheduled/destinations",
        s3_form("b", SECRET),
        false,
    )
    .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(listed(&app, "destinations").await.is_empty());

    // A missing field: the service's reason beside the form, the credential not echoed back.
    let mut incomplete = s3_form("", SECRET);
    incomplete.retain(|(k, _)| *k != "bucket");
    let refused = post(
        "/settings/data-export/scheduled/destinations",
        incomplete,
        true,
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = refused.text().await.unwrap();
    assert!(page.contains("id=\"destination-error\""), "{page}");
    assert!(page.contains("needs `bucket`"), "{page}");
    assert!(
        !page.contains(SECRET),
        "a credential is never put back in a form"
    );
    assert!(
        page.contains("value=\"ferry-test\""),
        "other fields are kept"
    );
    assert!(listed(&app, "destinations").await.is_empty());

    let made = post(
        "/settings/data-export/scheduled/destinations",
        s3_form("reports", SECRET),
        true,
    )
    .await;
    assert_eq!(made.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&made), format!("{PAGE}?done=destination-created"));
    let destinations = listed(&app, "destinations").await;
    assert_eq!(destinations.len(), 1, "the API sees what the page made");
    let dst = destinations[0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        destinations[0]["destination"]["secret_access_key"],
        "redacted"
    );
    let page = admin.text(PAGE).await;
    assert!(page.contains(&dst) && page.contains("reports"));
    assert!(page.contains("secret_access_key</span>: <em class=\"secret-set\">set</em>"));
    assert!(!page.contains(SECRET), "never rendered");

    // A schedule to it; a bad frequency is refused with the service's message.
    let bad = admin
        .post(
            PAGE,
            &[
                ("website_id", &app.website),
                ("frequency", "cron"),
                ("cron", "30 2 * * *"),
                ("dt_pageviews", "on"),
            ],
            true,
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = bad.text().await.unwrap();
    assert!(page.contains("id=\"schedule-error\""));
    assert!(page.contains("must start with `0 0`"), "{page}");
    assert!(
        page.contains("value=\"30 2 * * *\""),
        "the form comes back as sent"
    );
    assert!(listed(&app, "schedules").await.is_empty());
    let no_csrf = admin
        .post(
            PAGE,
            &[("website_id", &app.website), ("frequency", "daily")],
            false,
        )
        .await;
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);
    assert!(listed(&app, "schedules").await.is_empty());

    let created = create_schedule(&admin, &app.website, &dst).await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let schedules = listed(&app, "schedules").await;
    assert_eq!(schedules.len(), 1);
    let sch = schedules[0]["id"].as_str().unwrap().to_string();
    assert_eq!(schedules[0]["destination_id"], dst.as_str());
    assert_eq!(schedules[0]["include"], json!(["pageviews", "events"]));

    let path = |action: &str| format!("{PAGE}/{sch}/{action}");
    let off = admin
        .post(&path("enabled"), &[("enabled", "false")], true)
        .await;
    assert_eq!(location(&off), format!("{PAGE}?done=schedule-disabled"));
    assert_eq!(listed(&app, "schedules").await[0]["enabled"], false);
    assert!(admin.text(PAGE).await.contains("data-enabled=\"false\""));
    admin
        .post(&path("enabled"), &[("enabled", "true")], true)
        .await;
    assert_eq!(listed(&app, "schedules").await[0]["enabled"], true);
    let ran = admin.post(&path("run"), &[], true).await;
    assert_eq!(location(&ran), format!("{PAGE}?done=schedule-run"));
    assert_eq!(
        admin.post(&path("delete"), &[], false).await.status(),
        StatusCode::FORBIDDEN
    );
    admin.post(&path("delete"), &[], true).await;
    assert!(listed(&app, "schedules").await.is_empty());
    admin
        .post(&format!("{PAGE}/destinations/{dst}/delete"), &[], true)
        .await;
    assert!(listed(&app, "destinations").await.is_empty());

    assert_eq!(
        actions_by(&app, "admin@company.com").await,
        [
            "dashboard.signed_in",
            "destination.created",
            "schedule.created",
            "schedule.disabled",
            "schedule.enabled",
            "schedule.run_requested",
            "schedule.deleted",
            "destination.deleted",
        ]
    );
}

#[tokio::test]
async fn the_scheduled_page_needs_a_session_and_members_cannot_touch_destinations() {
    let app = spawn_app().await;
    add_user_as(
        app.store.as_ref(),
        "acme",
        "member@company.com",
        DashboardRole::Member,
    )
    .await;
    for cookie in [None, Some("ferry_session=made-up-token")] {
        for (method, path) in ROUTES {
            let c = client();
            let mut request = match method {
                "GET" => c.get(app.url(path)),
                _ => c
                    .post(app.url(path))
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body("csrf=x&type=local&path=/tmp/x&website_id=w&frequency=daily"),
            };
            if let Some(cookie) = cookie {
                request = request.header(COOKIE, cookie);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "{method} {path}");
            assert_eq!(location(&response), "/login", "{method} {path}");
        }
    }
    assert!(listed(&app, "destinations").await.is_empty());
    assert!(listed(&app, "schedules").await.is_empty());

    let member = login(&app.base, "member@company.com").await;
    let page = member.text(PAGE).await;
    assert!(
        !page.contains("New destination"),
        "no destination forms for members"
    );
    let refused = member
        .post(
            "/settings/data-export/scheduled/destinations",
            &[("type", "local"), ("path", "/tmp/ferry-member")],
            true,
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(listed(&app, "destinations").await.is_empty());
}

#[tokio::test]
async fn a_user_never_sees_or_changes_another_accounts_schedules_or_destinations() {
    let app = spawn_app().await;
    let (globex_key, globex_site) = app.other_account().await;
    add_user(app.store.as_ref(), "acme", "admin@acme.test").await;
    let as_globex = |path: &str, body: Value| {
        app.client
            .post(app.api(path))
            .header("X-API-Key", &globex_key)
            .json(&body)
            .send()
    };
    let theirs: Value = as_globex(
        "/destinations",
        json!({"name": "globex-vault", "destination": {"type": "local", "path": "/tmp/globex-vault"}}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let their_dst = theirs["id"].as_str().unwrap().to_string();
    let schedule: Value = as_globex(
        "/schedules",
        json!({"website_id": globex_site, "frequency": "weekly", "destination_id": their_dst}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let their_sch = schedule["id"].as_str().unwrap().to_string();

    let acme = login(&app.base, "admin@acme.test").await;
    let page = acme.text(PAGE).await;
    let never = [
        their_dst.as_str(),
        their_sch.as_str(),
        "globex-vault",
        globex_site.as_str(),
    ];
    for theirs in never {
        assert!(!page.contains(theirs), "{theirs} is another account's");
    }
    for action in ["enabled", "run", "delete"] {
        let r = acme
            .post(
                &format!("{PAGE}/{their_sch}/{action}"),
                &[("enabled", "false")],
                true,
            )
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{action}");
    }
    for action in ["test", "delete"] {
        let r = acme
            .post(
                &format!("{PAGE}/destinations/{their_dst}/{action}"),
                &[],
                true,
            )
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{action}");
    }
    // Their destination or website on a schedule of ours: not found, nothing made.
    let on_theirs = create_schedule(&acme, &app.website, &their_dst).await;
    assert_eq!(on_theirs.status(), StatusCode::NOT_FOUND);
    let their_site = create_schedule(&acme, &globex_site, "").await;
    assert_eq!(their_site.status(), StatusCode::NOT_FOUND);
    assert!(listed(&app, "schedules").await.is_empty());

    let get = |path: String| {
        app.client
            .get(app.api(&path))
            .header("X-API-Key", &globex_key)
            .send()
    };
    let still: Value = get(format!("/schedules/{their_sch}"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(still["enabled"], true, "untouched");
    let dst = get(format!("/destinations/{their_dst}")).await.unwrap();
    assert_eq!(dst.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_failing_destination_test_says_why_on_the_page_and_names_are_shown_as_text() {
    let app = spawn_app().await;
    add_user(app.store.as_ref(), "acme", "admin@company.com").await;
    let admin = login(&app.base, "admin@company.com").await;
    let mut form = s3_form("no-such-bucket-for-ferry", SECRET);
    form.retain(|(k, _)| *k != "name");
    form.push(("name", "<img src=x onerror=alert(1)>"));
    let made = admin
        .post(&format!("{PAGE}/destinations"), &form, true)
        .await;
    assert_eq!(made.status(), StatusCode::SEE_OTHER);
    let page = admin.text(PAGE).await;
    assert!(!page.contains("<img src=x"), "markup is escaped");
    let dst = listed(&app, "destinations").await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let tested = admin
        .post(&format!("{PAGE}/destinations/{dst}/test"), &[], true)
        .await;
    assert_eq!(tested.status(), StatusCode::OK);
    let page = tested.text().await.unwrap();
    assert!(
        page.contains("id=\"test-result\" data-ok=\"false\""),
        "{page}"
    );
    assert!(page.contains("failed the test"), "{page}");
    assert!(!page.contains(SECRET));
    let trail = app.get_json(&app.api("/audit?action=destination")).await;
    let tested: Vec<&Value> = trail["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "destination.tested")
        .collect();
    assert_eq!(tested.len(), 1);
    assert_eq!(tested[0]["actor"], "admin@company.com");
    assert_eq!(tested[0]["status"], "destination_unreachable");
}
