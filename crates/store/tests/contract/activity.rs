//! One visitor's activity a page at a time, newest first (the dashboard's visitor page).

use std::sync::Arc;

use ferry_domain::Millis;
use ferry_store::{Store, StoreError};

use super::at_ten;

/// The story's person u1 (visitor key `v1`): three page views, one event, two sessions.
pub async fn visitor_activity(store: &Arc<dyn Store>, v1: i64) {
    let first = store.visitor_pageviews(v1, None, 2).await.unwrap();
    let times: Vec<Millis> = first.data.iter().map(|r| r.timestamp).collect();
    assert_eq!(times, [at_ten(120), at_ten(5)], "newest first");
    let cursor = first.next_cursor.expect("a third page view follows");
    let rest = store.visitor_pageviews(v1, Some(&cursor), 2).await.unwrap();
    let times: Vec<Millis> = rest.data.iter().map(|r| r.timestamp).collect();
    assert_eq!(times, [at_ten(0)]);
    assert_eq!(rest.next_cursor, None, "the last page says so");
    assert_eq!(rest.data[0].url, "https://a.example/");

    let exact = store.visitor_pageviews(v1, None, 3).await.unwrap();
    assert_eq!((exact.data.len(), exact.next_cursor), (3, None));

    let sessions = store.visitor_sessions(v1, None, 10).await.unwrap();
    let started: Vec<Millis> = sessions.data.iter().map(|s| s.started_at).collect();
    assert_eq!(started, [at_ten(120), at_ten(0)]);
    let events = store.visitor_events(v1, None, 10).await.unwrap();
    assert_eq!(events.data.len(), 1);
    assert_eq!(events.data[0].properties["plan"], "pro");

    // A cursor of another list, or made up, is refused rather than misread.
    let theirs = store.visitor_sessions(v1, Some(&cursor), 10).await;
    assert!(
        matches!(theirs, Err(StoreError::InvalidCursor)),
        "{theirs:?}"
    );
    let made_up = store.visitor_events(v1, Some("bm9wZQ"), 10).await;
    assert!(matches!(made_up, Err(StoreError::InvalidCursor)));
}
