//! [`Destinations`] on SQLite.

use async_trait::async_trait;
use ferry_domain::{AccountId, Millis};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};

use super::SqliteStore;
use crate::{
    AccountKey, DeliveryRecord, DeliveryResult, DeliveryStatus, DestinationRecord, Destinations,
    StoreError,
};

const DESTINATION_COLUMNS: &str =
    "destination_id, account_pk, name, kind, settings, sealed, created_at, updated_at";

fn destination_row(row: &Row) -> rusqlite::Result<DestinationRecord> {
    Ok(DestinationRecord {
        id: row.get(0)?,
        account: AccountId(row.get(1)?),
        name: row.get(2)?,
        kind: row.get(3)?,
        settings: row.get(4)?,
        sealed: row.get(5)?,
        created_at: row.get(6)?,
        updated_at: row.get(7)?,
    })
}

const DELIVERY_COLUMNS: &str = "export_id, account_pk, destination_id, kind, settings, sealed, \
     status, attempts, error, location, delivered_at";

fn delivery_row(row: &Row) -> rusqlite::Result<DeliveryRecord> {
    let status: String = row.get(6)?;
    Ok(DeliveryRecord {
        export_id: row.get(0)?,
        account: AccountId(row.get(1)?),
        destination_id: row.get(2)?,
        kind: row.get(3)?,
        settings: row.get(4)?,
        sealed: row.get(5)?,
        status: DeliveryStatus::parse(&status).unwrap_or(DeliveryStatus::Failed),
        attempts: row.get(7)?,
        error: row.get(8)?,
        location: row.get(9)?,
        delivered_at: row.get(10)?,
    })
}

fn record(
    conn: &mut Connection,
    export_id: &str,
    result: DeliveryResult,
    now: Millis,
) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    match result {
        DeliveryResult::Retrying { error } => {
            tx.execute(
                "UPDATE deliveries SET attempts = attempts + 1, error = ?2, updated_at = ?3
                 WHERE export_id = ?1 AND status = 'pending'",
                params![export_id, error, now],
            )?;
        }
        DeliveryResult::Failed { error } => {
            tx.execute(
                "UPDATE deliveries SET attempts = attempts + 1, error = ?2, status = 'failed',
                    sealed = '', updated_at = ?3
                 WHERE export_id = ?1 AND status = 'pending'",
                params![export_id, error, now],
            )?;
        }
        DeliveryResult::Delivered {
            method,
            location,
            at,
        } => {
            let moved = tx.execute(
                "UPDATE deliveries SET attempts = attempts + 1, error = NULL,
                    status = 'delivered', location = ?2, delivered_at = ?3, updated_at = ?4,
                    sealed = ''
                 WHERE export_id = ?1 AND status = 'pending'",
                params![export_id, location, at, now],
            )? == 1;
            // The receipt names how the export reached its recipient.
            if moved {
                tx.execute(
                    "UPDATE receipts SET delivered_at = ?2,
                        body = json_set(body, '$.delivery_method', ?3)
                     WHERE export_id = ?1",
                    params![export_id, at, method],
                )?;
            }
        }
    }
    tx.commit()?;
    Ok(())
}

