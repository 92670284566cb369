//! Settings → Users: an admin makes a user whose generated password is shown once and signs
//! in, removes them (their session ends at once), cannot remove themselves; members cannot
//! reach the page; another account's users are neither listed nor removable.

use ferry_store::DashboardRole;
use reqwest::StatusCode;

use super::{add_user, add_user_as, location, login, set_cookie, try_login};
use crate::helpers::spawn_app;

const PAGE: &str = "/settings/users";

fn password_of(page: &str) -> String {
    let needle = "id=\"new-password\" readonly value=\"";
    let at = page.find(needle).expect("the new password") + needle.len();
    page[at..].split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn an_admin_creates_a_user_shown_their_password_once_and_removes_them_but_not_themselves() {
    let app = spawn_app().await;
    add_user(app.store.as_ref(), "acme", "admin@company.com").await;
    let admin = login(&app.base, "admin@company.com").await;

    let forged = admin
        .post(
            PAGE,
            &[("email", "x@company.com"), ("role", "member")],
            false,
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let bad = admin
        .post(
            PAGE,
            &[("email", "not-an-address"), ("role", "member")],
            true,
        )
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(bad.text().await.unwrap().contains("not an address"));
    assert_eq!(
        app.store
            .dashboard_users(admin_account(&app).await)
            .await
            .unwrap()
            .len(),
        1
    );

    let made = admin
        .post(
            PAGE,
            &[("email", "dpo@company.com"), ("role", "member")],
            true,
        )
        .await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let password = password_of(&made.text().await.unwrap());
    assert_eq!(password.len(), 20);
    let listed = admin.text(PAGE).await;
    assert!(
        listed.contains("dpo@company.com") && !listed.contains(&password),
        "shown once"
    );
    let again = admin
        .post(
            PAGE,
            &[("email", "DPO@company.com"), ("role", "admin")],
            true,
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);

    // They sign in with it; as a member, Users is not for them.
    let signed = try_login(&app.base, "dpo@company.com", &password, &[]).await;
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    let (token, _) = set_cookie(&signed, "ferry_session").unwrap();
    let member_cookie = format!("ferry_session={token}");
    let as_member = super::client()
        .get(app.url(PAGE))
        .header("Cookie", &member_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(as_member.status(), StatusCode::FORBIDDEN);

    // Nobody removes themselves.
    let me = app
        .store
        .dashboard_users(admin_account(&app).await)
        .await
        .unwrap();
    let admin_id = me
        .iter()
        .find(|u| u.email == "admin@company.com")
        .unwrap()
        .id
        .clone();
    let dpo_id = me
        .iter()
        .find(|u| u.email == "dpo@company.com")
        .unwrap()
        .id
        .clone();
    let myself = admin
        .post(&format!("{PAGE}/{admin_id}/remove"), &[], true)
        .await;
    assert_eq!(myself.status(), StatusCode::BAD_REQUEST);
    assert!(
        myself
            .text()
            .await
            .unwrap()
            .contains("cannot remove yourself")
    );

    let removed = admin
        .post(&format!("{PAGE}/{dpo_id}/remove"), &[], true)
        .await;
    assert_eq!(location(&removed), PAGE);
    let after = super::client()
        .get(app.url("/settings/privacy/data-export"))
        .header("Cookie", &member_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(location(&after), "/login", "their session ended with them");
    let trail = app.get_json(&app.api("/audit?action=dashboard_user")).await;
    let by_admin: Vec<&str> = trail["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == "admin@company.com")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        by_admin,
        ["dashboard_user.created", "dashboard_user.removed"]
    );
}

async fn admin_account(app: &crate::helpers::TestApp) -> ferry_domain::AccountId {
    app.store.account_by_name("acme").await.unwrap().unwrap().id
}

#[tokio::test]
async fn another_accounts_users_are_neither_listed_nor_removable() {
    let app = spawn_app().await;
    app.other_account().await;
    add_user(app.store.as_ref(), "acme", "admin@acme.test").await;
    add_user_as(
        app.store.as_ref(),
        "globex",
        "ann@globex.test",
        DashboardRole::Member,
    )
    .await;
    let globex = app
        .store
        .account_by_name("globex")
        .await
        .unwrap()
        .unwrap()
        .id;
    let ann = app.store.dashboard_users(globex).await.unwrap()[0]
        .id
        .clone();
    let acme = login(&app.base, "admin@acme.test").await;
    let page = acme.text(PAGE).await;
    assert!(!page.contains("ann@globex.test") && !page.contains(&ann));
    let r = acme.post(&format!("{PAGE}/{ann}/remove"), &[], true).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.store.dashboard_users(globex).await.unwrap().len(),
        1,
        "still there"
    );
}
