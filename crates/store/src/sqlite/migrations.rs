//! Schema migrations, applied in order at start; `PRAGMA user_version` records how far.

use rusqlite::Connection;

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
    include_str!("migrations/0011_audit_account_hash.sql"),
];

pub(crate) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let applied: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
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
        let verify = |conn: &Connection| {
            let chain = super::super::audit::verify(conn, None).unwrap();
            (chain.count, chain.broken)
        };
        assert_eq!(verify(&conn), (1, None));
        let new = AuditEvent {
            person: Some("user_id:ann".into()),
            ..old
        };
        super::super::audit::append(&mut conn, AccountId(1), &new).unwrap();
        assert_eq!(verify(&conn), (2, None));
        conn.execute(
            "UPDATE audit_log SET person = 'user_id:bob' WHERE seq = 2",
            [],
        )
        .unwrap();
        let (_, broken) = verify(&conn);
        assert_eq!(
            broken.map(|b| b.seq),
            Some(2),
            "the person is under the hash"
        );
    }
}
