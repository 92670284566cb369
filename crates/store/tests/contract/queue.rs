//! The story's generic job queue: unique keys, lanes, leases that run out, and the operator's
//! held export.

use std::sync::Arc;

use ferry_domain::AccountId;
use ferry_domain::queue::{ATTEMPTS_EXHAUSTED, JobKind, JobStatus, Lane, NewJob};
use ferry_store::{Queued, Store};

use super::exports::{LEASE, claims_nothing, request};
use super::{DAY, day, event};

/// The generic queue on its own: unique keys, lanes, release at shutdown, and a job whose
/// worker dies on every attempt, which fails once its attempts run out; then the operator's
/// own export, held for the process that asked for it.
pub async fn queue(store: &Arc<dyn Store>, acme: AccountId) {
    let t0 = day() + 5 * DAY;
    let kind = JobKind::Export {
        export_id: "exp_none".into(),
    };
    let job = NewJob {
        unique_key: Some("window:2024-05-01".into()),
        ..NewJob::now(kind.clone(), Lane::Bulk, t0)
    };
    let id = store
        .enqueue(job.clone(), t0)
        .await
        .unwrap()
        .expect("queued");
    assert_eq!(
        store.enqueue(job, t0).await.unwrap(),
        None,
        "one job per key"
    );
    let claimed = store
        .claim_job(&[Lane::Bulk], t0, LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((claimed.lease.job, claimed.lane), (id, Lane::Bulk));
    assert!(
        store
            .extend_lease(&claimed.lease, t0 + 20_000, LEASE)
            .await
            .unwrap()
    );
    assert!(
        store
            .reclaim_expired(t0 + LEASE + 1)
            .await
            .unwrap()
            .requeued
            .is_empty(),
        "the heartbeat kept it"
    );
    assert!(
        store
            .release_job(&claimed.lease, t0 + 21_000)
            .await
            .unwrap()
    );
    let released = store.job(id).await.unwrap().unwrap();
    assert_eq!(
        (released.status, released.attempts),
        (JobStatus::Queued, 0),
        "a release does not count as an attempt"
    );

    let mut now = t0 + 30_000;
    for attempt in 1..=3 {
        let claim = store
            .claim_job(&[Lane::Bulk], now, LEASE)
            .await
            .unwrap()
            .expect("claimable again");
        assert_eq!(claim.lease.attempt, attempt);
        // The worker dies: no heartbeat, no report.
        now += LEASE + 1;
        let reclaimed = store.reclaim_expired(now).await.unwrap();
        if attempt < 3 {
            assert_eq!(reclaimed.requeued, [id]);
        } else {
            assert_eq!(reclaimed.failed, [(id, kind.clone())]);
        }
    }
    let failed = store.job(id).await.unwrap().unwrap();
    assert_eq!(failed.status, JobStatus::Failed);
    assert_eq!(failed.error.unwrap().0, ATTEMPTS_EXHAUSTED);
    let much_later = now + LEASE * 10;
    claims_nothing(
        store,
        &[Lane::Bulk],
        much_later,
        "a failed job stays failed",
    )
    .await;

    // `ferry export`: not counted against the day's allowance, in a lane no worker claims,
    // one attempt.
    let mut operator = request("exp_3", acme, "cli", None);
    operator.operator = true;
    let created = store
        .create_export(operator, event("data_export.requested", Some("exp_3")), now)
        .await
        .unwrap();
    let Queued::Created { job: held, .. } = created else {
        panic!("the operator's export is queued: {created:?}");
    };
    let held = held.queue_job.unwrap();
    assert_eq!(store.job(held).await.unwrap().unwrap().lane, Lane::Held);
    claims_nothing(
        store,
        &[Lane::Default, Lane::Bulk],
        now,
        "no worker takes it",
    )
    .await;
    let counted = store
        .create_export(
            request("exp_4", acme, "key_story", Some(10)),
            event("data_export.requested", Some("exp_4")),
            now,
        )
        .await
        .unwrap();
    let Queued::Created { remaining, .. } = counted else {
        panic!("within the allowance: {counted:?}");
    };
    assert_eq!(remaining, Some(9), "the operator's export is not counted");
    let mine = store
        .claim_job_by_id(held, now, LEASE)
        .await
        .unwrap()
        .expect("its own process takes it");
    assert_eq!((mine.lane, mine.max_attempts), (Lane::Held, 1));
    for id in ["exp_3", "exp_4"] {
        store.cancel_export(acme, id, now).await.unwrap().unwrap();
    }
}
