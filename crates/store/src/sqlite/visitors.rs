//! The visitor list: paged for the API, in one pass for a bulk export.

use ferry_domain::analytics::{Page, VisitorRow};
use ferry_domain::{DateRange, Millis, Website};
use rusqlite::{Connection, params};

use super::analytics::website_pk;
use super::convert::opt_time;
use crate::{StoreError, cursor};

/// Visitors with a session started in `?2..?3` on website `?1`, after visitor key `?4`, at most
/// `?5` (-1: all), in key order; shared by the paged API list and the bulk export.
const VISITORS_SQL: &str = "SELECT agg.visitor_pk, v.visitor_id,
        (SELECT min(started_at) FROM sessions s INDEXED BY sessions_visitor
          WHERE s.website_pk = ?1 AND s.visitor_pk = agg.visitor_pk),
        (SELECT max(ended_at) FROM sessions s INDEXED BY sessions_visitor
          WHERE s.website_pk = ?1 AND s.visitor_pk = agg.visitor_pk),
        v.device, v.browser, v.country,
        u.user_id, u.email, agg.sessions,
        (SELECT count(*) FROM sessions s INDEXED BY sessions_visitor
          JOIN pageviews p ON p.session_pk = s.pk AND p.ts >= ?2 AND p.ts < ?3
          WHERE s.website_pk = ?1 AND s.visitor_pk = agg.visitor_pk)
 FROM (SELECT visitor_pk, count(*) AS sessions FROM sessions
       WHERE website_pk = ?1 AND visitor_pk > ?4 AND started_at >= ?2 AND started_at < ?3
       GROUP BY visitor_pk ORDER BY visitor_pk LIMIT ?5) agg
 JOIN visitors v ON v.pk = agg.visitor_pk
 LEFT JOIN users u ON u.pk = v.user_pk
 ORDER BY agg.visitor_pk";

/// [`VISITORS_SQL`]'s rows for every visitor at once, in one pass over the website's sessions
/// in visitor order instead of three lookups per visitor. A session wholly inside the window
/// counts its `pages_viewed`; only one that straddles an edge has its page views counted.
const EACH_VISITOR_SQL: &str = "SELECT agg.visitor_pk, v.visitor_id, agg.first_seen, agg.last_seen,
        v.device, v.browser, v.country, u.user_id, u.email, agg.sessions, agg.pageviews
 FROM (SELECT s.visitor_pk,
         min(s.started_at) AS first_seen, max(s.ended_at) AS last_seen,
         sum(s.started_at >= ?2 AND s.started_at < ?3) AS sessions,
         sum(CASE WHEN s.started_at >= ?2 AND s.ended_at < ?3 THEN s.pages_viewed
                  WHEN s.ended_at < ?2 OR s.started_at >= ?3 THEN 0
                  ELSE (SELECT count(*) FROM pageviews p
                        WHERE p.session_pk = s.pk AND p.ts >= ?2 AND p.ts < ?3) END) AS pageviews
       FROM sessions s INDEXED BY sessions_visitor
       WHERE s.website_pk = ?1
       GROUP BY s.visitor_pk) agg
 JOIN visitors v ON v.pk = agg.visitor_pk
 LEFT JOIN users u ON u.pk = v.user_pk
 WHERE agg.sessions > 0
 ORDER BY agg.visitor_pk";

fn visitor_row(r: &rusqlite::Row) -> rusqlite::Result<(i64, VisitorRow)> {
    Ok((
        r.get::<_, i64>(0)?,
        VisitorRow {
            visitor_id: r.get(1)?,
            first_seen: opt_time(r.get(2)?),
            last_seen: opt_time(r.get(3)?),
            device: r.get(4)?,
            browser: r.get(5)?,
            country: r.get(6)?,
            user_id: r.get(7)?,
            email: r.get(8)?,
            sessions: r.get(9)?,
            pageviews: r.get(10)?,
        },
    ))
}

/// Every visitor of [`VISITORS_SQL`], for a bulk export.
pub(crate) fn each_visitor(
    conn: &Connection,
    website_pk: i64,
    (start, end): (Millis, Millis),
    each: &mut dyn FnMut(VisitorRow) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare(EACH_VISITOR_SQL)?;
    let mut rows = stmt.query(params![website_pk, start, end])?;
    while let Some(r) = rows.next()? {
        each(visitor_row(r)?.1)?;
    }
    Ok(())
}

pub(crate) fn visitors(
    conn: &Connection,
    website: &Website,
    range: DateRange,
    after: Option<&str>,
    limit: u32,
) -> Result<Page<VisitorRow>, StoreError> {
    let pk = website_pk(conn, website)?;
    let (start, end) = range.bounds(website.timezone);
    let after_pk: i64 = match after {
        None => 0,
        Some(c) => cursor::decode(c, "visitors")?
            .parse()
            .map_err(|_| StoreError::InvalidCursor)?,
    };
    let mut stmt = conn.prepare_cached(VISITORS_SQL)?;
    let mut rows = stmt
        .query_map(
            params![pk, start, end, after_pk, i64::from(limit) + 1],
            visitor_row,
        )?
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last()
            .map(|(pk, _)| cursor::encode(&format!("visitors:{pk}")))
    } else {
        None
    };
    Ok(Page {
        data: rows.into_iter().map(|(_, row)| row).collect(),
        next_cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{DAY, MINUTE, pageview, store_with_website};
    use super::*;
    use crate::prelude::*;

    #[tokio::test]
    async fn the_one_pass_visitor_list_equals_the_paged_one_at_the_windows_edges() {
        let (_dir, store, account) = store_with_website().await;
        let (day2, day3) = (2 * DAY, 3 * DAY);
        let lines = vec![
            // A session from the day before into day 2: not started in day 2.
            pageview("across-start", day2 - 10 * MINUTE),
            pageview("across-start", day2 + 5 * MINUTE),
            // Starts in day 2 and runs into day 3: one of its two page views counts.
            pageview("across-end", day3 - 2 * MINUTE),
            pageview("across-end", day3 + 3 * MINUTE),
            // An older session, then one wholly inside day 2.
            pageview("returning", DAY + 60 * MINUTE),
            pageview("returning", day2 + 60 * MINUTE),
            pageview("returning", day2 + 65 * MINUTE),
            pageview("returning", day2 + 70 * MINUTE),
            pageview("elsewhere", 5 * DAY),
        ];
        store.ingest(None, lines, 6 * DAY).await.unwrap();
        let website = store.website(account, "web_t").await.unwrap().unwrap();
        let range = DateRange {
            from: chrono::NaiveDate::from_ymd_opt(1970, 1, 3).unwrap(),
            to: chrono::NaiveDate::from_ymd_opt(1970, 1, 3).unwrap(),
        };
        let (paged, each) = store
            .pool
            .read(move |c| {
                let paged = visitors(c, &website, range, None, 100)?.data;
                let pk = website_pk(c, &website)?;
                let mut each = Vec::new();
                each_visitor(c, pk, range.bounds(website.timezone), &mut |row| {
                    each.push(row);
                    Ok(())
                })?;
                Ok((paged, each))
            })
            .await
            .unwrap();
        let summary: Vec<(String, u64, u64)> = each
            .iter()
            .map(|v| (v.visitor_id.clone(), v.sessions, v.pageviews))
            .collect();
        assert_eq!(
            summary,
            [
                ("across-end".to_string(), 1, 1),
                ("returning".to_string(), 1, 3)
            ]
        );
        assert_eq!(each, paged);
    }
}
