//! Data-subject requests and their timelines, and [`Requests`] on SQLite.

use async_trait::async_trait;
use ferry_domain::audit::AuditEvent;
use ferry_domain::request::{Request, RequestSettings, RequestStatus, Step};
use ferry_domain::{AccountId, Millis};
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::SqliteStore;
use super::request_rows::{COLUMNS, by, fulfilment_json, list, of_account, row, steps};
use crate::{Created, RequestChange, Requests, StoreError};

fn append_step(tx: &Connection, id: &str, step: &Step) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO request_steps (request_pk, at, actor, step, details)
         SELECT pk, ?2, ?3, ?4, ?5 FROM requests WHERE request_id = ?1",
        params![id, step.at, step.actor, step.step, step.details.to_string()],
    )?;
    Ok(())
}

/// The steps, audit entries and jobs of a change, inside its transaction.
fn commit_change(
    tx: &Transaction,
    account: AccountId,
    id: &str,
    change: &RequestChange,
    now: Millis,
) -> Result<(), StoreError> {
    for step in &change.steps {
        append_step(tx, id, step)?;
    }
    for entry in &change.audit {
        super::audit::append_in(tx, account, entry)?;
    }
    for job in &change.jobs {
        super::queue::insert(tx, job, now)?;
    }
    Ok(())
}

fn create(
    conn: &mut Connection,
    account: AccountId,
    batch: Vec<(Request, RequestChange)>,
    now: Millis,
) -> Result<Vec<Created>, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut created = Vec::with_capacity(batch.len());
    for (request, change) in batch {
        created.push(create_in(&tx, account, request, &change, now)?);
    }
    tx.commit()?;
    Ok(created)
}

fn create_in(
    tx: &Transaction,
    account: AccountId,
    mut r: Request,
    change: &RequestChange,
    now: Millis,
) -> Result<Created, StoreError> {
    if let Some(reference) = &r.external_ref {
        let sql =
            format!("SELECT {COLUMNS} FROM requests WHERE account_pk = ?1 AND external_ref = ?2");
        if let Some((_, existing)) = tx
            .query_row(&sql, params![account.0, reference], row)
            .optional()?
        {
            return Ok(Created::Existing(existing));
        }
    }
    let open: Vec<&str> = RequestStatus::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| s.as_str())
        .collect();
    let open_list = open
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(",");
    // A request by visitor id alone has no email to link by.
    r.linked_to = if r.subject_email.is_empty() {
        None
    } else {
        tx.query_row(
            &format!(
                "SELECT request_id FROM requests WHERE account_pk = ?1 AND subject_email = ?2
                 AND status IN ({open_list}) ORDER BY pk LIMIT 1"
            ),
            params![account.0, r.subject_email],
            |row| row.get(0),
        )
        .optional()?
    };
    tx.execute(
        &format!(
            "INSERT INTO requests ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,
             ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, 1, ?26, ?26, ?27, ?28)"
        ),
        params![
            r.id,
            account.0,
            r.kind.as_str(),
            r.subject_email,
            r.user_id,
            r.visitor_id,
            r.received_at,
            r.received_on.to_string(),
            r.due_rule.as_str(),
            r.clock_runs_while_unverified,
            r.paused_days,
            r.extension_months,
            r.due_on.to_string(),
            r.status.as_str(),
            r.assignee,
            r.notes,
            r.linked_to,
            r.external_ref,
            r.verification.code_hash,
            r.verification.token_hash,
            r.verification.expires_at,
            r.verification.attempts,
            r.verification.locked,
            r.verification.method,
            r.verification.verified_at,
            now,
            fulfilment_json(&r),
            r.subject_website_id
        ],
    )?;
    commit_change(tx, account, &r.id, change, now)?;
    let created = of_account(tx, account, &r.id)?.ok_or(StoreError::NotFound)?;
    Ok(Created::New(created))
}

fn save(
    conn: &mut Connection,
    account: AccountId,
    r: &Request,
    change: &RequestChange,
    now: Millis,
) -> Result<Request, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let saved = save_in(&tx, account, r, change, now)?;
    tx.commit()?;
    Ok(saved)
}

/// A delivered request and its exports' receipts, in one transaction.
fn deliver(
    conn: &mut Connection,
    account: AccountId,
    r: &Request,
    change: &RequestChange,
    method: &str,
    at: Millis,
    now: Millis,
) -> Result<Request, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let saved = save_in(&tx, account, r, change, now)?;
    for export_id in &r.fulfilment.export_ids {
        tx.execute(
            "UPDATE receipts SET delivered_at = ?2,
                body = json_set(body, '$.delivery_method', ?3)
             WHERE export_id = ?1
               AND export_id IN (SELECT export_id FROM export_jobs WHERE account_pk = ?4)",
            params![export_id, at, method, account.0],
        )?;
    }
    tx.commit()?;
    Ok(saved)
}

