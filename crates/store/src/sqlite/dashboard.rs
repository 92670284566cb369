//! Dashboard users and sessions, and [`DashboardUsers`] on SQLite.

use async_trait::async_trait;
use ferry_domain::audit::AuditEvent;
use ferry_domain::{AccountId, Millis};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
use super::convert::{now_ms, time};
use crate::StoreError;
use crate::dashboard::{DashboardRole, DashboardUser, DashboardUsers, NewDashboardUser};

const USER_COLUMNS: &str = "u.user_id, u.account_pk, u.email, u.role, u.created_at";

fn user_row(row: &Row) -> rusqlite::Result<DashboardUser> {
    let role: String = row.get("role")?;
    Ok(DashboardUser {
        id: row.get("user_id")?,
        account: AccountId(row.get("account_pk")?),
        email: row.get("email")?,
        // The table's CHECK allows these two only.
        role: DashboardRole::parse(&role).unwrap_or(DashboardRole::Member),
        created_at: time(row.get("created_at")?),
    })
}

fn create_user(
    conn: &Connection,
    account: AccountId,
    user: NewDashboardUser,
) -> Result<DashboardUser, StoreError> {
    let created = now_ms();
    conn.execute(
        "INSERT INTO dashboard_users (user_id, account_pk, email, password_hash, role, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            user.id,
            account.0,
            user.email,
            user.password_hash,
            user.role.as_str(),
            created
        ],
    )
    .map_err(|e| match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            StoreError::Conflict(
                "a dashboard user with that email exists already: each email signs in to one account"
                    .into(),
            )
        }
        _ => e.into(),
    })?;
    Ok(DashboardUser {
        id: user.id,
        account,
        email: user.email,
        role: user.role,
        created_at: time(created),
    })
}

fn login(conn: &Connection, email: &str) -> Result<Option<(DashboardUser, String)>, StoreError> {
    let sql =
        format!("SELECT {USER_COLUMNS}, u.password_hash FROM dashboard_users u WHERE u.email = ?1");
    Ok(conn
        .query_row(&sql, [email], |r| {
            Ok((user_row(r)?, r.get("password_hash")?))
        })
        .optional()?)
}

fn users(conn: &Connection, account: AccountId) -> Result<Vec<DashboardUser>, StoreError> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM dashboard_users u WHERE u.account_pk = ?1 ORDER BY u.pk"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map([account.0], user_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn create_session(
    conn: &Connection,
    token_hash: &str,
    user_id: &str,
    now: Millis,
    expires_at: Millis,
) -> Result<(), StoreError> {
    let inserted = conn.execute(
        "INSERT INTO dashboard_sessions (token_hash, user_pk, created_at, expires_at)
         SELECT ?1, pk, ?3, ?4 FROM dashboard_users WHERE user_id = ?2",
        params![token_hash, user_id, now, expires_at],
    )?;
    if inserted == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

fn session(
    conn: &Connection,
    token_hash: &str,
    now: Millis,
) -> Result<Option<DashboardUser>, StoreError> {
    let sql = format!(
        "SELECT {USER_COLUMNS} FROM dashboard_sessions s JOIN dashboard_users u ON u.pk = s.user_pk
         WHERE s.token_hash = ?1 AND s.expires_at > ?2"
    );
    Ok(conn
        .query_row(&sql, params![token_hash, now], user_row)
        .optional()?)
}

fn delete_session(conn: &Connection, token_hash: &str, now: Millis) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM dashboard_sessions WHERE token_hash = ?1 OR expires_at <= ?2",
        params![token_hash, now],
    )?;
    Ok(())
}

fn delete_user(
    conn: &mut Connection,
    account: AccountId,
    user_id: &str,
    audit: &AuditEvent,
) -> Result<bool, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let pk: Option<i64> = tx
        .query_row(
            "SELECT pk FROM dashboard_users WHERE user_id = ?1 AND account_pk = ?2",
            params![user_id, account.0],
            |r| r.get(0),
        )
        .optional()?;
    let Some(pk) = pk else {
        return Ok(false);
    };
    tx.execute("DELETE FROM dashboard_sessions WHERE user_pk = ?1", [pk])?;
    tx.execute("DELETE FROM dashboard_users WHERE pk = ?1", [pk])?;
    super::audit::append_in(&tx, account, audit)?;
    tx.commit()?;
    Ok(true)
}

#[async_trait]
impl DashboardUsers for SqliteStore {
    async fn create_dashboard_user(
        &self,
        account: AccountId,
        user: NewDashboardUser,
    ) -> Result<DashboardUser, StoreError> {
        self.pool
            .write(move |c| create_user(c, account, user))
            .await
    }

    async fn dashboard_login(
        &self,
        email: &str,
    ) -> Result<Option<(DashboardUser, String)>, StoreError> {
        let email = email.to_string();
        self.pool.read(move |c| login(c, &email)).await
    }

    async fn dashboard_users(&self, account: AccountId) -> Result<Vec<DashboardUser>, StoreError> {
        self.pool.read(move |c| users(c, account)).await
    }

    async fn create_dashboard_session(
        &self,
        token_hash: &str,
        user_id: &str,
        now: Millis,
        expires_at: Millis,
    ) -> Result<(), StoreError> {
        let (hash, user) = (token_hash.to_string(), user_id.to_string());
        self.pool
            .write(move |c| create_session(c, &hash, &user, now, expires_at))
            .await
    }

    async fn dashboard_session(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> Result<Option<DashboardUser>, StoreError> {
        let hash = token_hash.to_string();
        // The lookup connection: a signed-in page answers even while bulk exports hold the
        // readers, as API keys do.
        self.pool.lookup(move |c| session(c, &hash, now)).await
    }

    async fn delete_dashboard_session(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> Result<(), StoreError> {
        let hash = token_hash.to_string();
        self.pool
            .write(move |c| delete_session(c, &hash, now))
            .await
    }

    async fn delete_dashboard_user(
        &self,
        account: AccountId,
        user_id: &str,
        audit: AuditEvent,
    ) -> Result<bool, StoreError> {
        let id = user_id.to_string();
        self.pool
            .write(move |c| delete_user(c, account, &id, &audit))
            .await
    }
}
