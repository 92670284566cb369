//! Where a website's or a person's data lies in time: the first and last instant of any
//! activity. Answers "which days hold data?" when a range turned out empty. Each is a few
//! index lookups (the ends of `sessions_range`, `pageviews_range`, `events_range`, or one
//! person's `sessions_visitor`), never a scan, so an analytics answer can afford it.

use ferry_domain::{Millis, Website};
use rusqlite::{Connection, OptionalExtension};

use super::analytics::website_pk;
use crate::StoreError;

/// A session starts at its first activity, so the first session's start is the first
/// activity; the last activity is the latest page view or event (a session's `ended_at` is
/// one of those, but no index orders sessions by it).
pub(crate) fn website(
    conn: &Connection,
    website: &Website,
) -> Result<Option<(Millis, Millis)>, StoreError> {
    let pk = website_pk(conn, website)?;
    let span: (Option<Millis>, Option<Millis>) = conn
        .prepare_cached(
            "SELECT
               (SELECT min(started_at) FROM sessions INDEXED BY sessions_range WHERE website_pk = ?1),
               max(coalesce(pv.last, ev.last), coalesce(ev.last, pv.last))
             FROM (SELECT max(ts) AS last FROM pageviews INDEXED BY pageviews_range WHERE website_pk = ?1) pv,
                  (SELECT max(ts) AS last FROM events INDEXED BY events_range WHERE website_pk = ?1) ev",
        )?
        .query_row([pk], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(match span {
        (Some(first), Some(last)) => Some((first, last)),
        _ => None,
    })
}

/// The same for one person's visitors (`Identity::visitor_key`): their first session's start
/// and their last session's end.
pub(crate) fn visitors(
    conn: &Connection,
    visitors: &[i64],
) -> Result<Option<(Millis, Millis)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT min(s.started_at), max(s.ended_at)
         FROM visitors vv
         JOIN sessions s INDEXED BY sessions_visitor
           ON s.website_pk = vv.website_pk AND s.visitor_pk = vv.pk
         WHERE vv.pk = ?1",
    )?;
    let mut span: Option<(Millis, Millis)> = None;
    for visitor in visitors {
        let found: Option<(Option<Millis>, Option<Millis>)> = stmt
            .query_row([visitor], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        if let Some((Some(first), Some(last))) = found {
            span = Some(span.map_or((first, last), |(a, b)| (a.min(first), b.max(last))));
        }
    }
    Ok(span)
}
