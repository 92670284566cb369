//! The story's download log: a partial then a whole download of `exp_1`'s one-time link,
//! which uses it up, then the retention of client addresses.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use ferry_domain::job::{DownloadRecord, OneTimeRequest, OneTimeUse};
use ferry_domain::{AccountId, Millis};
use ferry_store::Store;

use super::{DAY, day};

fn download(file: &str, complete: bool) -> DownloadRecord {
    DownloadRecord {
        at: Utc.timestamp_millis_opt(day() + 2 * DAY).unwrap(),
        client: Some("192.0.2.1".into()),
        bytes: if complete { 120 } else { 10 },
        complete,
        file: Some(file.into()),
    }
}

/// `exp_1` is completed, one-time, and not yet downloaded.
pub async fn downloads(store: &Arc<dyn Store>, acme: AccountId, now: Millis) {
    assert!(
        !store
            .record_download("exp_1", download("export.json", false), true)
            .await
            .unwrap()
    );
    assert!(!store.fetched_whole("exp_1", "export.json").await.unwrap());
    assert!(
        store
            .record_download("exp_1", download("export.json", true), true)
            .await
            .unwrap()
    );
    assert!(store.fetched_whole("exp_1", "export.json").await.unwrap());
    let resume = OneTimeRequest {
        bytes: 10,
        file_bytes: 120,
        resume: true,
    };
    assert_eq!(
        store
            .claim_one_time("exp_1", "export.json", resume, now)
            .await
            .unwrap(),
        OneTimeUse::Used,
        "fetched whole, the one-time link is used up even for a resume"
    );
    let job = store.export_job(acme, "exp_1").await.unwrap().unwrap();
    assert!(
        job.consumed_at.is_some(),
        "a one-time export fetched whole is used up"
    );
    let log = store.export_downloads("exp_1").await.unwrap();
    assert_eq!(
        log,
        [
            download("export.json", false),
            download("export.json", true)
        ]
    );

    assert_eq!(
        store
            .forget_download_clients(day() + 2 * DAY)
            .await
            .unwrap(),
        0,
        "addresses younger than the retention stay"
    );
    assert_eq!(
        store
            .forget_download_clients(day() + 3 * DAY)
            .await
            .unwrap(),
        2
    );
    let log = store.export_downloads("exp_1").await.unwrap();
    assert!(
        log.iter().all(|d| d.client.is_none() && d.bytes > 0),
        "{log:?}"
    );
}
