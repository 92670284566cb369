//! The story's bulk reads and export segment records.

use std::sync::Arc;

use ferry_domain::bulk::{BulkCounts, SegmentFacts, SegmentKey};
use ferry_domain::{DateRange, Millis, Website};
use ferry_store::{BatchStream, Store};

use super::{DAY, at_ten, date, day, drain, pageview};

/// Reads a stream to its end on a blocking thread, as bulk exports do, keeping `row` of each.
async fn collect<R, T>(
    rows: BatchStream<R>,
    row: fn(&ferry_domain::bulk::Batch<R>, &R) -> T,
) -> Vec<T>
where
    R: Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(move || {
        let mut all = Vec::new();
        for batch in rows {
            let batch = batch.unwrap();
            all.extend(batch.rows.iter().map(|r| row(&batch, r)));
        }
        all
    })
    .await
    .unwrap()
}

/// The website's whole day 1, as a bulk export reads it.
pub async fn bulk(store: &Arc<dyn Store>, website: &Website) {
    let window = (day(), day() + DAY);
    let counts = store.bulk_counts("web_a", window).await.unwrap();
    let expected = BulkCounts {
        pageviews: 5,
        events: 1,
        sessions: 3,
        visitors: 2,
    };
    assert_eq!(counts, expected);
    assert_eq!(
        store.first_activity("web_a").await.unwrap(),
        Some(at_ten(0))
    );
    assert_eq!(
        store.bulk_event_keys("web_a", window).await.unwrap(),
        ["plan"]
    );
    let range = DateRange {
        from: date(1),
        to: date(1),
    };
    let totals = store.totals(website, range).await.unwrap();
    assert_eq!(store.bulk_totals(website, range).await.unwrap(), totals);

    let views = collect(store.bulk_pageviews("web_a", window), |b, r| {
        (
            r.timestamp,
            b.str(r.url).to_string(),
            b.str(r.visitor_id).to_string(),
        )
    })
    .await;
    let views: Vec<(Millis, &str, &str)> = views
        .iter()
        .map(|(t, u, v)| (*t, u.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        views,
        [
            (at_ten(0), "https://a.example/", "v1"),
            (at_ten(5), "https://a.example/pricing", "v1"),
            (at_ten(60), "https://a.example/", "v2"),
            (at_ten(61), "https://a.example/", "v2"),
            (at_ten(120), "https://a.example/pricing", "v1"),
        ]
    );
    let next_day = (day() + DAY, day() + 2 * DAY);
    let none = collect(store.bulk_pageviews("web_a", next_day), |_, r| r.timestamp).await;
    assert!(none.is_empty(), "{none:?}");
    let events = collect(store.bulk_events("web_a", window), |b, r| {
        (b.str(r.name).to_string(), b.str(r.properties).to_string())
    })
    .await;
    assert_eq!(
        events,
        [("signup".to_string(), r#"{"plan":"pro"}"#.to_string())]
    );
    let sessions = collect(store.bulk_sessions("web_a", window), |b, r| {
        (
            b.str(r.visitor_id).to_string(),
            r.pages_viewed,
            r.events_triggered,
        )
    })
    .await;
    let v = |id: &str, pages, events| (id.to_string(), pages, events);
    assert_eq!(sessions, [v("v1", 2, 1), v("v2", 2, 0), v("v1", 1, 0)]);
    let visitors = drain(store.bulk_visitors("web_a", window)).await;
    let visitors: Vec<(&str, u64)> = visitors
        .iter()
        .map(|v| (v.visitor_id.as_str(), v.pageviews))
        .collect();
    assert_eq!(visitors, [("v1", 3), ("v2", 2)]);
}

/// A segment of day 1 claimed, made ready, forgotten when a late row lands on its day; a
/// second claim dropped by id, a third as a stale claim.
pub async fn segments(store: &Arc<dyn Store>) {
    let window = (day(), day() + DAY);
    let key = SegmentKey {
        data_type: "pageviews".into(),
        format: "csv".into(),
        layout: "1".into(),
        window,
    };
    let claimed_at = day() + 2 * DAY;
    let claim = || store.claim_segment("web_a", key.clone(), claimed_at);
    let id = claim().await.unwrap().expect("a first claim");
    assert_eq!(claim().await.unwrap(), None, "claimed already");
    let building = store.segments("web_a", window).await.unwrap();
    let seen: Vec<(i64, bool, &SegmentKey)> =
        building.iter().map(|s| (s.id, s.ready, &s.key)).collect();
    assert_eq!(seen, [(id, false, &key)]);

    let facts = SegmentFacts {
        rows: 5,
        raw_bytes: 400,
        stored_bytes: 200,
        event_keys: vec![],
    };
    assert!(store.complete_segment(id, facts).await.unwrap());
    let ready = store.segments("web_a", window).await.unwrap();
    let seen: Vec<(bool, u64, u64, u64)> = ready
        .iter()
        .map(|s| (s.ready, s.rows, s.raw_bytes, s.stored_bytes))
        .collect();
    assert_eq!(seen, [(true, 5, 400, 200)]);
    assert_eq!(store.segment_ids().await.unwrap(), [id]);
    assert!(
        store
            .segments("web_a", (day() + DAY, day() + 2 * DAY))
            .await
            .unwrap()
            .is_empty()
    );

    let late = vec![pageview("web_a", "v3", day() + DAY / 2, "/late")];
    let outcome = store.ingest(None, late, claimed_at).await.unwrap();
    assert_eq!(outcome, [Ok(())]);
    assert!(
        store.segments("web_a", window).await.unwrap().is_empty(),
        "its day changed"
    );

    let second = claim().await.unwrap().expect("the day is free again");
    assert_ne!(second, id, "a segment id names one segment for good");
    assert_eq!(store.drop_segments(vec![second], None).await.unwrap(), 1);
    let third = claim().await.unwrap().expect("free again");
    assert_eq!(
        store
            .drop_segments(vec![], Some(claimed_at - 1))
            .await
            .unwrap(),
        0,
        "fresh"
    );
    assert_eq!(
        store
            .drop_segments(vec![], Some(claimed_at + 1))
            .await
            .unwrap(),
        1,
        "stale"
    );
    assert!(store.segments("web_a", window).await.unwrap().is_empty());
    assert!(!store.segment_ids().await.unwrap().contains(&third));
}
