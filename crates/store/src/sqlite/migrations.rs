//! Schema migrations, applied in order at start; `PRAGMA user_version` records how far.

use rusqlite::{Connection, OptionalExtension};

/// After this one, Ferry records the accounts of the entries hashed without them.
const AUDIT_ACCOUNT_HASH: &str = include_str!("migrations/0011_audit_account_hash.sql");
/// After this one, the rollups are filled from the rows already stored.
const ROLLUPS: &str = include_str!("migrations/0020_rollups.sql");
/// After this one, the page views per local day are filled from the rows already stored.
const PAGE_DAYS: &str = include_str!("migrations/0024_page_days.sql");

const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_exports.sql"),
    include_str!("migrations/0003_audit.sql"),
    include_str!("migrations/0004_bulk.sql"),
    include_str!("migrations/0005_segments.sql"),
    include_str!("migrations/0006_queue.sql"),
    include_str!("migrations/0007_audit_person.sql"),
    include_str!("migrations/0008_operator_exports.sql"),
    include_str!("migrations/0009_one_time_claims.sql"),
    include_str!("migrations/0010_signed_identify.sql"),
    AUDIT_ACCOUNT_HASH,
    include_str!("migrations/0012_tenant_domains_and_session_ids.sql"),
    include_str!("migrations/0013_destinations.sql"),
    include_str!("migrations/0014_schedules.sql"),
    include_str!("migrations/0015_account_encryption.sql"),
    include_str!("migrations/0016_alert_emails.sql"),
    include_str!("migrations/0017_requests.sql"),
    include_str!("migrations/0018_dashboard_users.sql"),
    include_str!("migrations/0019_request_fulfilment.sql"),
    ROLLUPS,
    include_str!("migrations/0021_erasure.sql"),
    include_str!("migrations/0022_privacy_page.sql"),
    include_str!("migrations/0023_privacy_statements.sql"),
    PAGE_DAYS,
    include_str!("migrations/0025_visitor_requests.sql"),
];

/// The schema version just before the rollups: a store at it is one written before they existed.
#[cfg(test)]
pub(crate) fn version_before_rollups() -> usize {
    MIGRATIONS
        .iter()
        .position(|m| *m == ROLLUPS)
        .expect("listed")
}

pub(crate) fn migrate(conn: &mut Connection) -> Result<(), crate::StoreError> {
    let applied: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    // A migration may rebuild a table (SQLite's only way to change a constraint): with
    // foreign keys on, dropping the old table would cascade into the tables that refer to it.
    // They are off while migrations run (the pragma is ignored inside a transaction), and
    // each migration must leave every reference intact before it commits.
    let enforced: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    conn.pragma_update(None, "foreign_keys", false)?;
    let result = apply(conn, applied, MIGRATIONS.len());
    conn.pragma_update(None, "foreign_keys", enforced)?;
    result?;
    if applied == 0 {
        tracing::debug!(version = MIGRATIONS.len(), "created the database");
    } else if applied < MIGRATIONS.len() {
        tracing::info!(
            from = applied,
            to = MIGRATIONS.len(),
            "upgraded the database"
        );
    }
    Ok(())
}

/// Brings a new database to version `upto` only: a store as an older Ferry wrote it.
#[cfg(test)]
pub(crate) fn migrate_until(conn: &mut Connection, upto: usize) -> Result<(), crate::StoreError> {
    conn.pragma_update(None, "foreign_keys", false)?;
    apply(conn, 0, upto)
}

