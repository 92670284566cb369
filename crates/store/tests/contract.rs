//! The store's contract: one story that drives every area through the traits alone, with the
//! values a caller may rely on. Every backend runs the same [`story`]; SQLite is the first.
//! A second backend (PostgreSQL) adds a `#[tokio::test]` that opens a fresh database and calls
//! `story` — nothing in it may name a backend.

use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use ferry_domain::audit::AuditEvent;
use ferry_domain::{
    AccountId, Activity, ActivityKind, DateRange, Identify, IngestLine, Millis, NewApiKey, Plan,
    Scopes, ValidWebsite, Website,
};
use ferry_store::{RowReceiver, Store, StoreError};

#[path = "contract/activity.rs"]
mod activity;
#[path = "contract/audit.rs"]
mod audit;
#[path = "contract/bulk.rs"]
mod bulk;
#[path = "contract/dashboard.rs"]
mod dashboard;
#[path = "contract/destinations.rs"]
mod destinations;
#[path = "contract/downloads.rs"]
mod downloads;
#[path = "contract/erasures.rs"]
mod erasures;
#[path = "contract/exports.rs"]
mod exports;
#[path = "contract/people.rs"]
mod people;
#[path = "contract/privacy_statements.rs"]
mod privacy_statements;
#[path = "contract/queue.rs"]
mod queue;
#[path = "contract/requests.rs"]
mod requests;
#[path = "contract/retries.rs"]
mod retries;
#[path = "contract/schedules.rs"]
mod schedules;
#[path = "contract/subjects.rs"]
mod subjects;
#[path = "contract/sweep.rs"]
mod sweep;

use activity::visitor_activity;
use audit::{audit, limits};
use bulk::{bulk, segments};
use dashboard::{dashboard, dashboard_removal};
use destinations::destinations;
use erasures::erasures;
use exports::exports;
use people::audit_people;
use privacy_statements::privacy_statements;
use queue::queue;
use requests::requests;
use retries::retries;
use schedules::schedules;
use subjects::{subject_rows, subjects};

const MINUTE: Millis = 60_000;
const DAY: Millis = 86_400_000;

/// 2024-03-01 00:00 UTC: the day every tracked line of the story falls on.
fn day() -> Millis {
    Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0)
        .unwrap()
        .timestamp_millis()
}

fn at_ten(minutes: Millis) -> Millis {
    day() + 10 * 60 * MINUTE + minutes * MINUTE
}

fn date(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 3, d).unwrap()
}

fn activity(site: &str, visitor: &str, at: Millis, kind: ActivityKind) -> IngestLine {
    IngestLine::Activity(Activity {
        website_id: site.into(),
        visitor_id: visitor.into(),
        at,
        kind,
        device: Some("desktop".into()),
        browser: Some("Firefox".into()),
        country: Some("DE".into()),
    })
}

fn pageview(site: &str, visitor: &str, at: Millis, path: &str) -> IngestLine {
    let kind = ActivityKind::Pageview {
        url: format!("https://a.example{path}"),
        title: None,
        referrer: None,
    };
    activity(site, visitor, at, kind)
}

fn site(domain: &str) -> ValidWebsite {
    ValidWebsite {
        domain: domain.into(),
        timezone: chrono_tz::UTC,
        retention_days: None,
    }
}

fn event(action: &str, export_id: Option<&str>) -> AuditEvent {
    AuditEvent {
        actor: "key_story".into(),
        action: action.into(),
        subject: Some("u1".into()),
        data_types: vec!["pageviews".into()],
        status: "ok".into(),
        export_id: export_id.map(str::to_string),
        details: serde_json::json!({}),
        person: None,
    }
}

async fn drain<T>(mut rows: RowReceiver<T>) -> Vec<T> {
    let mut all = Vec::new();
    while let Some(batch) = rows.recv().await {
        all.extend(batch.unwrap());
    }
    all
}

/// Runs the whole story against an empty store.
pub async fn story(store: Arc<dyn Store>) {
    let (acme, other) = accounts(&store).await;
    keys(&store, acme, other).await;
    let website = ingest(&store, acme).await;
    analytics(&store, &website).await;
    let v1 = subjects(&store, acme, other).await;
    subject_rows(&store, v1).await;
    visitor_activity(&store, v1).await;
    let now = exports(&store, acme, other).await;
    retries(&store, acme, now).await;
    destinations(&store, acme, other, now).await;
    dashboard(&store, acme, other, now).await;
    audit(&store, acme, other).await;
    audit_people(&store, acme, other).await;
    limits(&store, acme).await;
    queue(&store, acme).await;
    schedules(&store, acme, other, now).await;
    bulk(&store, &website).await;
    segments(&store).await;
    requests(&store, acme, other, now).await;
    dashboard_removal(&store, acme, other, now).await;
    privacy_statements(&store, acme, other).await;
    erasures(&store, acme, other, now).await;
}

