//! Which audit entries a `subject` filter names. A reviewer asking "every export about this
//! person" may hold any of their identifiers, in any case for an email, while each entry
//! records the identifier its request used (`subject`) and whom it resolved to then
//! (`person`). So the filter is resolved to the person as they are now — every user id, email
//! and visitor id linked to them in the account — and an entry matches when its subject or
//! its person is one of those names. The identifier itself always counts too, so entries
//! about someone since erased, or written before persons were recorded, are still found; and
//! so do the persons the trail recorded for it, so an email the person no longer has still
//! finds every entry about them.

use std::collections::BTreeSet;

use ferry_domain::AccountId;
use ferry_domain::export::SubjectRef;
use rusqlite::{Connection, params};

use crate::StoreError;

/// The names an entry may carry to match, as JSON arrays for `json_each`.
#[derive(Debug, Default)]
pub(crate) struct Names {
    /// Exact `subject` labels: `user_id:…`, `visitor_id:…`, `website:…`.
    pub labels: Vec<String>,
    /// `email:…` labels in ASCII lower case, compared with `lower(subject)`.
    pub emails: Vec<String>,
    /// `person` values: `user_id:…` or `visitor_id:…`.
    pub persons: Vec<String>,
}

#[derive(Default)]
struct Collected {
    labels: BTreeSet<String>,
    emails: BTreeSet<String>,
    persons: BTreeSet<String>,
}

impl Collected {
    fn add(&mut self, name: &SubjectRef) {
        match name {
            SubjectRef::Email(_) => {
                self.emails.insert(name.label().to_ascii_lowercase());
            }
            SubjectRef::UserId(_) | SubjectRef::VisitorId(_) | SubjectRef::VisitorOnly(_) => {
                self.labels.insert(name.label());
                self.persons.insert(name.label());
            }
        }
    }
}

/// Reads `filter` — a label (`user_id:…`, `email:…`, `visitor_id:…`, `website:…`) or a bare
/// identifier, tried as each kind — and names everything it stands for in `account`. Only
/// `account`'s people are looked at; the entries are filtered by account besides.
pub(crate) fn names(
    conn: &Connection,
    account: AccountId,
    filter: &str,
) -> Result<Names, StoreError> {
    let mut found = Collected::default();
    let asked: Vec<SubjectRef> = match filter.split_once(':') {
        Some(("user_id", v)) => vec![SubjectRef::UserId(v.into())],
        Some(("email", v)) => vec![SubjectRef::Email(v.into())],
        Some(("visitor_id", v)) => vec![SubjectRef::VisitorId(v.into())],
        // A bulk export's subject names a website, not a person.
        Some(("website", _)) => {
            found.labels.insert(filter.to_string());
            Vec::new()
        }
        _ => vec![
            SubjectRef::UserId(filter.into()),
            SubjectRef::Email(filter.into()),
            SubjectRef::VisitorId(filter.into()),
        ],
    };
    for name in &asked {
        found.add(name);
    }
    let recorded = recorded_persons(conn, account, &found)?;
    let mut users = BTreeSet::new();
    for name in asked.iter().chain(&recorded) {
        found.add(name);
        users.extend(users_named(conn, account, name)?);
    }
    for user in users {
        let (user_id, email): (String, Option<String>) = conn
            .prepare_cached("SELECT user_id, email FROM users WHERE pk = ?1")?
            .query_row([user], |r| Ok((r.get(0)?, r.get(1)?)))?;
        found.add(&SubjectRef::UserId(user_id));
        if let Some(email) = email {
            found.add(&SubjectRef::Email(email));
        }
        let mut stmt = conn.prepare_cached("SELECT visitor_id FROM visitors WHERE user_pk = ?1")?;
        for visitor in stmt.query_map([user], |r| r.get::<_, String>(0))? {
            found.add(&SubjectRef::VisitorId(visitor?));
        }
    }
    Ok(Names {
        labels: found.labels.into_iter().collect(),
        emails: found.emails.into_iter().collect(),
        persons: found.persons.into_iter().collect(),
    })
}

/// The persons the trail recorded on `account`'s entries whose subject is one of `found`'s
/// labels: whom those identifiers named when they were used.
fn recorded_persons(
    conn: &Connection,
    account: AccountId,
    found: &Collected,
) -> Result<Vec<SubjectRef>, StoreError> {
    let json =
        |names: &BTreeSet<String>| serde_json::Value::from_iter(names.iter().cloned()).to_string();
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT person FROM audit_log WHERE account_pk = ?1 AND person IS NOT NULL
           AND (subject IN (SELECT value FROM json_each(?2))
                OR lower(subject) IN (SELECT value FROM json_each(?3)))",
    )?;
    let persons = stmt.query_map(
        params![account.0, json(&found.labels), json(&found.emails)],
        |r| r.get::<_, String>(0),
    )?;
    let mut names = Vec::new();
    for person in persons {
        match person?.split_once(':') {
            Some(("user_id", v)) => names.push(SubjectRef::UserId(v.into())),
            Some(("visitor_id", v)) => names.push(SubjectRef::VisitorId(v.into())),
            _ => {}
        }
    }
    Ok(names)
}

/// The users of `account` an identifier names now: by user id, by email in any case (several
/// users may share one), or the users a visitor id is linked to on any website.
fn users_named(
    conn: &Connection,
    account: AccountId,
    name: &SubjectRef,
) -> Result<Vec<i64>, StoreError> {
    let (sql, value) = match name {
        SubjectRef::UserId(v) => (
            "SELECT pk FROM users WHERE account_pk = ?1 AND user_id = ?2",
            v,
        ),
        SubjectRef::Email(v) => (
            "SELECT pk FROM users WHERE account_pk = ?1 AND email = ?2 COLLATE NOCASE",
            v,
        ),
        SubjectRef::VisitorId(v) | SubjectRef::VisitorOnly(v) => (
            "SELECT v.user_pk FROM visitors v JOIN websites w ON w.pk = v.website_pk
             WHERE w.account_pk = ?1 AND v.visitor_id = ?2 AND v.user_pk IS NOT NULL",
            v,
        ),
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let users = stmt.query_map(params![account.0, value], |r| r.get(0))?;
    Ok(users.collect::<Result<_, _>>()?)
}
