//! One person's data: who they are (a user id, an email or a visitor id resolved to the profile
//! and every visitor linked to it) and their rows, found by index from the visitors.

use chrono::{NaiveDate, NaiveTime};
use ferry_domain::export::{
    EventRow, ExportRange, Identity, PageviewRow, Profile, SessionRow, Subject, SubjectRef,
};
use ferry_domain::{AccountId, Millis};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde_json::{Map, Value};

use crate::StoreError;

fn profile_row(r: &Row) -> rusqlite::Result<(i64, Profile)> {
    let properties: String = r.get(5)?;
    Ok((
        r.get(0)?,
        Profile {
            user_id: r.get(1)?,
            email: r.get(2)?,
            name: r.get(3)?,
            created_at: r.get(4)?,
            properties: serde_json::from_str(&properties).unwrap_or_default(),
        },
    ))
}

const PROFILE: &str = "SELECT pk, user_id, email, name, created_at, properties FROM users";

pub(crate) fn find(
    conn: &Connection,
    account: AccountId,
    subject: &SubjectRef,
    website: Option<&str>,
) -> Result<Option<Subject>, StoreError> {
    let mut users: Vec<(i64, Profile)> = match subject {
        SubjectRef::UserId(id) => conn
            .prepare_cached(&format!("{PROFILE} WHERE account_pk = ?1 AND user_id = ?2"))?
            .query_map(params![account.0, id], profile_row)?
            .collect::<Result<_, _>>()?,
        SubjectRef::Email(email) => conn
            .prepare_cached(&format!(
                "{PROFILE} WHERE account_pk = ?1 AND email = ?2 COLLATE NOCASE ORDER BY pk"
            ))?
            .query_map(params![account.0, email], profile_row)?
            .collect::<Result<_, _>>()?,
        SubjectRef::VisitorId(visitor) => {
            // A visitor linked to a user stands for that whole person.
            let linked: Option<Option<i64>> = conn
                .prepare_cached(
                    "SELECT v.user_pk FROM visitors v JOIN websites w ON w.pk = v.website_pk
                     WHERE w.account_pk = ?1 AND v.visitor_id = ?2 AND (?3 IS NULL OR w.public_id = ?3)
                     ORDER BY v.user_pk IS NULL LIMIT 1",
                )?
                .query_row(params![account.0, visitor, website], |r| r.get(0))
                .optional()?;
            match linked {
                None => return Ok(None),
                Some(None) => return anonymous(conn, account, visitor, website).map(Some),
                Some(Some(user_pk)) => conn
                    .prepare_cached(&format!("{PROFILE} WHERE pk = ?1"))?
                    .query_map([user_pk], profile_row)?
                    .collect::<Result<_, _>>()?,
            }
        }
    };
    if users.is_empty() {
        return Ok(None);
    }
    let mut identities = Vec::new();
    for (user_pk, _) in &users {
        let mut stmt = conn.prepare_cached(
            "SELECT v.pk, w.public_id, w.domain, v.visitor_id FROM visitors v
             JOIN websites w ON w.pk = v.website_pk
             WHERE v.user_pk = ?1 AND (?2 IS NULL OR w.public_id = ?2) ORDER BY v.pk",
        )?;
        let rows = stmt.query_map(params![user_pk, website], identity_row)?;
        identities.extend(rows.collect::<Result<Vec<_>, _>>()?);
    }
    Ok(Some(Subject {
        profile: Some(users.remove(0).1),
        identities,
    }))
}

fn identity_row(r: &Row) -> rusqlite::Result<Identity> {
    Ok(Identity {
        visitor_key: r.get(0)?,
        website_id: r.get(1)?,
        domain: r.get(2)?,
        visitor_id: r.get(3)?,
    })
}

fn anonymous(
    conn: &Connection,
    account: AccountId,
    visitor: &str,
    website: Option<&str>,
) -> Result<Subject, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT v.pk, w.public_id, w.domain, v.visitor_id FROM visitors v
         JOIN websites w ON w.pk = v.website_pk
         WHERE w.account_pk = ?1 AND v.visitor_id = ?2 AND (?3 IS NULL OR w.public_id = ?3) ORDER BY v.pk",
    )?;
    let identities = stmt
        .query_map(params![account.0, visitor, website], identity_row)?
        .collect::<Result<_, _>>()?;
    Ok(Subject {
        profile: None,
        identities,
    })
}

/// UTC bounds of an export range; open sides are unbounded.
pub(crate) fn bounds(range: ExportRange) -> (Millis, Millis) {
    let at = |d: NaiveDate| d.and_time(NaiveTime::MIN).and_utc().timestamp_millis();
    (
        range.start.map_or(Millis::MIN, at),
        range
            .end
            .map_or(Millis::MAX, |d| at(d.succ_opt().unwrap_or(d))),
    )
}

