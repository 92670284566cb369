//! The story's sweep: `exp_1`, completed and one-time, was just downloaded whole, so its
//! files are dead; who owns which files; a retire that names other files changes nothing.

use std::sync::Arc;

use ferry_domain::{AccountId, Millis};
use ferry_store::{ArtifactOwner, RetireReason, Store};

use super::event;

pub async fn sweep(store: &Arc<dyn Store>, acme: AccountId, now: Millis, expires: Millis) {
    let owners = store
        .artifact_owners(vec!["exp_1".into(), "exp_none".into()])
        .await
        .unwrap();
    assert_eq!(
        owners,
        [ArtifactOwner {
            export_id: "exp_1".into(),
            account: acme,
            artifact: Some("art/exp_1".into()),
            running_lease: None,
        }],
        "an export that does not exist owns nothing"
    );
    let dead = |at: Millis| async move {
        let found = store.dead_artifacts(at, 10).await.unwrap();
        found
            .into_iter()
            .map(|d| (d.export.id, d.account, d.reason))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        dead(now).await,
        [("exp_1".to_string(), acme, RetireReason::LinkUsed)],
        "downloaded whole: used up"
    );
    assert_eq!(
        dead(expires).await,
        [("exp_1".to_string(), acme, RetireReason::LinkExpired)]
    );
    let other_files = store
        .retire_artifact(
            "exp_1",
            "art/other",
            (acme, event("data_export.deleted", Some("exp_1"))),
            now,
        )
        .await
        .unwrap();
    assert!(!other_files, "only the files the export still has");
    let job = store.export_job(acme, "exp_1").await.unwrap().unwrap();
    assert_eq!(job.artifact.as_deref(), Some("art/exp_1"));
}
