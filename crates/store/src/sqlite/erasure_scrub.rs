//! Erasure on SQLite after the rows: the exports' records, the check after the fact, the
//! report, and the scrub that leaves only digests of the person behind.

use ferry_domain::audit::subject_digest;
use ferry_domain::erasure::{ErasedPerson, ErasurePhase, ErasureRecord, Remaining};
use ferry_domain::export::SubjectRef;
use ferry_domain::job::ExportSpec;
use ferry_domain::request::Request;
use ferry_domain::{AccountId, Millis};
use rusqlite::{Connection, Transaction, params};

use super::erasure::{phase_name, record, request_pk};
use crate::{RequestChange, StoreError};

fn bad(e: serde_json::Error) -> StoreError {
    StoreError::Backend(Box::new(e))
}

/// How an erased person is named where a record must still say "someone": the digest
/// the audit trail keeps.
fn erased_label(text: &str) -> String {
    format!("erased:{}", subject_digest(text))
}

pub(super) fn erase_exports(
    tx: &Transaction,
    account: AccountId,
    request_id: &str,
    artifact_files: u64,
    segment_files: u64,
    now: Millis,
) -> Result<ErasureRecord, StoreError> {
    let done = record(tx, account, request_id)?.ok_or(StoreError::NotFound)?;
    if done.phase != Some(ErasurePhase::RowsDeleted) {
        return Ok(done);
    }
    let message = format!(
        "removed by the erasure of data-subject request {request_id} (GDPR Art. 17): the data \
         it held no longer exists"
    );
    for id in &done.exports {
        tx.execute(
            "UPDATE export_jobs SET erased_at = ?3, status = CASE WHEN status IN ('queued', 'running')
               THEN 'cancelled' ELSE 'expired' END,
               error_code = 'export_erased', error_message = ?4
             WHERE export_id = ?1 AND account_pk = ?2",
            params![id, account.0, now, message],
        )?;
        scrub_export(tx, id)?;
    }
    let counts = serde_json::json!({
        "rows": done.counts,
        "artifact_files": artifact_files,
        "segment_files": segment_files,
    });
    tx.execute(
        "UPDATE erasures SET phase = ?2, counts = ?3, updated_at = ?4 WHERE request_pk = ?1",
        params![
            request_pk(tx, account, request_id)?,
            phase_name(ErasurePhase::ArtifactsDeleted),
            counts.to_string(),
            now
        ],
    )?;
    record(tx, account, request_id)?.ok_or(StoreError::NotFound)
}