/// `(v1,v2,…)` of visitor keys: integers the store handed out, so inlined safely.
fn visitor_list(visitors: &[i64]) -> String {
    let values: Vec<String> = visitors.iter().map(i64::to_string).collect();
    format!("({})", values.join(","))
}

/// The sessions of the listed visitors, each found through `sessions_visitor`.
const SESSIONS_OF: &str = "FROM visitors vv
         JOIN sessions s INDEXED BY sessions_visitor
           ON s.website_pk = vv.website_pk AND s.visitor_pk = vv.pk";

/// Calls `each` with every page view of `visitors` in the range, oldest first.
pub(crate) fn pageviews(
    conn: &Connection,
    visitors: &[i64],
    range: ExportRange,
    each: &mut dyn FnMut(PageviewRow) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let (start, end) = bounds(range);
    let sql = format!(
        "SELECT p.ts, u.url, p.title, p.referrer, p.device, p.browser, p.country, w.public_id
         {SESSIONS_OF}
         JOIN pageviews p ON p.session_pk = s.pk
         JOIN urls u ON u.pk = p.url_pk
         JOIN websites w ON w.pk = p.website_pk
         WHERE vv.pk IN {}
           AND p.ts >= ?1 AND p.ts < ?2
         ORDER BY p.ts, p.pk",
        visitor_list(visitors)
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params![start, end])?;
    while let Some(r) = rows.next()? {
        each(PageviewRow {
            timestamp: r.get(0)?,
            url: r.get(1)?,
            title: r.get(2)?,
            referrer: r.get(3)?,
            device: r.get(4)?,
            browser: r.get(5)?,
            country: r.get(6)?,
            website_id: r.get(7)?,
        })?;
    }
    Ok(())
}

pub(crate) fn events(
    conn: &Connection,
    visitors: &[i64],
    range: ExportRange,
    each: &mut dyn FnMut(EventRow) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let (start, end) = bounds(range);
    let sql = format!(
        "SELECT e.ts, e.name, e.properties, w.public_id
         {SESSIONS_OF}
         JOIN events e ON e.session_pk = s.pk
         JOIN websites w ON w.pk = e.website_pk
         WHERE vv.pk IN {}
           AND e.ts >= ?1 AND e.ts < ?2
         ORDER BY e.ts, e.pk",
        visitor_list(visitors)
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params![start, end])?;
    while let Some(r) = rows.next()? {
        let properties: String = r.get(2)?;
        each(EventRow {
            timestamp: r.get(0)?,
            name: r.get(1)?,
            properties: serde_json::from_str::<Map<String, Value>>(&properties).unwrap_or_default(),
            website_id: r.get(3)?,
        })?;
    }
    Ok(())
}

pub(crate) fn event_property_keys(
    conn: &Connection,
    visitors: &[i64],
    range: ExportRange,
) -> Result<Vec<String>, StoreError> {
    let (start, end) = bounds(range);
    let sql = format!(
        "SELECT DISTINCT j.key
         {SESSIONS_OF}
         JOIN events e ON e.session_pk = s.pk, json_each(e.properties) j
         WHERE vv.pk IN {}
           AND e.ts >= ?1 AND e.ts < ?2
         ORDER BY j.key",
        visitor_list(visitors)
    );
    let mut stmt = conn.prepare(&sql)?;
    let keys = stmt
        .query_map(params![start, end], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(keys)
}

pub(crate) fn sessions(
    conn: &Connection,
    visitors: &[i64],
    range: ExportRange,
    each: &mut dyn FnMut(SessionRow) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let (start, end) = bounds(range);
    let sql = format!(
        "SELECT s.pk, s.started_at, s.ended_at, s.pages_viewed, s.events_triggered, w.public_id
         {SESSIONS_OF}
         JOIN websites w ON w.pk = s.website_pk
         WHERE vv.pk IN {}
           AND s.started_at >= ?1 AND s.started_at < ?2
         ORDER BY s.started_at, s.pk",
        visitor_list(visitors)
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params![start, end])?;
    while let Some(r) = rows.next()? {
        let pk: i64 = r.get(0)?;
        each(SessionRow {
            session_id: format!("sess_{pk}"),
            started_at: r.get(1)?,
            ended_at: r.get(2)?,
            pages_viewed: r.get(3)?,
            events_triggered: r.get(4)?,
            website_id: r.get(5)?,
        })?;
    }
    Ok(())
}
