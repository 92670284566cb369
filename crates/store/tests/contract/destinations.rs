//! The story's destinations and deliveries: each account sees only its own destinations; a
//! delivery moves from pending through retries to delivered or failed, and its sealed copy
//! of the credentials is dropped once it has ended.

use std::sync::Arc;

use ferry_domain::{AccountId, Millis};
use ferry_store::{DeliveryRecord, DeliveryResult, DeliveryStatus, DestinationRecord, Store};

fn destination(id: &str, account: AccountId, now: Millis) -> DestinationRecord {
    DestinationRecord {
        id: id.into(),
        account,
        name: Some("warehouse".into()),
        kind: "s3".into(),
        settings: r#"{"type":"s3","bucket":"b"}"#.into(),
        sealed: "v1:sealed".into(),
        created_at: now,
        updated_at: now,
    }
}

fn delivery(export_id: &str, account: AccountId) -> DeliveryRecord {
    DeliveryRecord {
        export_id: export_id.into(),
        account,
        destination_id: Some("dst_1".into()),
        kind: "s3".into(),
        settings: r#"{"type":"s3","bucket":"b"}"#.into(),
        sealed: "v1:sealed".into(),
        status: DeliveryStatus::Pending,
        attempts: 0,
        error: None,
        location: None,
        delivered_at: None,
    }
}

pub async fn destinations(store: &Arc<dyn Store>, acme: AccountId, other: AccountId, now: Millis) {
    store
        .create_destination(destination("dst_1", acme, now))
        .await
        .unwrap();
    store
        .create_destination(destination("dst_2", acme, now + 1))
        .await
        .unwrap();
    let listed = store.destinations(acme).await.unwrap();
    assert_eq!(
        listed.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        ["dst_1", "dst_2"]
    );
    assert!(store.destinations(other).await.unwrap().is_empty());
    assert_eq!(
        store.destination(other, "dst_1").await.unwrap(),
        None,
        "another account's"
    );

    let mut changed = destination("dst_1", acme, now);
    changed.name = Some("lake".into());
    changed.updated_at = now + 5;
    assert!(store.update_destination(changed.clone()).await.unwrap());
    assert_eq!(
        store.destination(acme, "dst_1").await.unwrap(),
        Some(changed)
    );
    let mut foreign = destination("dst_2", other, now);
    foreign.name = Some("mine".into());
    assert!(
        !store.update_destination(foreign).await.unwrap(),
        "not across accounts"
    );
    assert!(!store.delete_destination(other, "dst_2").await.unwrap());
    assert!(store.delete_destination(acme, "dst_2").await.unwrap());
    assert_eq!(store.destination(acme, "dst_2").await.unwrap(), None);

    store.save_delivery(delivery("exp_d1", acme)).await.unwrap();
    let retry = DeliveryResult::Retrying {
        error: "down".into(),
    };
    store.record_delivery("exp_d1", retry, now).await.unwrap();
    let pending = store.delivery("exp_d1").await.unwrap().unwrap();
    assert_eq!(
        (pending.status, pending.attempts, pending.error.as_deref()),
        (DeliveryStatus::Pending, 1, Some("down"))
    );
    let done = DeliveryResult::Delivered {
        method: "s3".into(),
        location: Some("s3://b/exp_d1/".into()),
        at: now,
    };
    store.record_delivery("exp_d1", done, now).await.unwrap();
    let delivered = store.delivery("exp_d1").await.unwrap().unwrap();
    assert_eq!(
        (delivered.status, delivered.attempts, delivered.delivered_at),
        (DeliveryStatus::Delivered, 2, Some(now))
    );
    assert_eq!(delivered.error, None);
    assert_eq!(
        delivered.sealed, "",
        "the credentials' copy is dropped once delivered"
    );

    store.save_delivery(delivery("exp_d2", acme)).await.unwrap();
    let failed = DeliveryResult::Failed {
        error: "refused".into(),
    };
    store.record_delivery("exp_d2", failed, now).await.unwrap();
    let failed = store.delivery("exp_d2").await.unwrap().unwrap();
    assert_eq!(
        (failed.status, failed.error.as_deref(), failed.delivered_at),
        (DeliveryStatus::Failed, Some("refused"), None)
    );
    assert_eq!(
        failed.sealed, "",
        "the credentials' copy is dropped once failed"
    );
    // An ended delivery stays ended.
    let late = DeliveryResult::Retrying {
        error: "late".into(),
    };
    store.record_delivery("exp_d2", late, now).await.unwrap();
    assert_eq!(
        store.delivery("exp_d2").await.unwrap().unwrap().status,
        DeliveryStatus::Failed
    );

    store
        .save_delivery(delivery("exp_never", acme))
        .await
        .unwrap();
    store.discard_delivery("exp_never").await.unwrap();
    assert_eq!(store.delivery("exp_never").await.unwrap(), None);

    assert_eq!(store.alert_webhook(acme).await.unwrap(), None);
    store
        .set_alert_webhook(acme, "https://a/1", "v1:s1", now)
        .await
        .unwrap();
    store
        .set_alert_webhook(acme, "https://a/2", "v1:s2", now)
        .await
        .unwrap();
    assert_eq!(
        store.alert_webhook(acme).await.unwrap(),
        Some(("https://a/2".into(), "v1:s2".into()))
    );
    assert_eq!(store.alert_webhook(other).await.unwrap(), None);

    assert_eq!(store.account_key(acme).await.unwrap(), None);
    let key = |text: &str| ferry_store::AccountKey {
        pgp_public_key: text.into(),
        fingerprint: format!("FP{text}"),
        set_by: "key_1".into(),
        set_at: now,
    };
    store.set_account_key(acme, key("one")).await.unwrap();
    store.set_account_key(acme, key("two")).await.unwrap();
    assert_eq!(store.account_key(acme).await.unwrap(), Some(key("two")));
    assert_eq!(store.account_key(other).await.unwrap(), None);
    assert!(!store.remove_account_key(other).await.unwrap());
    assert!(store.remove_account_key(acme).await.unwrap());
    assert_eq!(store.account_key(acme).await.unwrap(), None);

    assert_eq!(store.alert_email(acme).await.unwrap(), None);
    assert!(!store.delete_alert_email(acme).await.unwrap());
    store
        .set_alert_email(acme, "dpo@acme.test", now)
        .await
        .unwrap();
    store
        .set_alert_email(acme, "privacy@acme.test", now)
        .await
        .unwrap();
    assert_eq!(
        store.alert_email(acme).await.unwrap().as_deref(),
        Some("privacy@acme.test")
    );
    assert_eq!(store.alert_email(other).await.unwrap(), None);
    assert!(store.delete_alert_email(acme).await.unwrap());
    assert_eq!(store.alert_email(acme).await.unwrap(), None);
}
