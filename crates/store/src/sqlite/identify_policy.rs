//! Each website's identify secret and whether it takes unsigned identify calls
//! (`website_identify`).

use ferry_domain::IdentifyPolicy;
use rusqlite::{Connection, OptionalExtension, params};

use super::convert::time;
use crate::StoreError;

/// Inside the transaction that creates the website, so no website is ever without a secret.
pub(crate) fn create(
    conn: &Connection,
    website_pk: i64,
    secret: &str,
    now: i64,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO website_identify (website_pk, secret, rotated_at) VALUES (?1, ?2, ?3)",
        params![website_pk, secret, now],
    )?;
    Ok(())
}

pub(crate) fn policy(
    conn: &Connection,
    website_id: &str,
) -> Result<Option<IdentifyPolicy>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT i.secret, i.allow_unsigned, i.rotated_at FROM website_identify i
             JOIN websites w ON w.pk = i.website_pk WHERE w.public_id = ?1",
        )?
        .query_row([website_id], |r| {
            Ok(IdentifyPolicy {
                secret: r.get(0)?,
                allow_unsigned: r.get(1)?,
                rotated_at: time(r.get(2)?),
            })
        })
        .optional()?)
}

pub(crate) fn rotate(
    conn: &Connection,
    website_id: &str,
    secret: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let changed = conn.execute(
        "INSERT INTO website_identify (website_pk, secret, rotated_at)
             SELECT pk, ?2, ?3 FROM websites WHERE public_id = ?1
         ON CONFLICT (website_pk) DO UPDATE SET secret = excluded.secret, rotated_at = excluded.rotated_at",
        params![website_id, secret, now],
    )?;
    Ok(changed > 0)
}

pub(crate) fn set_unsigned(
    conn: &Connection,
    website_id: &str,
    allow: bool,
) -> Result<bool, StoreError> {
    let changed = conn.execute(
        "UPDATE website_identify SET allow_unsigned = ?2
         WHERE website_pk = (SELECT pk FROM websites WHERE public_id = ?1)",
        params![website_id, allow],
    )?;
    Ok(changed > 0)
}
