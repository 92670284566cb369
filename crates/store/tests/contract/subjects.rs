//! The story's data subject: one person found by each of their names, and their rows.

use std::sync::Arc;

use ferry_domain::export::{ExportRange, SubjectRef};
use ferry_domain::{AccountId, Millis};
use ferry_store::Store;

use super::{at_ten, date, drain};

/// The person u1 found three ways; returns their visitor key.
pub async fn subjects(store: &Arc<dyn Store>, acme: AccountId, other: AccountId) -> i64 {
    let by_user = store
        .find_subject(acme, &SubjectRef::UserId("u1".into()), None)
        .await
        .unwrap()
        .unwrap();
    let profile = by_user.profile.clone().unwrap();
    assert_eq!(
        (profile.user_id.as_str(), profile.name.as_deref()),
        ("u1", Some("Ann"))
    );
    let visitors: Vec<(&str, &str)> = by_user
        .identities
        .iter()
        .map(|i| (i.website_id.as_str(), i.visitor_id.as_str()))
        .collect();
    assert_eq!(visitors, [("web_a", "v1")]);

    let by_email = SubjectRef::Email("ANN@example.com".into());
    assert_eq!(
        store.find_subject(acme, &by_email, None).await.unwrap(),
        Some(by_user.clone())
    );
    let by_visitor = SubjectRef::VisitorId("v1".into());
    let linked = store
        .find_subject(acme, &by_visitor, Some("web_a"))
        .await
        .unwrap();
    assert_eq!(
        linked,
        Some(by_user.clone()),
        "an identified visitor stands for the person"
    );

    let anonymous = store
        .find_subject(acme, &SubjectRef::VisitorId("v2".into()), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(anonymous.profile, None);
    assert_eq!(anonymous.identities.len(), 1);
    assert_eq!(anonymous.identities[0].visitor_id, "v2");

    let u1 = SubjectRef::UserId("u1".into());
    assert_eq!(
        store.find_subject(other, &u1, None).await.unwrap(),
        None,
        "another account's"
    );
    let nobody = SubjectRef::UserId("nobody".into());
    assert_eq!(store.find_subject(acme, &nobody, None).await.unwrap(), None);
    by_user.identities[0].visitor_key
}

pub async fn subject_rows(store: &Arc<dyn Store>, v1: i64) {
    let all = ExportRange::default();
    let views = drain(store.subject_pageviews(vec![v1], all)).await;
    let views: Vec<(Millis, &str, &str)> = views
        .iter()
        .map(|r| (r.timestamp, r.url.as_str(), r.website_id.as_str()))
        .collect();
    assert_eq!(
        views,
        [
            (at_ten(0), "https://a.example/", "web_a"),
            (at_ten(5), "https://a.example/pricing", "web_a"),
            (at_ten(120), "https://a.example/pricing", "web_a"),
        ]
    );
    let events = drain(store.subject_events(vec![v1], all)).await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].name.as_str(), events[0].timestamp),
        ("signup", at_ten(6))
    );
    assert_eq!(events[0].properties["plan"], "pro");
    let sessions = drain(store.subject_sessions(vec![v1], all)).await;
    let sessions: Vec<(Millis, Millis, u64, u64)> = sessions
        .iter()
        .map(|s| (s.started_at, s.ended_at, s.pages_viewed, s.events_triggered))
        .collect();
    assert_eq!(
        sessions,
        [
            (at_ten(0), at_ten(6), 2, 1),
            (at_ten(120), at_ten(120), 1, 0)
        ]
    );
    assert_eq!(
        store.subject_event_keys(vec![v1], all).await.unwrap(),
        ["plan"]
    );
    assert_eq!(
        store.subject_activity_span(vec![v1]).await.unwrap(),
        Some((at_ten(0), at_ten(120))),
        "from the first session's start to the last one's end"
    );
    assert_eq!(store.subject_activity_span(Vec::new()).await.unwrap(), None);

    let later = ExportRange {
        start: Some(date(2)),
        end: None,
    };
    assert!(
        drain(store.subject_pageviews(vec![v1], later))
            .await
            .is_empty()
    );
}
