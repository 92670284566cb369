//! Schema migrations, applied in order at start; `PRAGMA user_version` records how far.

use rusqlite::Connection;

/// After this one, Ferry records the accounts of the entries hashed without them.
const AUDIT_ACCOUNT_HASH: &str = include_str!("migrations/0011_audit_account_hash.sql");

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
    AUDIT_ACCOUNT_HASH,
];

pub(crate) fn migrate(conn: &mut Connection) -> Result<(), crate::StoreError> {
    let applied: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        if *sql == AUDIT_ACCOUNT_HASH {
            super::audit_chain::record_old_accounts(&tx)?;
        }
        tx.pragma_update(None, "user_version", index + 1)?;
        tx.commit()?;
        tracing::debug!(migration = index + 1, "applied database migration");
    }
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

    /// A new entry cannot be passed off as an old one to leave its account out of its hash.
    #[test]
    fn an_entry_rewritten_with_the_old_hash_after_new_ones_shows() {
        let mut conn = old_trail(9);
        super::migrate(&mut conn).unwrap();
        let first = append(&mut conn, AccountId(1), &old_event("key_1")).unwrap();
        append(&mut conn, AccountId(2), &old_event("key_2")).unwrap();
        assert_eq!(broken_at(&conn), None);
        let downgraded = entry_hash(
            &first.prev_hash,
            first.seq,
            first.at.timestamp_millis(),
            &first.event,
        );
        conn.execute(
            "UPDATE audit_log SET hash_version = 1, hash = ?2, account_pk = 2 WHERE seq = ?1",
            params![first.seq, downgraded],
        )
        .unwrap();
        let (_, broken) = checked(&conn);
        let broken = broken.unwrap();
        assert_eq!(broken.seq, first.seq);
        assert!(
            broken
                .reason
                .contains("hash version 1 after entries of version 2"),
            "{broken:?}"
        );
    }

    #[test]
    fn a_fresh_database_records_nothing_at_the_upgrade() {
        let mut conn = Connection::open_in_memory().unwrap();
        super::migrate(&mut conn).unwrap();
        assert_eq!(checked(&conn), (0, None));
    }
}
