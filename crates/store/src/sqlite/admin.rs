//! Accounts, websites and API keys.

use chrono_tz::Tz;
use ferry_domain::{
    Account, AccountId, ApiKeyInfo, NewApiKey, Plan, Scopes, ValidWebsite, Website,
};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::convert::{now_ms, opt_time, time};
use crate::StoreError;

/// A key's last use is recorded at most this often, so reads do not turn into writes.
const LAST_USED_RESOLUTION_MS: i64 = 60_000;

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

fn account_row(row: &Row) -> rusqlite::Result<Account> {
    let plan: String = row.get("plan")?;
    Ok(Account {
        id: AccountId(row.get("pk")?),
        name: row.get("name")?,
        plan: plan.parse().unwrap_or(Plan::Pro),
        link_expiry_secs: row.get("link_expiry_secs")?,
        created_at: time(row.get("created_at")?),
    })
}

pub(crate) fn create_account(
    conn: &Connection,
    name: &str,
    plan: Plan,
) -> Result<Account, StoreError> {
    let created = now_ms();
    conn.execute(
        "INSERT INTO accounts (name, plan, created_at) VALUES (?1, ?2, ?3)",
        params![name, plan.as_str(), created],
    )
    .map_err(|e| match is_unique_violation(&e) {
        true => StoreError::Conflict(format!(
            "an account named `{name}` exists already: pick another name"
        )),
        false => e.into(),
    })?;
    Ok(Account {
        id: AccountId(conn.last_insert_rowid()),
        name: name.to_string(),
        plan,
        link_expiry_secs: None,
        created_at: time(created),
    })
}

pub(crate) fn account_by_name(
    conn: &Connection,
    name: &str,
) -> Result<Option<Account>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT pk, name, plan, link_expiry_secs, created_at FROM accounts WHERE name = ?1",
            [name],
            account_row,
        )
        .optional()?)
}

pub(crate) fn account(conn: &Connection, id: AccountId) -> Result<Option<Account>, StoreError> {
    Ok(conn
        .query_row(
            "SELECT pk, name, plan, link_expiry_secs, created_at FROM accounts WHERE pk = ?1",
            [id.0],
            account_row,
        )
        .optional()?)
}

pub(crate) fn set_link_expiry(
    conn: &Connection,
    id: AccountId,
    secs: Option<u64>,
) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE accounts SET link_expiry_secs = ?2 WHERE pk = ?1",
        params![id.0, secs],
    )?;
    Ok(())
}

