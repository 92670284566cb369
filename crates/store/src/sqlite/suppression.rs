//! Ingest's side of erasure suppression: whether a line carries an identifier of a person
//! erased while their account suppresses them (keyed hashes in `erasure_suppressions`).

use std::collections::HashMap;

use ferry_domain::IngestLine;
use rusqlite::{Connection, params};

use crate::StoreError;

/// One batch's look-ups: the key is read once, and each distinct identifier is looked up once.
#[derive(Default)]
pub(super) struct Suppression {
    key: Option<Vec<u8>>,
    seen: HashMap<(i64, String), bool>,
}

impl Suppression {
    /// Whether `line` names an erased person of `account`.
    pub(super) fn names_erased(
        &mut self,
        tx: &Connection,
        account: i64,
        line: &IngestLine,
    ) -> Result<bool, StoreError> {
        if self.key.is_none() {
            self.key = Some(super::erasure::suppression_key(tx)?);
        }
        let key = self.key.as_deref().unwrap_or_default();
        let mut labels = Vec::with_capacity(3);
        match line {
            IngestLine::Activity(a) => labels.push(format!("visitor_id:{}", a.visitor_id)),
            IngestLine::Identify(i) => {
                labels.push(format!("visitor_id:{}", i.visitor_id));
                labels.push(format!("user_id:{}", i.user_id));
                if let Some(email) = &i.email {
                    labels.push(format!("email:{}", email.trim().to_lowercase()));
                }
            }
        }
        let mut stmt = tx.prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM erasure_suppressions WHERE account_pk = ?1 AND hash = ?2)",
        )?;
        for label in labels {
            let slot = (account, label);
            let found = match self.seen.get(&slot) {
                Some(found) => *found,
                None => {
                    let hash = ferry_domain::erasure::suppression_hash(key, &slot.1);
                    let found = stmt.query_row(params![account, hash], |r| r.get(0))?;
                    self.seen.insert(slot, found);
                    found
                }
            };
            if found {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
