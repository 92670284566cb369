//! `ferry analytics rebuild`: the rollups the summary reads, recomputed from the rows by the
//! real binary; bad input is refused and changes nothing.

use crate::cli::{one_person, run};

/// The page views the rollups of the store in `dir` count.
fn counted_pageviews(dir: &std::path::Path) -> i64 {
    let db = rusqlite::Connection::open(dir.join("ferry.db")).unwrap();
    db.query_row(
        "SELECT coalesce(sum(pageviews), 0) FROM rollup_buckets",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[tokio::test]
async fn analytics_rebuild_repairs_rollups_changed_behind_ferrys_back() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let site = one_person(d).await;
    assert_eq!(counted_pageviews(d), 1, "ingest kept the rollups");
    rusqlite::Connection::open(d.join("ferry.db"))
        .unwrap()
        .execute("UPDATE rollup_buckets SET pageviews = 40", [])
        .unwrap();

    let (ok, out, err) = run(d, &["analytics", "rebuild", "--website", &site]).await;
    assert!(ok, "{err}");
    assert!(out.contains("1 15-minute buckets hold data"), "{out}");
    assert_eq!(counted_pageviews(d), 1, "recounted from the rows");

    // A range: only its days are rebuilt.
    rusqlite::Connection::open(d.join("ferry.db"))
        .unwrap()
        .execute("UPDATE rollup_buckets SET pageviews = 40", [])
        .unwrap();
    let other_days = [
        "analytics",
        "rebuild",
        "--website",
        &site,
        "--from",
        "2024-05-02",
        "--to",
        "2024-05-03",
    ];
    assert!(run(d, &other_days).await.0);
    assert_eq!(
        counted_pageviews(d),
        40,
        "the page view's day was not in the range"
    );
    let its_day = [
        "analytics",
        "rebuild",
        "--website",
        &site,
        "--from",
        "2024-05-01",
        "--to",
        "2024-05-01",
    ];
    assert!(run(d, &its_day).await.0);
    assert_eq!(counted_pageviews(d), 1);
}

#[tokio::test]
async fn analytics_rebuild_refuses_unknown_websites_and_reversed_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let site = one_person(d).await;
    let (ok, _, err) = run(d, &["analytics", "rebuild", "--website", "web_nope"]).await;
    assert!(!ok);
    assert!(err.contains("there is no website `web_nope`"), "{err}");
    let reversed = [
        "analytics",
        "rebuild",
        "--website",
        &site,
        "--from",
        "2024-05-03",
        "--to",
        "2024-05-01",
    ];
    let (ok, _, err) = run(d, &reversed).await;
    assert!(!ok);
    assert!(err.contains("--from is after --to"), "{err}");
    let half = [
        "analytics",
        "rebuild",
        "--website",
        &site,
        "--from",
        "2024-05-03",
    ];
    assert!(!run(d, &half).await.0, "--from needs --to");
    assert_eq!(counted_pageviews(d), 1, "nothing changed");
}
