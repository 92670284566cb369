//! The download log of exports, and what it decides: whether a one-time link was used.

use ferry_domain::job::{
    ArtifactFile, DownloadRecord, ONE_TIME_RESUME_MS, ONE_TIME_SLACK_BYTES, OneTimeRequest,
    OneTimeUse,
};
use rusqlite::{Connection, OptionalExtension, params};

use super::convert::{now_ms, time};
use crate::StoreError;

/// Records a download. Returns whether every file of the export has now been fetched whole
/// (then a one-time export is used up).
pub(crate) fn record_download(
    conn: &mut Connection,
    id: &str,
    record: &DownloadRecord,
    one_time: bool,
) -> Result<bool, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute(
        "INSERT INTO downloads (export_pk, at, client, bytes, complete, file)
         SELECT pk, ?2, ?3, ?4, ?5, ?6 FROM export_jobs WHERE export_id = ?1",
        params![
            id,
            record.at.timestamp_millis(),
            record.client,
            record.bytes,
            record.complete,
            record.file
        ],
    )?;
    let mut all_fetched = false;
    if record.complete {
        let (files, fetched): (String, u32) = tx.query_row(
            "SELECT j.files, (SELECT count(DISTINCT coalesce(d.file, '')) FROM downloads d
                              WHERE d.export_pk = j.pk AND d.complete)
             FROM export_jobs j WHERE j.export_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let count =
            serde_json::from_str::<Vec<ArtifactFile>>(&files).map_or(1, |f| f.len().max(1)) as u32;
        all_fetched = fetched >= count;
        if all_fetched && one_time {
            tx.execute(
                "UPDATE export_jobs SET consumed_at = ?2 WHERE export_id = ?1 AND consumed_at IS NULL",
                params![id, now_ms()],
            )?;
        }
    }
    tx.commit()?;
    Ok(all_fetched)
}

/// Whether `file` of an export was downloaded whole already (a one-time link is then used).
pub(crate) fn fetched_whole(conn: &Connection, id: &str, file: &str) -> Result<bool, StoreError> {
    Ok(conn
        .query_row(
            "SELECT 1 FROM downloads d JOIN export_jobs j ON j.pk = d.export_pk
             WHERE j.export_id = ?1 AND d.complete AND coalesce(d.file, ?2) = ?2 LIMIT 1",
            params![id, file],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

pub(crate) fn downloads(conn: &Connection, id: &str) -> Result<Vec<DownloadRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.at, d.client, d.bytes, d.complete, d.file FROM downloads d
         JOIN export_jobs j ON j.pk = d.export_pk WHERE j.export_id = ?1 ORDER BY d.pk",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(DownloadRecord {
            at: time(r.get(0)?),
            client: r.get(1)?,
            bytes: r.get(2)?,
            complete: r.get(3)?,
            file: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Blanks the client address of downloads made before `before`: the log keeps when and how
/// much, the address only as long as the operator's retention allows.
pub(crate) fn forget_clients(conn: &Connection, before: i64) -> Result<u64, StoreError> {
    Ok(conn.execute(
        "UPDATE downloads SET client = NULL WHERE at < ?1 AND client IS NOT NULL",
        [before],
    )? as u64)
}

/// Decides a one-time link request in one transaction, so that of many requests at once
/// exactly one claims the link: the first request claims it; after that only resumes
/// (`Range`) are served, within the budget of the file plus [`ONE_TIME_SLACK_BYTES`] and
/// within a day of the claim; a file downloaded whole is used up.
pub(crate) fn claim_one_time(
    conn: &mut Connection,
    id: &str,
    file: &str,
    request: OneTimeRequest,
    now: i64,
) -> Result<OneTimeUse, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let export: Option<(i64, Option<i64>)> = tx
        .query_row(
            "SELECT pk, consumed_at FROM export_jobs WHERE export_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((pk, None)) = export else {
        return Ok(OneTimeUse::Used);
    };
    if fetched_whole(&tx, id, file)? {
        return Ok(OneTimeUse::Used);
    }
    let claim: Option<(i64, u64)> = tx
        .query_row(
            "SELECT claimed_at, granted FROM one_time_claims WHERE export_pk = ?1 AND file = ?2",
            params![pk, file],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let granted = match claim {
        None => {
            tx.execute(
                "INSERT INTO one_time_claims (export_pk, file, claimed_at, granted) VALUES (?1, ?2, ?3, ?4)",
                params![pk, file, now, request.bytes],
            )?;
            OneTimeUse::Granted
        }
        Some(_) if !request.resume => OneTimeUse::Used,
        Some((claimed_at, _)) if now - claimed_at > ONE_TIME_RESUME_MS => OneTimeUse::ResumeExpired,
        Some((_, granted))
            if granted.saturating_add(request.bytes)
                > request.file_bytes.saturating_add(ONE_TIME_SLACK_BYTES) =>
        {
            OneTimeUse::Used
        }
        Some(_) => {
            tx.execute(
                "UPDATE one_time_claims SET granted = granted + ?3 WHERE export_pk = ?1 AND file = ?2",
                params![pk, file, request.bytes],
            )?;
            OneTimeUse::Granted
        }
    };
    tx.commit()?;
    Ok(granted)
}
