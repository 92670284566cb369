//! Who a person is: a user id, an email or a visitor id resolved to the profile and every
//! visitor linked to it.

use ferry_domain::export::{
    EventRow, ExportRange, Identity, PageviewRow, Profile, SessionRow, Subject, SubjectRef,
};
use ferry_domain::{AccountId, LinkTrust};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{SqliteStore, stream, subject_rows};
use crate::{RowReceiver, StoreError, Subjects};

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
        SubjectRef::VisitorOnly(visitor) => {
            let subject = anonymous(conn, account, visitor, website)?;
            return Ok((!subject.identities.is_empty()).then_some(subject));
        }
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
            "SELECT v.pk, w.public_id, w.domain, v.visitor_id, u.user_id, v.link_trust, u.profile_trust
             FROM visitors v JOIN websites w ON w.pk = v.website_pk JOIN users u ON u.pk = v.user_pk
             WHERE v.user_pk = ?1 AND (?2 IS NULL OR w.public_id = ?2) ORDER BY v.pk",
        )?;
        let rows = stmt.query_map(params![user_pk, website], linked_identity_row)?;
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
        user_id: None,
        linked_by: None,
        profile_set_by: None,
    })
}

/// A visitor linked to a user, with who made the link and who set the user's profile.
fn linked_identity_row(r: &Row) -> rusqlite::Result<Identity> {
    let trust = |i: usize| -> rusqlite::Result<Option<LinkTrust>> {
        let name: Option<String> = r.get(i)?;
        // A name this build does not know is shown as the least trusted, never as more.
        Ok(name.map(|n| LinkTrust::parse(&n).unwrap_or(LinkTrust::Unsigned)))
    };
    Ok(Identity {
        user_id: r.get(4)?,
        linked_by: trust(5)?,
        profile_set_by: trust(6)?,
        ..identity_row(r)?
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

#[async_trait::async_trait]
impl Subjects for SqliteStore {
    async fn find_subject(
        &self,
        account: AccountId,
        subject: &SubjectRef,
        website_id: Option<&str>,
    ) -> Result<Option<Subject>, StoreError> {
        let (subject, website) = (subject.clone(), website_id.map(str::to_string));
        self.pool
            .read(move |c| find(c, account, &subject, website.as_deref()))
            .await
    }

    fn subject_pageviews(
        &self,
        visitors: Vec<i64>,
        range: ExportRange,
    ) -> RowReceiver<PageviewRow> {
        stream::rows(&self.pool, move |c, each| {
            subject_rows::pageviews(c, &visitors, range, each)
        })
    }

    fn subject_events(&self, visitors: Vec<i64>, range: ExportRange) -> RowReceiver<EventRow> {
        stream::rows(&self.pool, move |c, each| {
            subject_rows::events(c, &visitors, range, each)
        })
    }

    fn subject_sessions(&self, visitors: Vec<i64>, range: ExportRange) -> RowReceiver<SessionRow> {
        stream::rows(&self.pool, move |c, each| {
            subject_rows::sessions(c, &visitors, range, each)
        })
    }

    async fn subject_event_keys(
        &self,
        visitors: Vec<i64>,
        range: ExportRange,
    ) -> Result<Vec<String>, StoreError> {
        self.pool
            .read(move |c| subject_rows::event_property_keys(c, &visitors, range))
            .await
    }

    async fn subject_activity_span(
        &self,
        visitors: Vec<i64>,
    ) -> Result<Option<(ferry_domain::Millis, ferry_domain::Millis)>, StoreError> {
        self.pool
            .read(move |c| super::spans::visitors(c, &visitors))
            .await
    }
}
