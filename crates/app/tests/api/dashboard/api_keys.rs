//! Settings → API keys: an admin makes a key (shown once) and revokes it; a member cannot.

use ferry_store::DashboardRole;
use reqwest::StatusCode;

use super::{add_user, add_user_as, location, login};
use crate::helpers::spawn_app;

#[tokio::test]
async fn an_admin_creates_a_key_shown_once_that_works_until_revoked_and_a_member_cannot() {
    let app = spawn_app().await;
    add_user(app.store.as_ref(), "acme", "admin@company.com").await;
    add_user_as(
        app.store.as_ref(),
        "acme",
        "member@company.com",
        DashboardRole::Member,
    )
    .await;
    let admin = login(&app.base, "admin@company.com").await;

    let made = admin
        .post(
            "/settings/api-keys",
            &[("name", "reporting"), ("scope_analytics:read", "on")],
            true,
        )
        .await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let page = made.text().await.unwrap();
    let needle = "id=\"secret\" readonly value=\"";
    let at = page.find(needle).expect("the new key") + needle.len();
    let secret = page[at..].split('"').next().unwrap().to_string();
    assert!(secret.starts_with("fy_"), "{secret}");
    let works = app.get_with(&secret, &app.api("/websites")).await;
    assert_eq!(works.status(), StatusCode::OK);
    let listed = admin.text("/settings/api-keys").await;
    assert!(
        listed.contains("reporting") && !listed.contains(&secret),
        "shown once"
    );

    let keys = app.get_json(&app.api("/keys")).await;
    let id = keys["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "reporting")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let revoke = format!("/settings/api-keys/{id}/revoke");
    assert_eq!(
        admin.post(&revoke, &[], false).await.status(),
        StatusCode::FORBIDDEN,
        "no CSRF token"
    );
    assert_eq!(
        app.get_with(&secret, &app.api("/websites")).await.status(),
        StatusCode::OK
    );

    // A member sees no keys and can neither make nor revoke one.
    let member = login(&app.base, "member@company.com").await;
    assert_eq!(
        member.get("/settings/api-keys").await.status(),
        StatusCode::FORBIDDEN
    );
    let refused = member
        .post(
            "/settings/api-keys",
            &[("name", "sneaky"), ("scope_admin", "on")],
            true,
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        member.post(&revoke, &[], true).await.status(),
        StatusCode::FORBIDDEN
    );
    let keys = app.get_json(&app.api("/keys")).await;
    assert!(!keys.to_string().contains("sneaky"));

    // Another account's admin cannot revoke it either.
    let (_, _) = app.other_account().await;
    add_user(app.store.as_ref(), "globex", "admin@globex.test").await;
    let stranger = login(&app.base, "admin@globex.test").await;
    assert_eq!(
        stranger.post(&revoke, &[], true).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get_with(&secret, &app.api("/websites")).await.status(),
        StatusCode::OK
    );

    let revoked = admin.post(&revoke, &[], true).await;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&revoked), "/settings/api-keys");
    assert_eq!(
        app.get_with(&secret, &app.api("/websites")).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let trail = app.get_json(&app.api("/audit?action=api_key")).await;
    let by_admin: Vec<&str> = trail["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == "admin@company.com")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(by_admin, ["api_key.created", "api_key.revoked"]);

    // No scope ticked: refused with what to do, nothing made.
    let none = admin
        .post("/settings/api-keys", &[("name", "empty")], true)
        .await;
    assert_eq!(none.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(none.text().await.unwrap().contains("at least one scope"));
}
