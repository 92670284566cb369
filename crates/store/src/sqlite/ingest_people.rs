//! Ingest's people: a visitor's row and cached state, loaded or created on first sight, and a
//! user's profile as identify lines set it.

use std::collections::HashMap;

use ferry_domain::ingest::{MAX_USER_PROPERTIES_BYTES, user_properties_too_large};
use ferry_domain::{Identify, LineError, Millis};
use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::{Map, Value};

use super::sessions::SessionState;
use crate::StoreError;

/// What ingest needs of a visitor. First and last seen are not kept here: they are read from
/// the sessions when asked for, which spares a write per visitor per batch.
pub(crate) struct VisitorState {
    pub(crate) pk: i64,
    pub(crate) device: Option<String>,
    pub(crate) browser: Option<String>,
    pub(crate) country: Option<String>,
    pub(crate) dirty: bool,
    /// The visitor's latest session, once looked up (`Some(None)`: it has none).
    pub(crate) latest: Option<Option<SessionState>>,
}

/// The cached state of a visitor, loading (or creating) it on first sight.
pub(super) fn visitor_state<'a>(
    visitors: &'a mut HashMap<(i64, String), VisitorState>,
    tx: &Transaction,
    website_pk: i64,
    visitor_id: &str,
) -> Result<&'a mut VisitorState, StoreError> {
    let key = (website_pk, visitor_id.to_string());
    if !visitors.contains_key(&key) {
        let state = load_or_create_visitor(tx, website_pk, visitor_id)?;
        visitors.insert(key.clone(), state);
    }
    Ok(visitors.get_mut(&key).expect("inserted above"))
}

fn load_or_create_visitor(
    tx: &Transaction,
    website_pk: i64,
    visitor_id: &str,
) -> Result<VisitorState, StoreError> {
    let found = tx
        .prepare_cached(
            "SELECT pk, device, browser, country FROM visitors
             WHERE website_pk = ?1 AND visitor_id = ?2",
        )?
        .query_row(params![website_pk, visitor_id], |r| {
            Ok(VisitorState {
                pk: r.get(0)?,
                device: r.get(1)?,
                browser: r.get(2)?,
                country: r.get(3)?,
                dirty: false,
                latest: None,
            })
        })
        .optional()?;
    if let Some(state) = found {
        return Ok(state);
    }
    tx.prepare_cached("INSERT INTO visitors (website_pk, visitor_id) VALUES (?1, ?2)")?
        .execute(params![website_pk, visitor_id])?;
    Ok(VisitorState {
        pk: tx.last_insert_rowid(),
        device: None,
        browser: None,
        country: None,
        dirty: false,
        latest: Some(None),
    })
}

pub(super) fn upsert_user(
    tx: &Transaction,
    account_pk: i64,
    i: &Identify,
    now: Millis,
) -> Result<Result<i64, LineError>, StoreError> {
    let existing = tx
        .prepare_cached("SELECT pk, properties FROM users WHERE account_pk = ?1 AND user_id = ?2")?
        .query_row(params![account_pk, i.user_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })
        .optional()?;
    match existing {
        None => {
            let props = serde_json::to_string(&i.properties).unwrap_or_else(|_| "{}".into());
            tx.prepare_cached(
                "INSERT INTO users (account_pk, user_id, email, name, properties, created_at, updated_at, profile_trust)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![account_pk, i.user_id, i.email, i.name, props, i.created_at.unwrap_or(now), now, i.trust.as_str()])?;
            Ok(Ok(tx.last_insert_rowid()))
        }
        // What is known of a person is changed only on the word of the site or the operator.
        Some((pk, _)) if !i.trust.may_overwrite() => Ok(Ok(pk)),
        Some((pk, stored)) => {
            let mut merged: Map<String, Value> = serde_json::from_str(&stored).unwrap_or_default();
            merged.extend(i.properties.clone());
            let props = serde_json::to_string(&merged).unwrap_or_else(|_| "{}".into());
            if props.len() > MAX_USER_PROPERTIES_BYTES {
                return Ok(Err(user_properties_too_large(props.len())));
            }
            tx.prepare_cached(
                "UPDATE users SET email = COALESCE(?2, email), name = COALESCE(?3, name), properties = ?4,
                 created_at = COALESCE(?5, created_at), updated_at = ?6, profile_trust = ?7 WHERE pk = ?1",
            )?
            .execute(params![pk, i.email, i.name, props, i.created_at, now, i.trust.as_str()])?;
            Ok(Ok(pk))
        }
    }
}
