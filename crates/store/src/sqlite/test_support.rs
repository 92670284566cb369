//! Fixtures for the store's own tests: a fresh database with one website, `web_t` (UTC).

use ferry_domain::{Activity, ActivityKind, IngestLine, Millis, Plan, ValidWebsite};

use super::SqliteStore;
use crate::prelude::*;

pub(crate) const MINUTE: Millis = 60_000;
pub(crate) const DAY: Millis = 86_400_000;

/// A store in a temporary directory (kept alive by the guard) with website `web_t`.
pub(crate) async fn store_with_website() -> (tempfile::TempDir, SqliteStore, ferry_domain::AccountId)
{
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
    let account = store.create_account("t", Plan::Pro).await.unwrap();
    let website = ValidWebsite {
        domain: "t.example".into(),
        timezone: chrono_tz::UTC,
        retention_days: None,
    };
    store
        .create_website(account.id, "web_t", website, "fis_test")
        .await
        .unwrap();
    (dir, store, account.id)
}

/// A page view of `web_t` by `visitor` at `at`.
pub(crate) fn pageview(visitor: &str, at: Millis) -> IngestLine {
    IngestLine::Activity(Activity {
        website_id: "web_t".into(),
        visitor_id: visitor.into(),
        at,
        kind: ActivityKind::Pageview {
            url: "https://t.example/".into(),
            title: None,
            referrer: None,
        },
        device: None,
        browser: None,
        country: None,
    })
}