#[async_trait]
impl Destinations for SqliteStore {
    async fn create_destination(&self, d: DestinationRecord) -> Result<(), StoreError> {
        self.pool
            .write(move |c| {
                c.execute(
                    &format!(
                        "INSERT INTO destinations ({DESTINATION_COLUMNS})
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                    ),
                    params![
                        d.id,
                        d.account.0,
                        d.name,
                        d.kind,
                        d.settings,
                        d.sealed,
                        d.created_at,
                        d.updated_at
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn destinations(&self, account: AccountId) -> Result<Vec<DestinationRecord>, StoreError> {
        self.pool
            .read(move |c| {
                let mut stmt = c.prepare(&format!(
                    "SELECT {DESTINATION_COLUMNS} FROM destinations WHERE account_pk = ?1
                     ORDER BY created_at, destination_id"
                ))?;
                let rows = stmt.query_map([account.0], destination_row)?;
                Ok(rows.collect::<Result<_, _>>()?)
            })
            .await
    }

    async fn destination(
        &self,
        account: AccountId,
        id: &str,
    ) -> Result<Option<DestinationRecord>, StoreError> {
        let id = id.to_string();
        self.pool
            .read(move |c| {
                Ok(c.query_row(
                    &format!(
                        "SELECT {DESTINATION_COLUMNS} FROM destinations
                         WHERE account_pk = ?1 AND destination_id = ?2"
                    ),
                    params![account.0, id],
                    destination_row,
                )
                .optional()?)
            })
            .await
    }

    async fn update_destination(&self, d: DestinationRecord) -> Result<bool, StoreError> {
        self.pool
            .write(move |c| {
                Ok(c.execute(
                    "UPDATE destinations SET name = ?3, kind = ?4, settings = ?5, sealed = ?6,
                        updated_at = ?7
                     WHERE account_pk = ?1 AND destination_id = ?2",
                    params![
                        d.account.0,
                        d.id,
                        d.name,
                        d.kind,
                        d.settings,
                        d.sealed,
                        d.updated_at
                    ],
                )? == 1)
            })
            .await
    }

    async fn delete_destination(&self, account: AccountId, id: &str) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.pool
            .write(move |c| {
                Ok(c.execute(
                    "DELETE FROM destinations WHERE account_pk = ?1 AND destination_id = ?2",
                    params![account.0, id],
                )? == 1)
            })
            .await
    }

    async fn save_delivery(&self, d: DeliveryRecord) -> Result<(), StoreError> {
        self.pool
            .write(move |c| {
                c.execute(
                    &format!(
                        "INSERT INTO deliveries ({DELIVERY_COLUMNS}, updated_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
                    ),
                    params![
                        d.export_id,
                        d.account.0,
                        d.destination_id,
                        d.kind,
                        d.settings,
                        d.sealed,
                        d.status.as_str(),
                        d.attempts,
                        d.error,
                        d.location,
                        d.delivered_at,
                        0i64
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn discard_delivery(&self, export_id: &str) -> Result<(), StoreError> {
        let id = export_id.to_string();
        self.pool
            .write(move |c| {
                c.execute("DELETE FROM deliveries WHERE export_id = ?1", [id])?;
                Ok(())
            })
            .await
    }

    async fn delivery(&self, export_id: &str) -> Result<Option<DeliveryRecord>, StoreError> {
        let id = export_id.to_string();
        self.pool
            .read(move |c| {
                Ok(c.query_row(
                    &format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE export_id = ?1"),
                    [id],
                    delivery_row,
                )
                .optional()?)
            })
            .await
    }

    async fn record_delivery(
        &self,
        export_id: &str,
        result: DeliveryResult,
        now: Millis,
    ) -> Result<(), StoreError> {
        let id = export_id.to_string();
        self.pool.write(move |c| record(c, &id, result, now)).await
    }

    async fn set_alert_webhook(
        &self,
        account: AccountId,
        url: &str,
        sealed: &str,
        now: Millis,
    ) -> Result<(), StoreError> {
        let (url, sealed) = (url.to_string(), sealed.to_string());
        self.pool
            .write(move |c| {
                c.execute(
                    "INSERT INTO alert_webhooks (account_pk, url, sealed, updated_at)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (account_pk) DO UPDATE SET url = ?2, sealed = ?3, updated_at = ?4",
                    params![account.0, url, sealed, now],
                )?;
                Ok(())
            })
            .await
    }

    async fn alert_webhook(
        &self,
        account: AccountId,
    ) -> Result<Option<(String, String)>, StoreError> {
        self.pool
            .read(move |c| {
                Ok(c.query_row(
                    "SELECT url, sealed FROM alert_webhooks WHERE account_pk = ?1",
                    [account.0],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?)
            })
            .await
    }

    async fn set_account_key(&self, account: AccountId, key: AccountKey) -> Result<(), StoreError> {
        self.pool
            .write(move |c| {
                c.execute(
                    "INSERT INTO account_encryption_keys
                         (account_pk, pgp_public_key, fingerprint, set_by, set_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (account_pk) DO UPDATE SET pgp_public_key = ?2,
                         fingerprint = ?3, set_by = ?4, set_at = ?5",
                    params![
                        account.0,
                        key.pgp_public_key,
                        key.fingerprint,
                        key.set_by,
                        key.set_at
                    ],
                )?;
                Ok(())
            })
            .await
    }

    async fn account_key(&self, account: AccountId) -> Result<Option<AccountKey>, StoreError> {
        self.pool
            .read(move |c| {
                Ok(c.query_row(
                    "SELECT pgp_public_key, fingerprint, set_by, set_at
                     FROM account_encryption_keys WHERE account_pk = ?1",
                    [account.0],
                    |r| {
                        Ok(AccountKey {
                            pgp_public_key: r.get(0)?,
                            fingerprint: r.get(1)?,
                            set_by: r.get(2)?,
                            set_at: r.get(3)?,
                        })
                    },
                )
                .optional()?)
            })
            .await
    }

    async fn remove_account_key(&self, account: AccountId) -> Result<bool, StoreError> {
        self.pool
            .write(move |c| {
                let n = c.execute(
                    "DELETE FROM account_encryption_keys WHERE account_pk = ?1",
                    [account.0],
                )?;
                Ok(n > 0)
            })
            .await
    }

    async fn set_alert_email(
        &self,
        account: AccountId,
        address: &str,
        now: Millis,
    ) -> Result<(), StoreError> {
        let address = address.to_string();
        self.pool
            .write(move |c| {
                c.execute(
                    "INSERT INTO alert_emails (account_pk, address, updated_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (account_pk) DO UPDATE SET address = ?2, updated_at = ?3",
                    params![account.0, address, now],
                )?;
                Ok(())
            })
            .await
    }

    async fn alert_email(&self, account: AccountId) -> Result<Option<String>, StoreError> {
        self.pool
            .read(move |c| {
                Ok(c.query_row(
                    "SELECT address FROM alert_emails WHERE account_pk = ?1",
                    [account.0],
                    |r| r.get(0),
                )
                .optional()?)
            })
            .await
    }

    async fn delete_alert_email(&self, account: AccountId) -> Result<bool, StoreError> {
        self.pool
            .write(move |c| {
                Ok(c.execute(
                    "DELETE FROM alert_emails WHERE account_pk = ?1",
                    [account.0],
                )? > 0)
            })
            .await
    }
}
