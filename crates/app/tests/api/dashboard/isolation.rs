//! One account's dashboard user never sees, finds, reads or deletes another account's data.

use reqwest::StatusCode;

use super::{add_person, add_user, login};
use crate::helpers::spawn_app;

#[tokio::test]
async fn a_user_of_one_account_never_sees_another_accounts_people_exports_or_trail() {
    let app = spawn_app().await;
    let (globex_key, globex_site) = app.other_account().await;
    add_user(app.store.as_ref(), "acme", "admin@acme.test").await;
    add_user(app.store.as_ref(), "globex", "admin@globex.test").await;
    add_person(
        &app,
        &globex_site,
        &globex_key,
        "g_user",
        "secret.person@globex.test",
    )
    .await;
    let globex = login(&app.base, "admin@globex.test").await;
    let theirs = globex.generate("g_user").await;
    app.run_jobs().await;
    assert!(
        globex
            .text("/settings/privacy/data-export")
            .await
            .contains(&theirs)
    );

    let acme = login(&app.base, "admin@acme.test").await;
    let page = acme.text("/settings/privacy/data-export").await;
    assert!(
        !page.contains(&theirs),
        "another account's export is not listed"
    );
    for find in ["g_user", "secret.person%40globex.test"] {
        let found = acme
            .text(&format!("/settings/privacy/data-export?find={find}"))
            .await;
        assert!(
            found.contains("Nobody with that user ID or email"),
            "{find}"
        );
        assert!(!found.contains("v-g_user"));
    }
    let receipt = acme
        .get(&format!("/settings/privacy/data-export/{theirs}/receipt"))
        .await;
    assert_eq!(receipt.status(), StatusCode::NOT_FOUND);
    let delete = acme
        .post(
            &format!("/settings/privacy/data-export/{theirs}/delete"),
            &[],
            true,
        )
        .await;
    assert_eq!(delete.status(), StatusCode::NOT_FOUND);
    assert!(
        globex
            .text("/settings/privacy/data-export")
            .await
            .contains("data-status=\"completed\""),
        "untouched"
    );

    // Asking for their person's export from the wrong account is refused like nobody at all.
    let refused = acme
        .post(
            "/settings/privacy/data-export",
            &[("subject", "g_user"), ("profile", "on")],
            true,
        )
        .await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);

    let trail = acme.text("/settings/audit-log").await;
    assert!(!trail.contains(&theirs) && !trail.contains("admin@globex.test"));
    let csv = acme.text("/settings/audit-log.csv").await;
    assert!(!csv.contains(&theirs) && !csv.contains("globex"));
}