/// Two accounts, `acme` with website `web_a` (a.example), `other` with `web_o`.
async fn accounts(store: &Arc<dyn Store>) -> (AccountId, AccountId) {
    let acme = store.create_account("acme", Plan::Pro).await.unwrap();
    assert_eq!((acme.name.as_str(), acme.plan), ("acme", Plan::Pro));
    let other = store.create_account("other", Plan::Scale).await.unwrap();
    assert_ne!(acme.id, other.id);
    let taken = store.create_account("acme", Plan::Scale).await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");

    assert_eq!(
        store.account_by_name("acme").await.unwrap(),
        Some(acme.clone())
    );
    assert_eq!(store.account_by_name("nobody").await.unwrap(), None);
    store.set_link_expiry(acme.id, Some(3600)).await.unwrap();
    let found = store.account(acme.id).await.unwrap().unwrap();
    assert_eq!(found.link_expiry_secs, Some(3600));
    let names: Vec<String> = store
        .accounts()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["acme", "other"]);

    let web_a = store
        .create_website(acme.id, "web_a", site("a.example"), "fis_test")
        .await
        .unwrap();
    assert_eq!(
        (web_a.id.as_str(), web_a.domain.as_str()),
        ("web_a", "a.example")
    );
    store
        .create_website(other.id, "web_o", site("o.example"), "fis_test")
        .await
        .unwrap();
    let again = store
        .create_website(acme.id, "web_x", site("a.example"), "fis_test")
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    // Domains are unique per account: another account may register the same one.
    let twin = store
        .create_website(other.id, "web_twin", site("a.example"), "fis_test")
        .await
        .unwrap();

    assert_eq!(
        store.website(acme.id, "web_a").await.unwrap(),
        Some(web_a.clone())
    );
    assert_eq!(
        store.website(other.id, "web_a").await.unwrap(),
        None,
        "another account's"
    );
    let tracked = store.website_for_tracker("web_a").await.unwrap();
    assert_eq!(tracked, Some((acme.id, web_a.clone())));
    assert_eq!(
        store.website_for_tracker("a.example").await.unwrap(),
        None,
        "by public id only"
    );
    assert_eq!(
        store.websites_with_domain("A.example", 5).await.unwrap(),
        [(acme.id, web_a.clone()), (other.id, twin)]
    );
    let only = store.websites_with_domain("o.example", 5).await.unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(store.websites(acme.id).await.unwrap(), [web_a]);
    (acme.id, other.id)
}

async fn keys(store: &Arc<dyn Store>, acme: AccountId, other: AccountId) {
    let new = NewApiKey {
        id: "key_story".into(),
        name: Some("story".into()),
        prefix: "fy_abcd".into(),
        secret_hash: "ab".repeat(32),
        scopes: Scopes::all(),
    };
    let created = store.create_key(acme, new).await.unwrap();
    assert_eq!((created.account, created.last_used_at), (acme, None));

    let found = store.key_by_hash(&"ab".repeat(32)).await.unwrap().unwrap();
    assert_eq!((found.id.as_str(), found.account), ("key_story", acme));
    assert_eq!(store.key_by_hash(&"cd".repeat(32)).await.unwrap(), None);
    let listed = store.keys(acme).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(
        listed[0].last_used_at.is_some(),
        "finding a key records its use"
    );
    assert!(store.keys(other).await.unwrap().is_empty());

    assert_eq!(store.revoke_key(other, "key_story").await.unwrap(), None);
    let revoked = store.revoke_key(acme, "key_story").await.unwrap().unwrap();
    assert!(revoked.revoked_at.is_some());
    assert_eq!(store.key_by_hash(&"ab".repeat(32)).await.unwrap(), None);
}

