//! The story's export retries: a transient failure queued again after its back-off, then a
//! cancel, which takes the running attempt's lease away.

use std::sync::Arc;

use ferry_domain::job::{ExportStatus, Progress};
use ferry_domain::queue::{JobFailure, JobFate, Lane};
use ferry_domain::{AccountId, Millis};
use ferry_store::{Queued, Store};

use super::event;
use super::exports::{LEASE, claims_nothing, request};

/// `exp_2`, asked at `stalled`: failed transiently, retried after its back-off, cancelled.
pub async fn retries(store: &Arc<dyn Store>, acme: AccountId, stalled: Millis) {
    let Queued::Created { remaining, job } = store
        .create_export(
            request("exp_2", acme, "cli", None),
            event("data_export.requested", Some("exp_2")),
            stalled,
        )
        .await
        .unwrap()
    else {
        panic!("no daily limit");
    };
    assert_eq!(remaining, None);
    let claim = store
        .claim_job(&[Lane::Default], stalled, LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claim.lease.job, job.queue_job.unwrap());
    let failure = JobFailure {
        code: "io".into(),
        message: "disk full".into(),
        transient: true,
        retry_in: None,
    };
    let fate = store
        .fail_job(&claim.lease, &failure, stalled)
        .await
        .unwrap();
    assert_eq!(
        fate,
        JobFate::Retry {
            at: stalled + 1_000
        }
    );
    let job = store.export_job(acme, "exp_2").await.unwrap().unwrap();
    let error = Some(("io".to_string(), "disk full".to_string()));
    assert_eq!(
        (job.status, job.error),
        (ExportStatus::Queued, error),
        "a transient failure retries"
    );
    claims_nothing(store, &[Lane::Default], stalled, "after its back-off").await;
    let retry = store
        .claim_job(&[Lane::Default], stalled + 1_000, LEASE)
        .await
        .unwrap()
        .unwrap();
    let (cancelled, artifact) = store
        .cancel_export(acme, "exp_2", stalled + 2_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (cancelled.status, artifact),
        (ExportStatus::Cancelled, None)
    );
    let progress = Progress::default();
    assert!(
        !store
            .export_progress(&retry.lease, "exp_2", progress, stalled + 2_000, LEASE)
            .await
            .unwrap(),
        "its worker stops"
    );
    assert_eq!(
        store
            .fail_job(&retry.lease, &failure, stalled + 2_000)
            .await
            .unwrap(),
        JobFate::LeaseLost
    );
    let later = stalled + 60_000;
    claims_nothing(
        store,
        &[Lane::Default, Lane::Bulk],
        later,
        "nothing is left",
    )
    .await;
}
