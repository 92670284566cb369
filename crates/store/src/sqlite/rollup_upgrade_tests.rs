//! A store written before the rollups (and the page views per local day) existed: its first
//! start fills them from the rows, and they answer as the rows do (`rollup_tests`).

use ferry_domain::{Plan, ValidWebsite};
use rusqlite::Connection;

use super::rollup_tests::{
    BASE, Rng, ZONES, assert_same_answers, assert_same_as_rebuilt, random_lines,
};
use super::test_support::DAY;
use super::{SqliteStore, migrations};
use crate::prelude::*;

#[tokio::test]
async fn a_store_written_before_rollups_is_filled_by_the_migration() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let websites = {
        let (_, store, account, websites) = {
            let store = SqliteStore::open(&path).await.unwrap();
            let account = store.create_account("t", Plan::Pro).await.unwrap();
            let mut websites = Vec::new();
            for (id, timezone) in ZONES {
                let site = ValidWebsite {
                    domain: format!("{id}.example"),
                    timezone,
                    retention_days: None,
                };
                let w = store
                    .create_website(account.id, id, site, "s")
                    .await
                    .unwrap();
                websites.push(w);
            }
            ((), store, account.id, websites)
        };
        let mut rng = Rng(99);
        for (id, _) in ZONES {
            for batch in random_lines(&mut rng, id) {
                store
                    .ingest(Some(account), batch, BASE + 10 * DAY)
                    .await
                    .unwrap();
            }
        }
        websites
    };
    // The same rows in a store at the schema before rollups, as an older Ferry left it. Rows
    // are copied column by column, so migrations added after the rollups' do not matter here.
    let path = older_copy(&path, migrations::version_before_rollups(), dir.path());
    let store = SqliteStore::open(&path).await.unwrap();
    let all = websites.clone();
    store
        .pool
        .read(move |c| {
            assert_same_answers(c, &all, "after the upgrade");
            Ok(())
        })
        .await
        .unwrap();
    assert_same_as_rebuilt(&store, "after the upgrade").await;
}

/// A copy of the store at `source` in a new database migrated only to `version`: every table
/// of that schema gets the rows of the source's table of the same name, in the columns both have.
fn older_copy(
    source: &std::path::Path,
    version: usize,
    dir: &std::path::Path,
) -> std::path::PathBuf {
    let path = dir.join("older.db");
    let mut conn = Connection::open(&path).unwrap();
    migrations::migrate_until(&mut conn, version).unwrap();
    conn.execute("ATTACH DATABASE ?1 AS source", [source.to_str().unwrap()])
        .unwrap();
    let tables: Vec<String> = conn
        .prepare(
            "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let columns = |conn: &Connection, schema: &str, table: &str| -> Vec<String> {
        conn.prepare(&format!(
            "SELECT name FROM {schema}.pragma_table_info('{table}')"
        ))
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    };
    let tx = conn.transaction().unwrap();
    for table in &tables {
        let source_columns = columns(&tx, "source", table);
        let shared: Vec<String> = columns(&tx, "main", table)
            .into_iter()
            .filter(|c| source_columns.contains(c))
            .map(|c| format!("\"{c}\""))
            .collect();
        let list = shared.join(", ");
        tx.execute_batch(&format!(
            "INSERT OR REPLACE INTO main.\"{table}\" ({list}) SELECT {list} FROM source.\"{table}\""
        ))
        .unwrap();
    }
    tx.commit().unwrap();
    path
}