fn apply(conn: &mut Connection, applied: usize, upto: usize) -> Result<(), crate::StoreError> {
    for (index, sql) in MIGRATIONS.iter().enumerate().take(upto).skip(applied) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        if *sql == AUDIT_ACCOUNT_HASH {
            super::audit_chain::record_old_accounts(&tx)?;
        }
        if *sql == ROLLUPS {
            super::rollups::rebuild_everything(&tx)?;
        }
        if *sql == PAGE_DAYS {
            super::page_days::rebuild_all(&tx)?;
        }
        let broken: Option<String> = tx
            .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
            .optional()?;
        if let Some(table) = broken {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
                Some(format!(
                    "migration {} left rows of `{table}` referring to nothing",
                    index + 1
                )),
            )
            .into());
        }
        tx.pragma_update(None, "user_version", index + 1)?;
        tx.commit()?;
        tracing::debug!(migration = index + 1, "applied database migration");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use ferry_domain::AccountId;
    use ferry_domain::audit::{AuditEvent, GENESIS, entry_hash};
    use rusqlite::{Connection, params};

    use super::super::audit::append;
    use super::super::audit_chain::verify;
    use crate::AuditBreak;

    fn old_event(actor: &str) -> AuditEvent {
        AuditEvent {
            actor: actor.into(),
            action: "data_export.requested".into(),
            subject: Some("email:Ann@example.com".into()),
            data_types: vec!["pageviews".into()],
            status: "ok".into(),
            export_id: Some("exp_1".into()),
            details: serde_json::json!({"format": "json"}),
            person: None,
        }
    }

    /// A database as Ferry left it after migration `upto`, with accounts acme (1) and globex
    /// (2) and one entry of each, hashed as Ferry hashed them then (without the account).
    fn old_trail(upto: usize) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        for sql in &super::MIGRATIONS[..upto] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", upto).unwrap();
        conn.execute_batch(
            "INSERT INTO accounts (pk, name, plan, created_at) VALUES (1, 'acme', 'pro', 0), (2, 'globex', 'pro', 0)",
        )
        .unwrap();
        let mut prev = GENESIS.to_string();
        for (seq, account, actor) in [(1, 1, "key_1"), (2, 2, "key_2")] {
            let hash = entry_hash(&prev, seq, 1_000, &old_event(actor));
            conn.execute(
                "INSERT INTO audit_log (seq, account_pk, at, actor, action, subject, data_types, status, export_id, details, prev_hash, hash)
                 VALUES (?1, ?2, 1000, ?3, 'data_export.requested', 'email:Ann@example.com', 'pageviews', 'ok', 'exp_1', '{\"format\":\"json\"}', ?4, ?5)",
                params![seq, account, actor, prev, hash],
            )
            .unwrap();
            prev = hash;
        }
        conn
    }

    fn checked(conn: &Connection) -> (u64, Option<AuditBreak>) {
        let chain = verify(conn, None).unwrap();
        (chain.count, chain.broken)
    }

    fn broken_at(conn: &Connection) -> Option<i64> {
        checked(conn).1.map(|b| b.seq)
    }

    /// Entries written before 0007 (no `person` column) and before 0011 (no account in the
    /// hash), then the upgrade: the chain still verifies, and entries appended after it, with
    /// a person and an account, chain onto it.
    #[test]
    fn a_trail_written_before_persons_and_accounts_were_hashed_verifies_after_the_upgrade() {
        let mut conn = old_trail(6);
        super::migrate(&mut conn).unwrap();
        assert_eq!(
            checked(&conn),
            (3, None),
            "two old entries and the upgrade's record"
        );
        let new = AuditEvent {
            person: Some("user_id:ann".into()),
            ..old_event("key_1")
        };
        append(&mut conn, AccountId(1), &new).unwrap();
        assert_eq!(checked(&conn), (4, None));
        conn.execute(
            "UPDATE audit_log SET person = 'user_id:bob' WHERE seq = 4",
            [],
        )
        .unwrap();
        assert_eq!(broken_at(&conn), Some(4), "the person is under the hash");
    }

    /// The old entries' hashes leave out the account; the upgrade records it for them, so a
    /// later move still shows, at the upgrade's entry.
    #[test]
    fn an_old_entry_moved_after_the_upgrade_shows() {
        let mut conn = old_trail(9);
        super::migrate(&mut conn).unwrap();
        let recorded: (i64, String) = conn
            .query_row(
                "SELECT account_pk, action FROM audit_log WHERE seq = 3",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(recorded, (0, "audit.accounts_recorded".to_string()));
        conn.execute("UPDATE audit_log SET account_pk = 1 WHERE seq = 2", [])
            .unwrap();
        let (_, broken) = checked(&conn);
        let broken = broken.unwrap();
        assert_eq!(broken.seq, 3);
        assert!(
            broken.reason.contains("moved to another account"),
            "{broken:?}"
        );
    }

    /// 0012 rebuilds `websites` to change its unique constraint: every column, row and
    /// reference must come through, and whatever a migration before it adds to the table must
    /// be copied too (this fails when one does and 0012's column lists were not extended).
    #[test]
    fn rebuilding_websites_keeps_its_columns_its_rows_and_what_refers_to_them() {
        let rebuild = super::MIGRATIONS
            .iter()
            .position(|sql| sql.contains("CREATE TABLE websites_new"))
            .unwrap();
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", true).unwrap();
        for sql in &super::MIGRATIONS[..rebuild] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", rebuild).unwrap();
        conn.execute_batch(
            "INSERT INTO accounts (pk, name, plan, created_at) VALUES (1, 'a', 'pro', 0), (2, 'b', 'pro', 0);
             INSERT INTO websites (pk, public_id, account_pk, domain, timezone, created_at)
                 VALUES (7, 'web_a', 1, 'a.example', 'UTC', 0);
             INSERT INTO visitors (website_pk, visitor_id) VALUES (7, 'v1');
             INSERT INTO export_segments (website_pk, data_type, format, layout, window_start, window_end, created_at)
                 VALUES (7, 'pageviews', 'csv', 'l', 0, 1, 0);",
        )
        .unwrap();
        let columns = |conn: &Connection| -> Vec<String> {
            let mut stmt = conn
                .prepare("SELECT name FROM pragma_table_info('websites')")
                .unwrap();
            stmt.query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        let before = columns(&conn);

        super::migrate(&mut conn).unwrap();
        assert_eq!(columns(&conn), before);
        let kept: (i64, i64) = conn
            .query_row(
                "SELECT (SELECT count(*) FROM visitors WHERE website_pk = 7),
                        (SELECT count(*) FROM websites WHERE pk = 7 AND public_id = 'web_a')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(kept, (1, 1), "rows and references survive the rebuild");
        let enforced: bool = conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert!(enforced, "foreign keys are on again");
        conn.execute(
            "INSERT INTO websites (public_id, account_pk, domain, timezone, created_at)
             VALUES ('web_b', 2, 'a.example', 'UTC', 0)",
            [],
        )
        .expect("another account may have the domain");
        let twice = conn.execute(
            "INSERT INTO websites (public_id, account_pk, domain, timezone, created_at)
             VALUES ('web_c', 2, 'a.example', 'UTC', 0)",
            [],
        );
        assert!(twice.is_err(), "one account may not have it twice");
    }
}

#[cfg(test)]
mod signed_identify_upgrade {
    use rusqlite::Connection;

    /// A store from before signed identify: its website gets a secret of its own (so its
    /// identify calls need a rotation before they verify), and its existing links, whose maker
    /// nobody recorded, are shown as the least trusted kind.
    #[test]
    fn websites_get_secrets_and_old_links_are_marked_unsigned() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &super::MIGRATIONS[..9] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 9).unwrap();
        conn.execute_batch(
            "INSERT INTO accounts (pk, name, plan, created_at) VALUES (1, 'a', 'pro', 0);
             INSERT INTO websites (pk, public_id, account_pk, domain, timezone, created_at)
                 VALUES (1, 'web_1', 1, 'a.example', 'UTC', 0), (2, 'web_2', 1, 'b.example', 'UTC', 0);
             INSERT INTO users (pk, account_pk, user_id, created_at, updated_at) VALUES (1, 1, 'u', 0, 0);
             INSERT INTO visitors (website_pk, visitor_id, user_pk) VALUES (1, 'linked', 1), (1, 'anon', NULL);",
        )
        .unwrap();

        super::migrate(&mut conn).unwrap();
        let secrets: Vec<String> = conn
            .prepare("SELECT secret FROM website_identify ORDER BY website_pk")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(secrets.len(), 2);
        assert!(
            secrets
                .iter()
                .all(|s| s.starts_with("fis_") && s.len() == 68)
        );
        assert_ne!(secrets[0], secrets[1]);
        let trust: Vec<Option<String>> = conn
            .prepare("SELECT link_trust FROM visitors ORDER BY visitor_id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(trust, [None, Some("unsigned_identify".to_string())]);
        let profile: String = conn
            .query_row("SELECT profile_trust FROM users", [], |r| r.get(0))
            .unwrap();
        assert_eq!(profile, "unsigned_identify");
    }
}