pub(super) fn save_in(
    tx: &Transaction,
    account: AccountId,
    r: &Request,
    change: &RequestChange,
    now: Millis,
) -> Result<Request, StoreError> {
    let Some(stored) = of_account(tx, account, &r.id)? else {
        return Err(StoreError::NotFound);
    };
    if stored.version != r.version {
        return Err(StoreError::Conflict(format!(
            "request `{}` changed while this change was made: read it again and retry",
            r.id
        )));
    }
    tx.execute(
        "UPDATE requests SET user_id = ?2, visitor_id = ?3, paused_days = ?4,
           extension_months = ?5, due_on = ?6, status = ?7, assignee = ?8, notes = ?9,
           code_hash = ?10, token_hash = ?11, verification_expires_at = ?12,
           verification_attempts = ?13, verification_locked = ?14, verification_method = ?15,
           verified_at = ?16, version = version + 1, updated_at = ?17, fulfilment = ?18
         WHERE request_id = ?1",
        params![
            r.id,
            r.user_id,
            r.visitor_id,
            r.paused_days,
            r.extension_months,
            r.due_on.to_string(),
            r.status.as_str(),
            r.assignee,
            r.notes,
            r.verification.code_hash,
            r.verification.token_hash,
            r.verification.expires_at,
            r.verification.attempts,
            r.verification.locked,
            r.verification.method,
            r.verification.verified_at,
            now,
            fulfilment_json(r)
        ],
    )?;
    commit_change(tx, account, &r.id, change, now)?;
    of_account(tx, account, &r.id)?.ok_or(StoreError::NotFound)
}

fn add_step(
    conn: &mut Connection,
    account: AccountId,
    id: &str,
    step: &Step,
    audit: &AuditEvent,
) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    if of_account(&tx, account, id)?.is_none() {
        return Err(StoreError::NotFound);
    }
    append_step(&tx, id, step)?;
    super::audit::append_in(&tx, account, audit)?;
    tx.commit()?;
    Ok(())
}

#[async_trait]
impl Requests for SqliteStore {
    async fn create_request(
        &self,
        account: AccountId,
        request: Request,
        change: RequestChange,
        now: Millis,
    ) -> Result<Created, StoreError> {
        let mut created = self
            .pool
            .write(move |c| create(c, account, vec![(request, change)], now))
            .await?;
        created.pop().ok_or(StoreError::NotFound)
    }

    async fn import_requests(
        &self,
        account: AccountId,
        batch: Vec<(Request, RequestChange)>,
        now: Millis,
    ) -> Result<Vec<Created>, StoreError> {
        self.pool
            .write(move |c| create(c, account, batch, now))
            .await
    }

    async fn requests(
        &self,
        account: AccountId,
        status: Option<RequestStatus>,
    ) -> Result<Vec<Request>, StoreError> {
        self.pool
            .read(move |c| {
                let found = match status {
                    Some(s) => list(
                        c,
                        "account_pk = ?1 AND status = ?2",
                        &[&account.0, &s.as_str()],
                    )?,
                    None => list(c, "account_pk = ?1", &[&account.0])?,
                };
                Ok(found.into_iter().map(|(_, r)| r).collect())
            })
            .await
    }

    async fn request(&self, account: AccountId, id: &str) -> Result<Option<Request>, StoreError> {
        let id = id.to_string();
        self.pool.read(move |c| of_account(c, account, &id)).await
    }

    async fn request_any(&self, id: &str) -> Result<Option<(AccountId, Request)>, StoreError> {
        let id = id.to_string();
        self.pool.read(move |c| by(c, "request_id", &id)).await
    }

    async fn request_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<(AccountId, Request)>, StoreError> {
        let hash = token_hash.to_string();
        self.pool.read(move |c| by(c, "token_hash", &hash)).await
    }

    async fn save_request(
        &self,
        account: AccountId,
        request: Request,
        change: RequestChange,
        now: Millis,
    ) -> Result<Request, StoreError> {
        self.pool
            .write(move |c| save(c, account, &request, &change, now))
            .await
    }

    async fn add_request_step(
        &self,
        account: AccountId,
        id: &str,
        step: Step,
        audit: AuditEvent,
    ) -> Result<(), StoreError> {
        let id = id.to_string();
        self.pool
            .write(move |c| add_step(c, account, &id, &step, &audit))
            .await
    }

    async fn deliver_request(
        &self,
        account: AccountId,
        request: Request,
        change: RequestChange,
        method: &str,
        at: Millis,
        now: Millis,
    ) -> Result<Request, StoreError> {
        let method = method.to_string();
        self.pool
            .write(move |c| deliver(c, account, &request, &change, &method, at, now))
            .await
    }

    async fn request_by_export(
        &self,
        export_id: &str,
    ) -> Result<Option<(AccountId, Request)>, StoreError> {
        let id = export_id.to_string();
        self.pool
            .read(move |c| {
                let sql = format!(
                    "SELECT {COLUMNS} FROM requests WHERE status = 'in_progress'
                     AND EXISTS (SELECT 1 FROM json_each(requests.fulfilment, '$.export_ids')
                                 WHERE value = ?1)"
                );
                Ok(c.query_row(&sql, [&id], row).optional()?)
            })
            .await
    }

    async fn request_steps(&self, account: AccountId, id: &str) -> Result<Vec<Step>, StoreError> {
        let id = id.to_string();
        self.pool.read(move |c| steps(c, account, &id)).await
    }

    async fn requests_awaiting_answer(&self) -> Result<Vec<(AccountId, Request)>, StoreError> {
        self.pool
            .read(move |c| {
                list(
                    c,
                    "status IN ('received', 'verification_sent', 'verified', 'in_progress')",
                    &[],
                )
            })
            .await
    }

    async fn request_settings(&self, account: AccountId) -> Result<RequestSettings, StoreError> {
        self.pool
            .read(move |c| super::request_settings::get(c, account))
            .await
    }

    async fn set_request_settings(
        &self,
        account: AccountId,
        settings: RequestSettings,
        audit: AuditEvent,
        now: Millis,
    ) -> Result<(), StoreError> {
        self.pool
            .write(move |c| super::request_settings::set(c, account, &settings, &audit, now))
            .await
    }
}
