//! API keys, and [`Keys`] on SQLite.

use async_trait::async_trait;
use ferry_domain::{AccountId, ApiKeyInfo, NewApiKey, Scopes};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
use super::convert::{now_ms, opt_time, time};
use crate::{Keys, StoreError};

/// A key's last use is recorded at most this often, so reads do not turn into writes.
const LAST_USED_RESOLUTION_MS: i64 = 60_000;

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

#[async_trait]
impl Keys for SqliteStore {
    async fn create_key(
        &self,
        account: AccountId,
        key: NewApiKey,
    ) -> Result<ApiKeyInfo, StoreError> {
        self.pool.write(move |c| create_key(c, account, key)).await
    }

    async fn key_by_hash(&self, secret_hash: &str) -> Result<Option<ApiKeyInfo>, StoreError> {
        let hash = secret_hash.to_string();
        let key = self.pool.lookup(move |c| key_by_hash(c, &hash)).await?;
        if let Some(k) = key.as_ref().filter(|k| needs_touch(k)) {
            let id = k.id.clone();
            self.pool.write(move |c| touch_key(c, &id)).await?;
        }
        Ok(key)
    }

    async fn keys(&self, account: AccountId) -> Result<Vec<ApiKeyInfo>, StoreError> {
        self.pool.read(move |c| keys(c, account)).await
    }

    async fn revoke_key(
        &self,
        account: AccountId,
        key_id: &str,
    ) -> Result<Option<ApiKeyInfo>, StoreError> {
        let id = key_id.to_string();
        self.pool.write(move |c| revoke_key(c, account, &id)).await
    }
}
