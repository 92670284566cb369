//! Schema migrations, applied in order at start; `PRAGMA user_version` records how far.

use rusqlite::{Connection, OptionalExtension};

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
    include_str!("migrations/0012_tenant_domains_and_session_ids.sql"),
];

pub(crate) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let applied: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    // A migration may rebuild a table (SQLite's only way to change a constraint): with
    // foreign keys on, dropping the old table would cascade into the tables that refer to it.
    // They are off while migrations run (the pragma is ignored inside a transaction), and
    // each migration must leave every reference intact before it commits.
    let enforced: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    conn.pragma_update(None, "foreign_keys", false)?;
    let result = apply(conn, applied);
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

fn apply(conn: &mut Connection, applied: usize) -> rusqlite::Result<()> {
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
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
            ));
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

    /// An entry as Ferry wrote it before 0007 (no `person` column), then the upgrade: the
    /// chain still verifies, and entries appended after it, with a person, chain onto it.
    #[test]
    fn a_trail_written_before_persons_were_recorded_verifies_after_the_upgrade() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &super::MIGRATIONS[..6] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 6).unwrap();
        let old = AuditEvent {
            actor: "key_1".into(),
            action: "data_export.requested".into(),
            subject: Some("email:Ann@example.com".into()),
            data_types: vec!["pageviews".into()],
            status: "ok".into(),
            export_id: Some("exp_1".into()),
            details: serde_json::json!({"format": "json"}),
            person: None,
        };
        let hash = entry_hash(GENESIS, 1, 1_000, &old);
        conn.execute(
            "INSERT INTO audit_log (seq, account_pk, at, actor, action, subject, data_types, status, export_id, details, prev_hash, hash)
             VALUES (1, 1, 1000, 'key_1', 'data_export.requested', 'email:Ann@example.com', 'pageviews', 'ok', 'exp_1', '{\"format\":\"json\"}', ?1, ?2)",
            params![GENESIS, hash],
        )
        .unwrap();

        super::migrate(&mut conn).unwrap();
        assert_eq!(super::super::audit::verify(&conn).unwrap(), (1, None));
        let new = AuditEvent {
            person: Some("user_id:ann".into()),
            ..old
        };
        super::super::audit::append(&mut conn, AccountId(1), &new).unwrap();
        assert_eq!(super::super::audit::verify(&conn).unwrap(), (2, None));
        conn.execute(
            "UPDATE audit_log SET person = 'user_id:bob' WHERE seq = 2",
            [],
        )
        .unwrap();
        let (_, broken) = super::super::audit::verify(&conn).unwrap();
        assert_eq!(
            broken.map(|b| b.seq),
            Some(2),
            "the person is under the hash"
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
