//! Erasure on SQLite: the rows phase, the record in `erasures`, and the `secure_delete` and
//! checkpoint every phase ends with. `erasure_scrub` has the later phases.
//!
//! Why `secure_delete` and a truncating checkpoint: a deleted row's bytes otherwise stay in
//! the free space of its page, on the free list, and in the WAL until it is overwritten, and
//! the person's email would still be found in the data directory.

use std::collections::BTreeMap;

use ferry_domain::erasure::{ErasedPerson, ErasurePhase, ErasureRecord, RowCounts};
use ferry_domain::export::ExportRange;
use ferry_domain::job::ExportSpec;
use ferry_domain::{AccountId, Millis};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{analytics::merged_buckets, rollup_rebuild};
use crate::StoreError;

fn bad(e: serde_json::Error) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// Runs `f` in an immediate transaction, then truncates the WAL. The writer always runs with
/// `secure_delete` on (`conn::open_writer`); it is set again here so that this holds whoever
/// opened the connection.
pub(super) fn securely<T>(
    conn: &mut Connection,
    f: impl FnOnce(&Transaction) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    conn.pragma_update(None, "secure_delete", true)?;
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let out = f(&tx)?;
    tx.commit()?;
    checkpoint(conn)?;
    Ok(out)
}

/// Copies the WAL into the database and truncates it to nothing, retrying while a reader
/// still holds an older snapshot.
fn checkpoint(conn: &Connection) -> Result<(), StoreError> {
    for _ in 0..50 {
        let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        if busy == 0 {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    tracing::warn!("the WAL could not be truncated after an erasure: readers kept it busy");
    Ok(())
}

pub(super) fn request_pk(
    tx: &Connection,
    account: AccountId,
    request_id: &str,
) -> Result<i64, StoreError> {
    tx.query_row(
        "SELECT pk FROM requests WHERE request_id = ?1 AND account_pk = ?2",
        params![request_id, account.0],
        |r| r.get(0),
    )
    .optional()?
    .ok_or(StoreError::NotFound)
}

pub(super) fn record(
    conn: &Connection,
    account: AccountId,
    request_id: &str,
) -> Result<Option<ErasureRecord>, StoreError> {
    let found = conn
        .query_row(
            "SELECT e.phase, e.identifiers, e.exports, e.counts, e.report, e.report_sha256
             FROM erasures e JOIN requests r ON r.pk = e.request_pk
             WHERE r.request_id = ?1 AND r.account_pk = ?2",
            params![request_id, account.0],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                ))
            },
        )
        .optional()?;
    let Some((phase, person, exports, counts, report, sha)) = found else {
        return Ok(None);
    };
    let counts: serde_json::Value = serde_json::from_str(&counts).map_err(bad)?;
    Ok(Some(ErasureRecord {
        phase: serde_json::from_value(serde_json::Value::String(phase)).ok(),
        counts: serde_json::from_value(counts["rows"].clone()).unwrap_or_default(),
        artifact_files: counts["artifact_files"].as_u64().unwrap_or(0),
        segment_files: counts["segment_files"].as_u64().unwrap_or(0),
        exports: serde_json::from_str(&exports).map_err(bad)?,
        person: person
            .map(|p| serde_json::from_str(&p))
            .transpose()
            .map_err(bad)?,
        report: report
            .map(|r| serde_json::from_str(&r))
            .transpose()
            .map_err(bad)?,
        report_sha256: sha,
    }))
}

