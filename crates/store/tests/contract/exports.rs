//! The story's exports: requested, leased, completed, downloaded, retired, cancelled.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use ferry_domain::export::{DataType, ExportRange, Format, SubjectRef};
use ferry_domain::job::{
    ArtifactFile, CompletedExport, ExportSpec, ExportStatus, NewExport, Progress, Receipt,
};
use ferry_domain::queue::{JobKind, JobStatus, Lane};
use ferry_domain::{AccountId, Millis};
use ferry_store::{ExportFilter, Queued, Store};

use super::downloads::downloads;
use super::{DAY, day, event};

pub(super) fn spec() -> ExportSpec {
    ExportSpec {
        subject: Some(SubjectRef::UserId("u1".into())),
        website_id: None,
        data_types: vec![DataType::Pageviews],
        format: Format::Json,
        range: ExportRange::default(),
        zip: false,
        one_time: true,
        expires_in: 3600,
        part_size: None,
        keep_formulas: false,
        person: Some("user_id:u1".into()),
        encryption: None,
        event_columns: None,
    }
}

pub(super) fn request(
    id: &str,
    account: AccountId,
    requested_by: &str,
    per_day: Option<u32>,
) -> NewExport {
    NewExport {
        id: id.into(),
        account,
        spec: spec(),
        requested_by: requested_by.into(),
        per_day,
        operator: false,
    }
}

/// Asserts that no job of `lanes` can be claimed at `now`.
pub(super) async fn claims_nothing(store: &Arc<dyn Store>, lanes: &[Lane], now: Millis, why: &str) {
    let claimed = store.claim_job(lanes, now, LEASE).await.unwrap();
    assert!(claimed.is_none(), "{why}: {claimed:?}");
}

/// The instants the story's workers see.
pub(super) const LEASE: i64 = 30_000;

fn receipt(export_id: &str) -> Receipt {
    Receipt {
        receipt_id: "rcpt_story".into(),
        export_id: export_id.into(),
        requested_by: "key_story".into(),
        subject_email: Some("ann@example.com".into()),
        data_included: vec!["pageviews".into()],
        date_range: ExportRange::default(),
        generated_at: Utc.timestamp_millis_opt(day() + DAY).unwrap(),
        delivered_at: None,
        delivery_method: "download".into(),
    }
}

fn listing() -> ExportFilter {
    ExportFilter {
        limit: 10,
        ..ExportFilter::default()
    }
}