/// A person's export keeps its record (what was asked, when, by whom) with the person
/// replaced by a digest; the receipt forgets the address.
fn scrub_export(tx: &Connection, export_id: &str) -> Result<(), StoreError> {
    let (subject, spec): (String, String) = tx.query_row(
        "SELECT subject, spec FROM export_jobs WHERE export_id = ?1",
        [export_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let Ok(mut spec) = serde_json::from_str::<ExportSpec>(&spec) else {
        return Ok(());
    };
    if spec.subject.is_none() {
        return Ok(());
    }
    spec.subject = Some(SubjectRef::Email(erased_label(&subject)));
    spec.person = spec.person.as_deref().map(erased_label);
    tx.execute(
        "UPDATE export_jobs SET subject = ?2, spec = ?3 WHERE export_id = ?1",
        params![
            export_id,
            erased_label(&subject),
            serde_json::to_string(&spec).map_err(bad)?
        ],
    )?;
    tx.execute(
        "UPDATE receipts SET body = json_set(body, '$.subject_email', ?2) WHERE export_id = ?1",
        params![export_id, erased_label(&subject)],
    )?;
    // The addresses their exports were downloaded from are theirs too.
    tx.execute(
        "UPDATE downloads SET client = NULL
         WHERE export_pk = (SELECT pk FROM export_jobs WHERE export_id = ?1)",
        [export_id],
    )?;
    Ok(())
}

pub(super) fn remaining(
    conn: &Connection,
    account: AccountId,
    person: &ErasedPerson,
) -> Result<Remaining, StoreError> {
    let visitors = serde_json::to_string(&person.visitor_ids).map_err(bad)?;
    let users = serde_json::to_string(&person.user_ids).map_err(bad)?;
    // Visitors of the account by id (anonymous ones too: the id is theirs), and their rows.
    let of_visitors = "SELECT v.pk FROM visitors v JOIN websites w ON w.pk = v.website_pk
        WHERE w.account_pk = ?1 AND v.visitor_id IN (SELECT value FROM json_each(?2))
        UNION SELECT v.pk FROM visitors v JOIN users u ON u.pk = v.user_pk
        WHERE u.account_pk = ?1 AND (u.email = ?3 COLLATE NOCASE
          OR u.user_id IN (SELECT value FROM json_each(?4)))";
    let count = |sql: &str| -> Result<u64, StoreError> {
        Ok(conn.query_row(
            sql,
            params![account.0, visitors, person.email, users],
            |r| r.get(0),
        )?)
    };
    Ok(Remaining {
        pageviews: count(&format!(
            "SELECT count(*) FROM pageviews WHERE visitor_pk IN ({of_visitors})"
        ))?,
        events: count(&format!(
            "SELECT count(*) FROM events WHERE visitor_pk IN ({of_visitors})"
        ))?,
        sessions: count(&format!(
            "SELECT count(*) FROM sessions WHERE visitor_pk IN ({of_visitors})"
        ))?,
        visitors: count(&format!("SELECT count(*) FROM ({of_visitors})"))?,
        profiles: count(
            "SELECT count(*) FROM users WHERE account_pk = ?1 AND (email = ?3 COLLATE NOCASE
               OR user_id IN (SELECT value FROM json_each(?4))) AND ?2 IS NOT NULL",
        )?,
        segments: 0,
        files: 0,
    })
}

pub(super) fn record_report(
    tx: &Transaction,
    account: AccountId,
    request: &Request,
    change: &RequestChange,
    report: &serde_json::Value,
    sha: &str,
    now: Millis,
) -> Result<Request, StoreError> {
    let saved = super::requests::save_in(tx, account, request, change, now)?;
    tx.execute(
        "UPDATE erasures SET phase = ?2, report = ?3, report_sha256 = ?4, updated_at = ?5
         WHERE request_pk = ?1",
        params![
            request_pk(tx, account, &request.id)?,
            phase_name(ErasurePhase::Reported),
            report.to_string(),
            sha,
            now
        ],
    )?;
    Ok(saved)
}

pub(super) fn scrub(
    tx: &Transaction,
    account: AccountId,
    request_id: &str,
    erased_email: &str,
    now: Millis,
) -> Result<u64, StoreError> {
    let done = record(tx, account, request_id)?.ok_or(StoreError::NotFound)?;
    let Some(person) = done.person else {
        return Ok(0);
    };
    let labels = serde_json::to_string(&person.labels()).map_err(bad)?;
    // Entries of version 3 only: older ones hash the text itself, and changing it would break
    // the chain (the README says so).
    let entries: Vec<(i64, Option<String>, Option<String>)> = tx
        .prepare(
            "SELECT seq, subject, person FROM audit_log
             WHERE account_pk = ?1 AND hash_version = 3 AND pseudonymised = 0
               AND (subject IN (SELECT value FROM json_each(?2))
                 OR lower(subject) = lower(?3)
                 OR person IN (SELECT value FROM json_each(?2)))",
        )?
        .query_map(params![account.0, labels, person.email_label()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut put = tx.prepare(
        "UPDATE audit_log SET subject = ?2, person = ?3, pseudonymised = 1 WHERE seq = ?1",
    )?;
    for (seq, subject, who) in &entries {
        put.execute(params![
            seq,
            subject.as_deref().map(subject_digest),
            who.as_deref().map(subject_digest)
        ])?;
    }
    // This request, and the person's requests that have ended, keep a keyed hash of the email.
    tx.execute(
        "UPDATE requests SET subject_email = ?3, user_id = NULL, visitor_id = NULL, notes = NULL,
           updated_at = ?4
         WHERE account_pk = ?1 AND subject_email = ?2 COLLATE NOCASE
           AND (request_id = ?5 OR status IN ('closed', 'rejected', 'cancelled'))",
        params![account.0, person.email, erased_email, now, request_id],
    )?;
    // Ended requests by one of the person's visitor ids alone keep the id's digest.
    let mut by_visitor = tx.prepare(
        "UPDATE requests SET visitor_id = ?3, updated_at = ?4
         WHERE account_pk = ?1 AND subject_email = '' AND visitor_id = ?2
           AND status IN ('closed', 'rejected', 'cancelled')",
    )?;
    for visitor in &person.visitor_ids {
        by_visitor.execute(params![account.0, visitor, erased_label(visitor), now])?;
    }
    tx.execute(
        "UPDATE erasures SET phase = ?2, identifiers = NULL, updated_at = ?3 WHERE request_pk = ?1",
        params![
            request_pk(tx, account, request_id)?,
            phase_name(ErasurePhase::Scrubbed),
            now
        ],
    )?;
    Ok(entries.len() as u64)
}
