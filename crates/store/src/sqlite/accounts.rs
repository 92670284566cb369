//! Accounts and their websites, and [`Accounts`] on SQLite.

use async_trait::async_trait;
use chrono_tz::Tz;
use ferry_domain::audit::AuditEvent;
use ferry_domain::privacy_statement::{PrivacyStatement, StoredStatement};
use ferry_domain::{Account, AccountId, IdentifyPolicy, Plan, ValidWebsite, Website};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::convert::{now_ms, time};
use super::{SqliteStore, identify_policy, privacy_statements};
use crate::{Accounts, StoreError};

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
    conn: &mut Connection,
    account: AccountId,
    id: &str,
    site: ValidWebsite,
    identify_secret: &str,
) -> Result<Website, StoreError> {
    let created = now_ms();
    let tx = conn.transaction()?;
    tx.execute(
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
            "this account has a website for `{}` already: use its existing website id",
            site.domain
        )),
        false => e.into(),
    })?;
    identify_policy::create(&tx, tx.last_insert_rowid(), identify_secret, created)?;
    tx.commit()?;
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
    id: &str,
) -> Result<Option<(AccountId, Website)>, StoreError> {
    let sql = format!("SELECT {WEBSITE_COLUMNS} FROM websites WHERE public_id = ?1");
    Ok(conn.query_row(&sql, [id], website_row).optional()?)
}

pub(crate) fn websites_with_domain(
    conn: &Connection,
    domain: &str,
    limit: u32,
) -> Result<Vec<(AccountId, Website)>, StoreError> {
    let sql = format!(
        "SELECT {WEBSITE_COLUMNS} FROM websites WHERE domain = lower(?1) ORDER BY pk LIMIT ?2"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params![domain, limit], website_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(crate) fn websites(conn: &Connection, account: AccountId) -> Result<Vec<Website>, StoreError> {
    let sql = format!("SELECT {WEBSITE_COLUMNS} FROM websites WHERE account_pk = ?1 ORDER BY pk");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([account.0], website_row)?;
    Ok(rows.map(|r| r.map(|(_, w)| w)).collect::<Result<_, _>>()?)
}

#[async_trait]
impl Accounts for SqliteStore {
    async fn create_account(&self, name: &str, plan: Plan) -> Result<Account, StoreError> {
        let name = name.to_string();
        self.pool
            .write(move |c| create_account(c, &name, plan))
            .await
    }

    async fn account_by_name(&self, name: &str) -> Result<Option<Account>, StoreError> {
        let name = name.to_string();
        self.pool.read(move |c| account_by_name(c, &name)).await
    }

    async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        self.pool.read(accounts).await
    }

    async fn account(&self, id: AccountId) -> Result<Option<Account>, StoreError> {
        self.pool.read(move |c| account(c, id)).await
    }

    async fn set_link_expiry(&self, id: AccountId, secs: Option<u64>) -> Result<(), StoreError> {
        self.pool.write(move |c| set_link_expiry(c, id, secs)).await
    }

    async fn create_website(
        &self,
        account: AccountId,
        id: &str,
        website: ValidWebsite,
        identify_secret: &str,
    ) -> Result<Website, StoreError> {
        let (id, secret) = (id.to_string(), identify_secret.to_string());
        self.pool
            .write(move |c| create_website(c, account, &id, website, &secret))
            .await
    }

    async fn website(&self, account: AccountId, id: &str) -> Result<Option<Website>, StoreError> {
        let id = id.to_string();
        self.pool.read(move |c| website(c, account, &id)).await
    }

    async fn website_for_tracker(
        &self,
        id: &str,
    ) -> Result<Option<(AccountId, Website)>, StoreError> {
        let key = id.to_string();
        self.pool
            .lookup(move |c| website_for_tracker(c, &key))
            .await
    }

    async fn websites_with_domain(
        &self,
        domain: &str,
        limit: u32,
    ) -> Result<Vec<(AccountId, Website)>, StoreError> {
        let domain = domain.to_string();
        self.pool
            .read(move |c| websites_with_domain(c, &domain, limit))
            .await
    }

    async fn websites(&self, account: AccountId) -> Result<Vec<Website>, StoreError> {
        self.pool.read(move |c| websites(c, account)).await
    }

    async fn identify_policy(
        &self,
        website_id: &str,
    ) -> Result<Option<IdentifyPolicy>, StoreError> {
        let id = website_id.to_string();
        // The tracker's path: never behind export reads.
        self.pool
            .lookup(move |c| identify_policy::policy(c, &id))
            .await
    }

    async fn rotate_identify_secret(
        &self,
        website_id: &str,
        secret: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let (id, secret) = (website_id.to_string(), secret.to_string());
        self.pool
            .write(move |c| identify_policy::rotate(c, &id, &secret, now))
            .await
    }

    async fn set_unsigned_identify(
        &self,
        website_id: &str,
        allow: bool,
    ) -> Result<bool, StoreError> {
        let id = website_id.to_string();
        self.pool
            .write(move |c| identify_policy::set_unsigned(c, &id, allow))
            .await
    }

    async fn privacy_statement(
        &self,
        account: AccountId,
        website: Option<&str>,
    ) -> Result<Option<StoredStatement>, StoreError> {
        let website = website.map(str::to_string);
        self.pool
            .read(move |c| privacy_statements::get(c, account, website.as_deref()))
            .await
    }

    async fn set_privacy_statement(
        &self,
        account: AccountId,
        website: Option<&str>,
        statement: PrivacyStatement,
        audit: AuditEvent,
        now: i64,
    ) -> Result<(), StoreError> {
        let website = website.map(str::to_string);
        self.pool
            .write(move |c| {
                privacy_statements::set(c, account, website.as_deref(), &statement, &audit, now)
            })
            .await
    }
}