pub(super) fn phase_name(phase: ErasurePhase) -> String {
    serde_json::to_value(phase)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The rows phase (see [`crate::Erasures::erase_rows`]).
pub(super) fn erase_rows(
    tx: &Transaction,
    account: AccountId,
    request_id: &str,
    email: &str,
    keep: &[String],
    now: Millis,
) -> Result<ErasureRecord, StoreError> {
    let request_pk = request_pk(tx, account, request_id)?;
    if let Some(done) = record(tx, account, request_id)? {
        return Ok(done);
    }
    let mut person = ErasedPerson {
        email: email.to_lowercase(),
        ..ErasedPerson::default()
    };
    let users: Vec<(i64, String)> = tx
        .prepare(
            "SELECT pk, user_id FROM users WHERE account_pk = ?1 AND email = ?2 COLLATE NOCASE
             ORDER BY pk",
        )?
        .query_map(params![account.0, email], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    person.user_ids = users.iter().map(|(_, id)| id.clone()).collect();
    let user_pks: Vec<i64> = users.iter().map(|(pk, _)| *pk).collect();
    let pks = serde_json::to_string(&user_pks).map_err(bad)?;
    let visitors: Vec<(i64, i64, String)> = tx
        .prepare(
            "SELECT pk, website_pk, visitor_id FROM visitors
             WHERE user_pk IN (SELECT value FROM json_each(?1)) ORDER BY pk",
        )?
        .query_map([&pks], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    person.visitor_ids = visitors.iter().map(|(_, _, v)| v.clone()).collect();
    person.visitor_ids.sort();
    person.visitor_ids.dedup();
    let visitor_pks: Vec<i64> = visitors.iter().map(|(pk, _, _)| *pk).collect();
    let vpks = serde_json::to_string(&visitor_pks).map_err(bad)?;

    let segments = |tx: &Transaction| -> Result<u64, StoreError> {
        Ok(tx.query_row(
            "SELECT count(*) FROM export_segments WHERE website_pk IN
               (SELECT pk FROM websites WHERE account_pk = ?1)",
            [account.0],
            |r| r.get(0),
        )?)
    };
    let segments_before = segments(tx)?;

    // The instants of the rows (and session starts) per website: their buckets are rebuilt.
    let mut spans: BTreeMap<i64, Vec<(Millis, Millis)>> = BTreeMap::new();
    for sql in [
        "SELECT website_pk, ts FROM pageviews WHERE visitor_pk IN (SELECT value FROM json_each(?1))",
        "SELECT website_pk, ts FROM events WHERE visitor_pk IN (SELECT value FROM json_each(?1))",
        "SELECT website_pk, started_at FROM sessions WHERE visitor_pk IN (SELECT value FROM json_each(?1))",
    ] {
        let mut stmt = tx.prepare(sql)?;
        let mut rows = stmt.query([&vpks])?;
        while let Some(row) = rows.next()? {
            let at: Millis = row.get(1)?;
            spans.entry(row.get(0)?).or_default().push((at, at + 1));
        }
    }
    let mut counts = RowCounts::default();
    for (table, slot) in [
        ("pageviews", &mut counts.pageviews),
        ("events", &mut counts.events),
        ("sessions", &mut counts.sessions),
    ] {
        *slot = tx.execute(
            &format!("DELETE FROM {table} WHERE visitor_pk IN (SELECT value FROM json_each(?1))"),
            [&vpks],
        )? as u64;
    }
    counts.identity_links = visitor_pks.len() as u64;
    counts.visitors = tx.execute(
        "DELETE FROM visitors WHERE pk IN (SELECT value FROM json_each(?1))",
        [&vpks],
    )? as u64;
    counts.profiles = tx.execute(
        "DELETE FROM users WHERE pk IN (SELECT value FROM json_each(?1))",
        [&pks],
    )? as u64;
    counts.websites = spans.len() as u64;
    for (website_pk, instants) in &spans {
        for (from, to) in merged_buckets(instants.clone()) {
            rollup_rebuild::rebuild(tx, *website_pk, from, to)?;
            counts.rollup_buckets += ((to - from) / super::rollups::BUCKET_MS) as u64;
        }
    }
    counts.segments = segments_before - segments(tx)?;

    // Per website, the sorted instants of the person's rows: a bulk export holds them only if
    // its days contain one.
    let websites: BTreeMap<String, Vec<Millis>> = spans
        .iter()
        .filter_map(|(pk, instants)| {
            let id: String = tx
                .query_row("SELECT public_id FROM websites WHERE pk = ?1", [pk], |r| {
                    r.get(0)
                })
                .ok()?;
            let mut at: Vec<Millis> = instants.iter().map(|(from, _)| *from).collect();
            at.sort_unstable();
            Some((id, at))
        })
        .collect();
    let exports = exports_holding(tx, account, &person, &websites, keep)?;
    suppress(tx, account, &person, now)?;
    let counts_json = serde_json::json!({ "rows": counts });
    tx.execute(
        "INSERT INTO erasures (request_pk, phase, identifiers, exports, counts, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        params![
            request_pk,
            phase_name(ErasurePhase::RowsDeleted),
            serde_json::to_string(&person).map_err(bad)?,
            serde_json::to_string(&exports).map_err(bad)?,
            counts_json.to_string(),
            now
        ],
    )?;
    record(tx, account, request_id)?.ok_or(StoreError::NotFound)
}

/// The account's exports whose files hold the person's rows: their own (asked by any of their
/// identifiers, or resolved to them), and every bulk export of a website they had rows on.
fn exports_holding(
    tx: &Connection,
    account: AccountId,
    person: &ErasedPerson,
    websites: &BTreeMap<String, Vec<Millis>>,
    keep: &[String],
) -> Result<Vec<String>, StoreError> {
    let mut stmt = tx.prepare(
        "SELECT export_id, subject, spec FROM export_jobs
         WHERE account_pk = ?1 AND erased_at IS NULL ORDER BY pk",
    )?;
    let mut rows = stmt.query([account.0])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let (id, subject, spec): (String, String, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
        if keep.contains(&id) {
            continue;
        }
        let Ok(spec) = serde_json::from_str::<ExportSpec>(&spec) else {
            continue;
        };
        let theirs = match &spec.subject {
            Some(s) => {
                person.is_named_by(&s.label())
                    || person.is_named_by(&subject)
                    || spec.person.as_ref().is_some_and(|p| person.is_named_by(p))
            }
            None => spec
                .website_id
                .as_ref()
                .and_then(|w| websites.get(w))
                .is_some_and(|at| holds_an_instant(spec.range, at)),
        };
        if theirs {
            out.push(id);
        }
    }
    Ok(out)
}

/// Whether an export of the days `range` can hold a row at one of `sorted` instants. The
/// range's days are taken a day wider on each side, so a website whose time zone is far from
/// UTC loses no export that holds the person's rows at a day's edge.
fn holds_an_instant(range: ExportRange, sorted: &[Millis]) -> bool {
    const DAY: Millis = 86_400_000;
    let midnight = |d: chrono::NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc()
            .timestamp_millis()
    };
    let from = range.start.map_or(Millis::MIN, |d| midnight(d) - DAY);
    let to = range.end.map_or(Millis::MAX, |d| midnight(d) + 2 * DAY);
    let first = sorted.partition_point(|at| *at < from);
    sorted.get(first).is_some_and(|at| *at < to)
}

/// Keys the person's identifiers into the suppression list, when the account suppresses.
fn suppress(
    tx: &Connection,
    account: AccountId,
    person: &ErasedPerson,
    now: Millis,
) -> Result<(), StoreError> {
    let on: bool = tx
        .query_row(
            "SELECT suppress_erased FROM request_settings WHERE account_pk = ?1",
            [account.0],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or(false);
    if !on {
        return Ok(());
    }
    let key = suppression_key(tx)?;
    let mut labels = vec![format!("email:{}", person.email)];
    labels.extend(person.user_ids.iter().map(|u| format!("user_id:{u}")));
    labels.extend(person.visitor_ids.iter().map(|v| format!("visitor_id:{v}")));
    let mut put = tx.prepare(
        "INSERT OR IGNORE INTO erasure_suppressions (account_pk, hash, created_at) VALUES (?1, ?2, ?3)",
    )?;
    for label in labels {
        let hash = ferry_domain::erasure::suppression_hash(&key, &label);
        put.execute(params![account.0, hash, now])?;
    }
    Ok(())
}

pub(super) fn suppression_key(conn: &Connection) -> Result<Vec<u8>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT value FROM secrets WHERE name = 'erasure_suppression'")?
        .query_row([], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bulk_export_holds_the_person_only_if_its_days_contain_one_of_their_rows() {
        let day = |s: &str| Some(s.parse().unwrap());
        let at = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .timestamp_millis()
        };
        let rows = [at("2026-03-10T12:00:00Z"), at("2026-06-01T08:00:00Z")];
        let range = |start, end| ExportRange { start, end };
        assert!(holds_an_instant(range(None, None), &rows), "all time");
        assert!(holds_an_instant(
            range(day("2026-03-01"), day("2026-03-31")),
            &rows
        ));
        assert!(
            !holds_an_instant(range(day("2026-04-01"), day("2026-05-15")), &rows),
            "between their rows: not theirs"
        );
        assert!(!holds_an_instant(range(day("2026-07-01"), None), &rows));
        assert!(
            holds_an_instant(range(day("2026-03-11"), day("2026-03-12")), &rows),
            "a day's edge counts (time zones)"
        );
    }
}