/// One batch for `acme`: v1 views `/` and `/pricing`, signs up, is identified as u1 and comes
/// back two hours later (a second session); v2 views `/` twice. A line for `web_o` (another
/// account's website) is refused and changes nothing.
async fn ingest(store: &Arc<dyn Store>, acme: AccountId) -> Website {
    let signup = ActivityKind::Event {
        name: "signup".into(),
        properties: serde_json::json!({"plan": "pro"})
            .as_object()
            .unwrap()
            .clone(),
    };
    let identify = IngestLine::Identify(Identify {
        website_id: "web_a".into(),
        visitor_id: "v1".into(),
        user_id: "u1".into(),
        email: Some("ann@example.com".into()),
        name: Some("Ann".into()),
        properties: Default::default(),
        created_at: None,
        trust: ferry_domain::LinkTrust::Keyed,
    });
    let lines = vec![
        pageview("web_a", "v1", at_ten(0), "/"),
        pageview("web_a", "v1", at_ten(5), "/pricing"),
        activity("web_a", "v1", at_ten(6), signup),
        identify,
        pageview("web_a", "v2", at_ten(60), "/"),
        pageview("web_a", "v2", at_ten(61), "/"),
        pageview("web_o", "v9", at_ten(62), "/"),
        pageview("web_a", "v1", at_ten(120), "/pricing"),
    ];
    let outcome = store
        .ingest(Some(acme), lines, day() + 2 * DAY)
        .await
        .unwrap();
    let codes: Vec<Option<&str>> = outcome
        .iter()
        .map(|r| r.as_ref().err().map(|e| e.code))
        .collect();
    assert_eq!(
        codes,
        [
            None,
            None,
            None,
            None,
            None,
            None,
            Some("unknown_website"),
            None
        ]
    );
    let (_, web_o) = store.website_for_tracker("web_o").await.unwrap().unwrap();
    let day_one = DateRange {
        from: date(1),
        to: date(1),
    };
    let (untouched, _) = store.totals(&web_o, day_one).await.unwrap();
    assert_eq!(untouched.pageviews, 0, "the refused line was not kept");
    assert_eq!(
        store.activity_span(&web_o).await.unwrap(),
        None,
        "no data yet"
    );
    store.website(acme, "web_a").await.unwrap().unwrap()
}

async fn analytics(store: &Arc<dyn Store>, website: &Website) {
    let range = DateRange {
        from: date(1),
        to: date(2),
    };
    let (totals, days) = store.totals(website, range).await.unwrap();
    let counts = (
        totals.pageviews,
        totals.visitors,
        totals.sessions,
        totals.events,
    );
    assert_eq!(counts, (5, 2, 3, 1));
    // Ratios come rounded to four places. Only v1's second session is one page view and
    // nothing else; sessions last 6 minutes, 0 and 1 minute.
    let ratios = (totals.bounce_rate, totals.avg_session_duration);
    assert_eq!(ratios, (0.3333, 140.0));
    let per_day: Vec<(NaiveDate, u64, u64)> = days
        .iter()
        .map(|d| (d.date, d.pageviews, d.sessions))
        .collect();
    assert_eq!(per_day, [(date(1), 5, 3), (date(2), 0, 0)]);
    assert_eq!(
        store.activity_span(website).await.unwrap(),
        Some((at_ten(0), at_ten(120))),
        "the first and last activity of the website"
    );

    let first = store.visitors(website, range, None, 1).await.unwrap();
    assert_eq!(first.data.len(), 1);
    let v1 = &first.data[0];
    assert_eq!(
        (v1.visitor_id.as_str(), v1.pageviews, v1.sessions),
        ("v1", 3, 2)
    );
    assert_eq!(
        (v1.user_id.as_deref(), v1.email.as_deref()),
        (Some("u1"), Some("ann@example.com"))
    );
    assert_eq!(v1.country.as_deref(), Some("DE"));
    let cursor = first.next_cursor.expect("a second page");
    let rest = store
        .visitors(website, range, Some(&cursor), 1)
        .await
        .unwrap();
    let v2: Vec<(&str, u64, Option<&str>)> = rest
        .data
        .iter()
        .map(|v| (v.visitor_id.as_str(), v.pageviews, v.user_id.as_deref()))
        .collect();
    assert_eq!(v2, [("v2", 2, None)]);
    assert_eq!(rest.next_cursor, None);
    let foreign = store.visitors(website, range, Some("bm90LW91cnM"), 1).await;
    assert!(
        matches!(foreign, Err(StoreError::InvalidCursor)),
        "{foreign:?}"
    );

    let pages = store.pages(website, range, None, 10).await.unwrap();
    let pages: Vec<(&str, u64, u64)> = pages
        .data
        .iter()
        .map(|p| (p.url.as_str(), p.pageviews, p.unique_visitors))
        .collect();
    assert_eq!(
        pages,
        [
            ("https://a.example/", 3, 2),
            ("https://a.example/pricing", 2, 1)
        ]
    );
}

#[tokio::test]
async fn sqlite_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store = ferry_store::SqliteStore::open(&dir.path().join("contract.db"))
        .await
        .unwrap();
    story(Arc::new(store)).await;
}
