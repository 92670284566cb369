//! The story's audit trail and limits.

use std::sync::Arc;

use ferry_domain::audit::GENESIS;
use ferry_domain::{AccountId, LimitSetting, Limits, Plan};
use ferry_store::{AuditFilter, Store};

use super::event;

/// One chain for the whole store; each account sees its own entries.
pub async fn audit(store: &Arc<dyn Store>, acme: AccountId, other: AccountId) {
    let theirs = store
        .audit(other, event("api_key.created", None))
        .await
        .unwrap();
    let ours = store
        .audit_entries(
            acme,
            AuditFilter {
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let actions: Vec<&str> = ours.iter().map(|e| e.event.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "data_export.requested",
            "data_export.completed",
            "data_export.requested"
        ],
        "a refused request and a stale completion left no entry"
    );
    assert_eq!(ours[1].event, event("data_export.completed", Some("exp_1")));
    assert_eq!(ours[0].prev_hash, GENESIS);
    assert_eq!(ours[1].prev_hash, ours[0].hash);
    assert_eq!(ours[2].prev_hash, ours[1].hash);
    assert_eq!(theirs.prev_hash, ours[2].hash);
    assert!(ours[1].seq < ours[2].seq && ours[2].seq < theirs.seq);

    let filtered = move |f: AuditFilter| store.audit_entries(acme, AuditFilter { limit: 10, ..f });
    let action = |a: &str| AuditFilter {
        action: Some(a.into()),
        ..Default::default()
    };
    assert_eq!(filtered(action("data_export")).await.unwrap().len(), 3);
    assert_eq!(filtered(action("api_key")).await.unwrap().len(), 0);
    let after = filtered(AuditFilter {
        after: Some(ours[0].seq),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(after, ours[1..]);
    let by_worker = AuditFilter {
        actor: Some("worker".into()),
        ..Default::default()
    };
    assert_eq!(filtered(by_worker).await.unwrap().len(), 0);
    let theirs_listed = store.audit_entries(
        other,
        AuditFilter {
            limit: 10,
            ..Default::default()
        },
    );
    assert_eq!(theirs_listed.await.unwrap(), std::slice::from_ref(&theirs));

    // Each entry's hash covers the name of its account, and anyone can recompute it from the
    // entry as listed.
    for entry in ours.iter().chain([&theirs]) {
        assert_eq!(entry.hash_version, ferry_domain::audit::HASH_VERSION);
        assert_eq!(entry.expected_hash().as_deref(), Some(entry.hash.as_str()));
    }
    assert_eq!(ours[0].account, "acme");
    assert_ne!(theirs.account, ours[0].account);

    let chain = store.audit_verify(Some(ours[1].seq)).await.unwrap();
    assert_eq!((chain.count, chain.broken), (4, None));
    assert_eq!(chain.head, Some((theirs.seq, theirs.hash.clone())));
    assert_eq!(chain.hash_at.as_deref(), Some(ours[1].hash.as_str()));
    let beyond = store.audit_verify(Some(theirs.seq + 1)).await.unwrap();
    assert_eq!(beyond.hash_at, None, "no entry after the head");
}

/// The plans' limits as DESIGN.md sets them, then a plan's and an account's own settings.
pub async fn limits(store: &Arc<dyn Store>, acme: AccountId) {
    let limits = |per_day, bytes| Limits {
        exports_per_day: per_day,
        max_export_bytes: bytes,
        bytes_set_for_account: false,
    };
    let own_bytes = |per_day, bytes| Limits {
        bytes_set_for_account: true,
        ..limits(per_day, bytes)
    };
    let plans = store.plan_limits().await.unwrap();
    let defaults = [
        (Plan::Pro, limits(Some(50), Some(1_000_000_000))),
        (Plan::Scale, limits(Some(200), Some(10_000_000_000))),
        (Plan::Enterprise, limits(None, None)),
    ];
    assert_eq!(plans, defaults);
    assert_eq!(
        store.limits(acme).await.unwrap(),
        defaults[0].1,
        "acme is on Pro"
    );

    store
        .set_plan_limits(Plan::Pro, limits(Some(3), None))
        .await
        .unwrap();
    assert_eq!(store.limits(acme).await.unwrap(), limits(Some(3), None));
    let own = (
        Some(LimitSetting::Limited(7)),
        Some(LimitSetting::Limited(5_000)),
    );
    store.set_account_limits(acme, own.0, own.1).await.unwrap();
    assert_eq!(
        store.limits(acme).await.unwrap(),
        own_bytes(Some(7), Some(5_000))
    );
    store
        .set_account_limits(acme, Some(LimitSetting::Unlimited), None)
        .await
        .unwrap();
    assert_eq!(
        store.limits(acme).await.unwrap(),
        own_bytes(None, Some(5_000)),
        "bytes kept"
    );
    let follow = (Some(LimitSetting::Plan), Some(LimitSetting::Plan));
    store
        .set_account_limits(acme, follow.0, follow.1)
        .await
        .unwrap();
    assert_eq!(store.limits(acme).await.unwrap(), limits(Some(3), None));
    assert_eq!(
        store.plan_limits().await.unwrap()[0],
        (Plan::Pro, limits(Some(3), None))
    );
}
