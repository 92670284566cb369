//! The story's dashboard users: an email signs in to one account (in any case), a session is
//! found by its token's hash until it expires or is deleted, and an account lists only its own
//! users.

use std::sync::Arc;

use ferry_domain::{AccountId, Millis};
use ferry_store::{DashboardRole, NewDashboardUser, Store, StoreError};

fn user(id: &str, email: &str) -> NewDashboardUser {
    NewDashboardUser {
        id: id.into(),
        email: email.into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        role: DashboardRole::Admin,
    }
}

pub async fn dashboard(store: &Arc<dyn Store>, acme: AccountId, other: AccountId, now: Millis) {
    let ann = store
        .create_dashboard_user(acme, user("usr_1", "Ann@Acme.test"))
        .await
        .unwrap();
    assert_eq!(ann.account, acme);
    let taken = store
        .create_dashboard_user(other, user("usr_2", "ann@acme.TEST"))
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    store
        .create_dashboard_user(other, user("usr_3", "bob@other.test"))
        .await
        .unwrap();

    let (found, hash) = store
        .dashboard_login("ANN@acme.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, "usr_1");
    assert!(hash.starts_with("$argon2id$"));
    assert!(
        store
            .dashboard_login("nobody@acme.test")
            .await
            .unwrap()
            .is_none()
    );
    let listed: Vec<String> = store
        .dashboard_users(acme)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(listed, ["usr_1"]);

    store
        .create_dashboard_session("hash-1", "usr_1", now, now + 1_000)
        .await
        .unwrap();
    let missing = store
        .create_dashboard_session("hash-x", "usr_missing", now, now + 1_000)
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)));
    let session = store.dashboard_session("hash-1", now + 999).await.unwrap();
    assert_eq!(session.map(|u| u.id).as_deref(), Some("usr_1"));
    assert!(
        store
            .dashboard_session("hash-1", now + 1_000)
            .await
            .unwrap()
            .is_none(),
        "expired"
    );
    assert!(
        store
            .dashboard_session("hash-2", now)
            .await
            .unwrap()
            .is_none()
    );
    store
        .create_dashboard_session("hash-2", "usr_1", now, now + 1_000)
        .await
        .unwrap();
    store.delete_dashboard_session("hash-2", now).await.unwrap();
    assert!(
        store
            .dashboard_session("hash-2", now)
            .await
            .unwrap()
            .is_none(),
        "signed out"
    );
}

/// Removing a user (last in the story: it writes an audit entry the audit story does not
/// expect) ends their sessions at once; another account cannot remove them.
pub async fn dashboard_removal(
    store: &Arc<dyn Store>,
    acme: AccountId,
    other: AccountId,
    now: Millis,
) {
    store
        .create_dashboard_session("hash-3", "usr_1", now, now + 1_000)
        .await
        .unwrap();
    let theirs = store
        .delete_dashboard_user(other, "usr_1", super::event("dashboard_user.removed", None))
        .await
        .unwrap();
    assert!(!theirs, "another account's user is not found");
    assert!(
        store
            .dashboard_session("hash-3", now)
            .await
            .unwrap()
            .is_some()
    );
    let removed = store
        .delete_dashboard_user(acme, "usr_1", super::event("dashboard_user.removed", None))
        .await
        .unwrap();
    assert!(removed);
    assert!(
        store
            .dashboard_session("hash-3", now)
            .await
            .unwrap()
            .is_none(),
        "signed out"
    );
    assert!(
        store
            .dashboard_login("ann@acme.test")
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.dashboard_users(acme).await.unwrap().is_empty());
}
