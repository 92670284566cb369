//! The privacy statement: one per account and one per website, replaced whole with its audit
//! entry, and never reachable through another account's website.

use std::sync::Arc;

use ferry_domain::AccountId;
use ferry_domain::privacy_statement::PrivacyStatement;
use ferry_store::{AuditFilter, Store, StoreError};

use super::event;

pub async fn privacy_statements(store: &Arc<dyn Store>, acme: AccountId, other: AccountId) {
    assert_eq!(store.privacy_statement(acme, None).await.unwrap(), None);
    assert_eq!(
        store.privacy_statement(acme, Some("web_a")).await.unwrap(),
        None
    );
    let account = PrivacyStatement {
        purposes: Some("Statistics".into()),
        ..Default::default()
    };
    let mut entry = event("privacy_statement.updated", None);
    entry.actor = "key_1".into();
    store
        .set_privacy_statement(acme, None, account.clone(), entry.clone(), 1_000)
        .await
        .unwrap();
    let site = PrivacyStatement {
        source: Some("Forms".into()),
        ..Default::default()
    };
    store
        .set_privacy_statement(acme, Some("web_a"), site.clone(), entry.clone(), 2_000)
        .await
        .unwrap();
    let stored = store.privacy_statement(acme, None).await.unwrap().unwrap();
    assert_eq!(
        (
            stored.statement,
            stored.updated_at,
            stored.updated_by.as_str()
        ),
        (account.clone(), 1_000, "key_1")
    );
    let stored = store
        .privacy_statement(acme, Some("web_a"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.statement, site, "a website's row is its own");

    // Replaced whole: a second set leaves one row, the new one.
    let replaced = PrivacyStatement::default();
    store
        .set_privacy_statement(acme, None, replaced.clone(), entry.clone(), 3_000)
        .await
        .unwrap();
    let stored = store.privacy_statement(acme, None).await.unwrap().unwrap();
    assert_eq!((stored.statement, stored.updated_at), (replaced, 3_000));

    // Another account's website is not found, to read or to write; nothing is written then.
    let theirs = store.privacy_statement(acme, Some("web_o")).await;
    assert!(matches!(theirs, Err(StoreError::NotFound)), "{theirs:?}");
    let before = audited(store, acme).await;
    let written = store
        .set_privacy_statement(acme, Some("web_o"), account, entry, 4_000)
        .await;
    assert!(matches!(written, Err(StoreError::NotFound)), "{written:?}");
    assert_eq!(
        audited(store, acme).await,
        before,
        "no audit entry without the change"
    );
    assert_eq!(
        store.privacy_statement(other, Some("web_o")).await.unwrap(),
        None
    );
    assert_eq!(store.privacy_statement(other, None).await.unwrap(), None);
}

async fn audited(store: &Arc<dyn Store>, account: AccountId) -> usize {
    let filter = AuditFilter {
        action: Some("privacy_statement.updated".into()),
        limit: 100,
        ..AuditFilter::default()
    };
    store.audit_entries(account, filter).await.unwrap().len()
}