pub(crate) fn accounts(conn: &Connection) -> Result<Vec<Account>, StoreError> {
    let mut stmt = conn
        .prepare("SELECT pk, name, plan, link_expiry_secs, created_at FROM accounts ORDER BY pk")?;
    let rows = stmt.query_map([], account_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

const WEBSITE_COLUMNS: &str =
    "pk, public_id, account_pk, domain, timezone, retention_days, created_at";

fn website_row(row: &Row) -> rusqlite::Result<(AccountId, Website)> {
    let tz: String = row.get("timezone")?;
    Ok((
        AccountId(row.get("account_pk")?),
        Website {
            id: row.get("public_id")?,
            domain: row.get("domain")?,
            timezone: tz.parse().unwrap_or(Tz::UTC),
            retention_days: row.get("retention_days")?,
            created_at: time(row.get("created_at")?),
        },
    ))
}

pub(crate) fn create_website(
    conn: &Connection,
    account: AccountId,
    id: &str,
    site: ValidWebsite,
) -> Result<Website, StoreError> {
    let created = now_ms();
    conn.execute(
        "INSERT INTO websites (public_id, account_pk, domain, timezone, retention_days, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            id,
            account.0,
            site.domain,
            site.timezone.name(),
            site.retention_days,
            created
        ],
    )
    .map_err(|e| match is_unique_violation(&e) {
        true => StoreError::Conflict(format!(
            "the domain `{}` is registered already: use its existing website id",
            site.domain
        )),
        false => e.into(),
    })?;
    Ok(Website {
        id: id.to_string(),
        domain: site.domain,
        timezone: site.timezone,
        retention_days: site.retention_days,
        created_at: time(created),
    })
}

pub(crate) fn website(
    conn: &Connection,
    account: AccountId,
    id: &str,
) -> Result<Option<Website>, StoreError> {
    let sql =
        format!("SELECT {WEBSITE_COLUMNS} FROM websites WHERE public_id = ?1 AND account_pk = ?2");
    Ok(conn
        .query_row(&sql, params![id, account.0], website_row)
        .optional()?
        .map(|(_, w)| w))
}

pub(crate) fn website_for_tracker(
    conn: &Connection,
    id_or_domain: &str,
) -> Result<Option<(AccountId, Website)>, StoreError> {
    let sql = format!(
        "SELECT {WEBSITE_COLUMNS} FROM websites WHERE public_id = ?1 OR domain = lower(?1) LIMIT 1"
    );
    Ok(conn
        .query_row(&sql, [id_or_domain], website_row)
        .optional()?)
}

pub(crate) fn websites(conn: &Connection, account: AccountId) -> Result<Vec<Website>, StoreError> {
    let sql = format!("SELECT {WEBSITE_COLUMNS} FROM websites WHERE account_pk = ?1 ORDER BY pk");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([account.0], website_row)?;
    Ok(rows.map(|r| r.map(|(_, w)| w)).collect::<Result<_, _>>()?)
}

const KEY_COLUMNS: &str =
    "key_id, account_pk, name, prefix, scopes, created_at, last_used_at, revoked_at";

fn key_row(row: &Row) -> rusqlite::Result<ApiKeyInfo> {
    let scopes: String = row.get("scopes")?;
    Ok(ApiKeyInfo {
        id: row.get("key_id")?,
        account: AccountId(row.get("account_pk")?),
        name: row.get("name")?,
        prefix: row.get("prefix")?,
        scopes: Scopes::parse_list(&scopes).unwrap_or_default(),
        created_at: time(row.get("created_at")?),
        last_used_at: opt_time(row.get("last_used_at")?),
        revoked_at: opt_time(row.get("revoked_at")?),
    })
}

pub(crate) fn create_key(
    conn: &Connection,
    account: AccountId,
    key: NewApiKey,
) -> Result<ApiKeyInfo, StoreError> {
    let created = now_ms();
    conn.execute(
        "INSERT INTO api_keys (key_id, account_pk, name, prefix, secret_hash, scopes, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            key.id,
            account.0,
            key.name,
            key.prefix,
            key.secret_hash,
            key.scopes.to_list(),
            created
        ],
    )?;
    Ok(ApiKeyInfo {
        id: key.id,
        account,
        name: key.name,
        prefix: key.prefix,
        scopes: key.scopes,
        created_at: time(created),
        last_used_at: None,
        revoked_at: None,
    })
}

pub(crate) fn key_by_hash(conn: &Connection, hash: &str) -> Result<Option<ApiKeyInfo>, StoreError> {
    let sql =
        format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE secret_hash = ?1 AND revoked_at IS NULL");
    Ok(conn.query_row(&sql, [hash], key_row).optional()?)
}

/// Whether a key's `last_used_at` is stale enough to be worth a write.
pub(crate) fn needs_touch(key: &ApiKeyInfo) -> bool {
    key.last_used_at
        .is_none_or(|t| now_ms() - t.timestamp_millis() >= LAST_USED_RESOLUTION_MS)
}

pub(crate) fn touch_key(conn: &Connection, key_id: &str) -> Result<(), StoreError> {
    conn.execute(
        "UPDATE api_keys SET last_used_at = ?2 WHERE key_id = ?1",
        params![key_id, now_ms()],
    )?;
    Ok(())
}

pub(crate) fn keys(conn: &Connection, account: AccountId) -> Result<Vec<ApiKeyInfo>, StoreError> {
    let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE account_pk = ?1 ORDER BY pk");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([account.0], key_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn revoke_key(
    conn: &Connection,
    account: AccountId,
    key_id: &str,
) -> Result<Option<ApiKeyInfo>, StoreError> {
    conn.execute(
        "UPDATE api_keys SET revoked_at = ?3
         WHERE key_id = ?1 AND account_pk = ?2 AND revoked_at IS NULL",
        params![key_id, account.0, now_ms()],
    )?;
    let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE key_id = ?1 AND account_pk = ?2");
    Ok(conn
        .query_row(&sql, params![key_id, account.0], key_row)
        .optional()?)
}
