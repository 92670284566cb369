//! Checking the audit chain: every entry follows the one before, carries the hash its version
//! gives, and nothing was removed from its end; and, once, at the upgrade to hash version 2,
//! recording the accounts of the entries whose hashes leave them out.

use ferry_domain::AccountId;
use ferry_domain::audit::{ACCOUNTS_RECORDED, AccountsDigest, AuditEntry, AuditEvent, GENESIS};
use rusqlite::{Connection, OptionalExtension};

use super::audit::{COLUMNS, FROM, append_in, entry_row};
use crate::{AuditBreak, AuditChain, StoreError};

/// At the upgrade to hash version 2 (inside its transaction): when the trail holds entries of
/// version 1, appends one entry, filed under no account, that records which account each of
/// them is filed under now. From then on moving one of them shows; a move made before the
/// upgrade cannot (the README says so).
pub(crate) fn record_old_accounts(tx: &Connection) -> Result<(), StoreError> {
    let mut stmt = tx.prepare(&format!(
        "SELECT seq, coalesce(accounts.name, '') FROM {FROM} WHERE hash_version = 1 ORDER BY seq"
    ))?;
    let mut rows = stmt.query([])?;
    let (mut digest, mut last) = (AccountsDigest::default(), None);
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        digest.add(seq, &row.get::<_, String>(1)?);
        last = Some(seq);
    }
    let Some(last) = last else {
        return Ok(());
    };
    let event = AuditEvent {
        actor: "ferry".into(),
        action: ACCOUNTS_RECORDED.into(),
        subject: None,
        data_types: Vec::new(),
        status: "ok".into(),
        export_id: None,
        details: serde_json::json!({"entries_through": last, "accounts_sha256": digest.hex()}),
        person: None,
    };
    append_in(tx, AccountId(0), &event)?;
    Ok(())
}

/// Walks the whole chain in one snapshot (the caller's read transaction); also reports the
/// head, and the hash of entry `seq` when every entry up to it checks out.
pub(crate) fn verify(conn: &Connection, seq: Option<i64>) -> Result<AuditChain, StoreError> {
    // One transaction: an entry appended while the walk runs must not read as removed.
    let snapshot = conn.unchecked_transaction()?;
    let chain = walk(&snapshot, seq)?;
    snapshot.finish()?;
    Ok(chain)
}

fn walk(conn: &Connection, seq: Option<i64>) -> Result<AuditChain, StoreError> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM {FROM} ORDER BY seq"))?;
    let mut rows = stmt.query([])?;
    let mut chain = AuditChain::default();
    let (mut expected_prev, mut expected_seq) = (GENESIS.to_string(), 1i64);
    let mut newest_version = 0u8;
    let mut old = OldEntries::default();
    while let Some(row) = rows.next()? {
        let (_, entry) = entry_row(row)?;
        chain.count += 1;
        chain.head = Some((entry.seq, entry.hash.clone()));
        if chain.broken.is_some() {
            continue;
        }
        chain.broken = check(&entry, expected_seq, &expected_prev, newest_version)
            .or_else(|| old.check(&entry));
        if chain.broken.is_some() {
            continue;
        }
        if Some(entry.seq) == seq {
            chain.hash_at = Some(entry.hash.clone());
        }
        newest_version = newest_version.max(entry.hash_version);
        expected_prev = entry.hash;
        expected_seq += 1;
    }
    if chain.broken.is_none() {
        let highest: i64 = conn
            .query_row(
                "SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'",
                [],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0);
        if highest >= expected_seq {
            chain.broken = Some(AuditBreak {
                seq: expected_seq,
                reason: format!("entries {expected_seq} to {highest} were removed"),
            });
        }
    }
    Ok(chain)
}

/// The entries of hash version 1 seen so far, to compare with what the upgrade recorded of
/// their accounts ([`record_old_accounts`]).
#[derive(Default)]
struct OldEntries {
    digest: AccountsDigest,
    last: Option<i64>,
}

impl OldEntries {
    /// Takes in a version 1 entry, or checks the upgrade's record against those taken in.
    fn check(&mut self, entry: &AuditEntry) -> Option<AuditBreak> {
        if entry.hash_version == 1 {
            self.digest.add(entry.seq, &entry.account);
            self.last = Some(entry.seq);
            return None;
        }
        if entry.event.action != ACCOUNTS_RECORDED || !entry.account.is_empty() {
            return None;
        }
        let details = &entry.event.details;
        let recorded = (
            details["entries_through"].as_i64(),
            details["accounts_sha256"].as_str(),
        );
        if recorded == (self.last, Some(self.digest.hex().as_str())) {
            return None;
        }
        Some(AuditBreak {
            seq: entry.seq,
            reason: format!(
                "the entries before the upgrade (1 to {}) are no longer filed under the \
                 accounts entry {} recorded: one of them was moved to another account",
                self.last.unwrap_or(0),
                entry.seq
            ),
        })
    }
}

/// Why `entry` does not follow the chain so far, if it does not.
fn check(
    entry: &AuditEntry,
    expected_seq: i64,
    expected_prev: &str,
    newest_version: u8,
) -> Option<AuditBreak> {
    let seq = entry.seq;
    let reason = if seq != expected_seq {
        return Some(AuditBreak {
            seq: expected_seq,
            reason: format!("entry {expected_seq} was removed"),
        });
    } else if entry.prev_hash != expected_prev {
        format!("entry {seq} does not follow the one before it")
    } else if entry.hash_version < newest_version {
        // Entries are written with the newest version only: an older one after it is an entry
        // rewritten with the hash that leaves out its account.
        format!(
            "entry {seq} carries hash version {} after entries of version {newest_version}: it was rewritten",
            entry.hash_version
        )
    } else {
        match entry.expected_hash() {
            None => format!(
                "entry {seq} carries hash version {}, which this Ferry does not know",
                entry.hash_version
            ),
            Some(hash) if hash != entry.hash => {
                format!("entry {seq} was edited or moved to another account")
            }
            Some(_) => return None,
        }
    };
    Some(AuditBreak { seq, reason })
}
