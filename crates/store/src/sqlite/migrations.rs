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