/// `exp_1` for u1 from request (with its queue job and audit entry, in one go) through a
/// lease, a completion a stale lease cannot make, a used-up one-time download and early
/// retirement. Returns the story's time at the end.
pub async fn exports(store: &Arc<dyn Store>, acme: AccountId, other: AccountId) -> Millis {
    let t0 = day() + DAY;
    let created = store
        .create_export(
            request("exp_1", acme, "key_story", Some(2)),
            event("data_export.requested", Some("exp_1")),
            t0,
        )
        .await
        .unwrap();
    let Queued::Created { job, remaining } = created else {
        panic!("the day's first export is queued: {created:?}");
    };
    assert_eq!(
        (job.id.as_str(), job.status, remaining),
        ("exp_1", ExportStatus::Queued, Some(1))
    );
    assert_eq!(
        (job.spec.clone(), job.requested_by.as_str()),
        (spec(), "key_story")
    );
    let queue_job = job.queue_job.expect("an export has its queue job");
    let queued = store.job(queue_job).await.unwrap().unwrap();
    assert_eq!(
        (queued.kind, queued.lane, queued.status),
        (
            JobKind::Export {
                export_id: "exp_1".into()
            },
            Lane::Default,
            JobStatus::Queued
        )
    );
    let limited = store
        .create_export(
            request("exp_x", acme, "key_story", Some(1)),
            event("data_export.requested", Some("exp_x")),
            t0,
        )
        .await
        .unwrap();
    let Queued::Limited {
        limit,
        retry_after_secs,
    } = limited
    else {
        panic!("one export a day was used: {limited:?}");
    };
    assert_eq!(limit, 1);
    assert!(
        (1..=86_400).contains(&retry_after_secs),
        "{retry_after_secs}"
    );
    assert_eq!(
        store.export_job(acme, "exp_x").await.unwrap(),
        None,
        "a refused export is no job"
    );
    assert_eq!(
        store.export_job(other, "exp_1").await.unwrap(),
        None,
        "another account's"
    );
    assert_eq!(
        store.export_job_any("exp_1").await.unwrap(),
        Some((acme, *job.clone()))
    );

    let listed = store.export_jobs(acme, listing()).await.unwrap();
    let ids: Vec<&str> = listed.data.iter().map(|j| j.id.as_str()).collect();
    assert_eq!((ids, listed.next_cursor), (vec!["exp_1"], None));
    // An identifier in any case (emails), never a pattern.
    let subjects = [
        ("u1", 1),
        ("U1", 1),
        ("user_id:u1", 1),
        ("%", 0),
        ("u", 0),
        ("_1", 0),
    ];
    for (subject, found) in subjects {
        let filter = ExportFilter {
            subject: Some(subject.into()),
            ..listing()
        };
        let listed = store.export_jobs(acme, filter).await.unwrap().data;
        assert_eq!(
            listed.len(),
            found,
            "subject {subject}: the identifier, exactly"
        );
    }
    let running = ExportFilter {
        status: Some(ExportStatus::Running),
        ..listing()
    };
    assert!(
        store
            .export_jobs(acme, running)
            .await
            .unwrap()
            .data
            .is_empty()
    );
    assert!(
        store
            .export_jobs(other, listing())
            .await
            .unwrap()
            .data
            .is_empty()
    );

    claims_nothing(
        store,
        &[Lane::Bulk],
        t0,
        "a person's export waits in the default lane",
    )
    .await;
    let first = store
        .claim_job(&[Lane::Default, Lane::Bulk], t0, LEASE)
        .await
        .unwrap()
        .expect("a queued job");
    assert_eq!((first.lease.job, first.lease.attempt), (queue_job, 1));
    assert_eq!(first.lease.expires_at, t0 + LEASE);
    let claimed = store.export_job(acme, "exp_1").await.unwrap().unwrap();
    assert_eq!(
        (claimed.status, claimed.attempts),
        (ExportStatus::Running, 1)
    );
    assert!(claimed.started_at.is_some());
    claims_nothing(store, &[Lane::Default], t0, "nothing else is queued").await;
    store.set_export_total("exp_1", 3).await.unwrap();
    let progress = Progress {
        rows: 2,
        bytes: 100,
    };
    assert!(
        store
            .export_progress(&first.lease, "exp_1", progress, t0 + 1_000, LEASE)
            .await
            .unwrap()
    );
    let job = store.export_job(acme, "exp_1").await.unwrap().unwrap();
    assert_eq!(
        (job.rows_total, job.rows_written, job.bytes_written),
        (Some(3), 2, 100)
    );

    // The worker stalls past its lease; another reclaims the job and finishes it.
    let stalled = t0 + 1_000 + LEASE + 1;
    let reclaimed = store.reclaim_expired(stalled).await.unwrap();
    assert_eq!(
        (reclaimed.requeued, reclaimed.failed),
        (vec![queue_job], vec![])
    );
    let second = store
        .claim_job(&[Lane::Default], stalled, LEASE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.lease.attempt, 2);
    assert_ne!(second.lease.token, first.lease.token);
    assert!(
        !store
            .export_progress(&first.lease, "exp_1", progress, stalled, LEASE)
            .await
            .unwrap(),
        "a stale lease is refused"
    );

    let files = vec![ArtifactFile {
        name: "export.json".into(),
        bytes: 120,
        sha256: "00".repeat(32),
    }];
    let expires = day() + 3 * DAY;
    let completed = |artifact: &str| CompletedExport {
        id: "exp_1".into(),
        files: files.clone(),
        artifact: artifact.into(),
        rows: 3,
        expires_at: expires,
        receipt: receipt("exp_1"),
    };
    let stale = store
        .complete_export(
            &first.lease,
            completed("art/stale"),
            (acme, event("data_export.completed", Some("exp_1"))),
            stalled,
        )
        .await
        .unwrap();
    assert!(!stale, "the stalled worker cannot complete");
    assert_eq!(store.receipt("exp_1").await.unwrap(), None);
    let done = store
        .complete_export(
            &second.lease,
            completed("art/exp_1"),
            (acme, event("data_export.completed", Some("exp_1"))),
            stalled,
        )
        .await
        .unwrap();
    assert!(done);
    assert_eq!(
        store.job(queue_job).await.unwrap().unwrap().status,
        JobStatus::Done
    );
    let job = store.export_job(acme, "exp_1").await.unwrap().unwrap();
    assert_eq!(
        (job.status, job.artifact.as_deref(), job.attempts),
        (ExportStatus::Completed, Some("art/exp_1"), 2)
    );
    assert_eq!(
        (job.files.clone(), job.rows_written, job.bytes_written),
        (files, 3, 120)
    );
    assert_eq!(job.expires_at.map(|t| t.timestamp_millis()), Some(expires));
    assert_eq!(
        store.receipt("exp_1").await.unwrap(),
        Some(receipt("exp_1"))
    );
    assert!(store.mark_delivered("exp_1").await.unwrap());
    assert!(
        !store.mark_delivered("exp_1").await.unwrap(),
        "delivered once"
    );
    let delivered = store.receipt("exp_1").await.unwrap().unwrap().delivered_at;
    assert_eq!(
        delivered.map(|t| t.timestamp_subsec_nanos()),
        Some(0),
        "delivered, in whole seconds as the receipt shows it"
    );
    assert_eq!(store.receipt("exp_2").await.unwrap(), None);

    downloads(store, acme, stalled).await;
    crate::sweep::sweep(store, acme, stalled, expires).await;

    assert_eq!(
        store.cancel_export(other, "exp_1", stalled).await.unwrap(),
        None
    );
    let (retired, artifact) = store
        .cancel_export(acme, "exp_1", stalled)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (retired.status, artifact.as_deref()),
        (ExportStatus::Expired, Some("art/exp_1"))
    );
    stalled
}
