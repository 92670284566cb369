//! Which OpenPGP key an export is encrypted to, and the account's default key.
//!
//! Precedence: the request's own key, then its destination's, then the account's. The
//! account's key exists so that nothing leaves unencrypted by accident, so a request skips
//! the stored keys only by saying so (`"encryption": {"none": true}`, `ferry export
//! --no-encryption`), and the export's `data_export.requested` entry records what it skipped.
//! Stored keys are checked again whenever they are used (a key can expire after it was
//! stored), and once more when the export runs.

use ferry_domain::AccountId;
use ferry_domain::job::{Encryption, ExportSpec};
use ferry_store::{AccountKey, DeliveryRecord, Store};
use serde_json::{Value, json};

use super::Actor;
use super::destinations::key as destination_key;
use super::exports::check_key;
use crate::error_code::{ErrorCode, Problem};

/// Where an export's key came from, as the audit trail names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Request,
    Destination,
    Account,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Request => "request",
            Source::Destination => "destination",
            Source::Account => "account",
        }
    }
}

/// Sets `spec.encryption` from the stored keys when the request gave none and did not opt
/// out. Returns what the `data_export.requested` entry records (`null`: no key anywhere).
pub async fn choose(
    store: &dyn Store,
    account: AccountId,
    spec: &mut ExportSpec,
    opted_out: bool,
    delivery: Option<&DeliveryRecord>,
    now: i64,
) -> Result<Value, Problem> {
    if let Some(e) = &spec.encryption {
        return Ok(json!({"source": Source::Request.as_str(), "fingerprint": e.fingerprint}));
    }
    let stored = match delivery.and_then(|d| destination_key::stored(&d.settings)) {
        Some(armored) => Some((Source::Destination, armored)),
        None => store
            .account_key(account)
            .await?
            .map(|k| (Source::Account, k.pgp_public_key)),
    };
    let Some((source, armored)) = stored else {
        return Ok(if opted_out {
            json!({"none": true})
        } else {
            Value::Null
        });
    };
    let whose = match (source, delivery.and_then(|d| d.destination_id.as_deref())) {
        (Source::Destination, Some(id)) => {
            format!("the destination's encryption key (replace it with PATCH /destinations/{id})")
        }
        (Source::Destination, None) => "the delivery's encryption key".to_string(),
        _ => "the account's encryption key (replace it with PUT /account/encryption)".to_string(),
    };
    if opted_out {
        // Checked all the same, for the fingerprint the audit entry names.
        let skipped = check_key(&armored, now, &whose)
            .map(|e| e.fingerprint)
            .unwrap_or_default();
        return Ok(
            json!({"none": true, "skipped": {"source": source.as_str(), "fingerprint": skipped}}),
        );
    }
    let encryption = check_key(&armored, now, &whose)?;
    let recorded = json!({"source": source.as_str(), "fingerprint": encryption.fingerprint});
    spec.encryption = Some(encryption);
    Ok(recorded)
}

fn shown(key: Option<&AccountKey>) -> Value {
    match key {
        Some(k) => json!({
            "fingerprint": k.fingerprint,
            "set_by": k.set_by,
            "set_at": chrono::DateTime::from_timestamp_millis(k.set_at),
        }),
        None => json!({"fingerprint": null, "set_by": null, "set_at": null}),
    }
}

/// `GET /account/encryption`: the fingerprint, never the key itself (nobody needs it back).
pub async fn show(store: &dyn Store, account: AccountId) -> Result<Value, Problem> {
    Ok(shown(store.account_key(account).await?.as_ref()))
}

/// Checks `armored` as of `now` and makes it the account's key; nothing is stored if it is
/// refused.
pub async fn set(
    store: &dyn Store,
    actor: &Actor,
    armored: &str,
    now: i64,
) -> Result<Value, Problem> {
    let Encryption {
        pgp_public_key,
        fingerprint,
    } = check_key(armored, now, "pgp_public_key")?;
    let account = actor.account();
    let previous = store.account_key(account).await?.map(|k| k.fingerprint);
    let key = AccountKey {
        pgp_public_key,
        fingerprint: fingerprint.clone(),
        set_by: actor.audit_name().to_string(),
        set_at: now,
    };
    store.set_account_key(account, key.clone()).await?;
    let details = json!({"fingerprint": fingerprint, "replaced": previous});
    let entry = crate::audit::event(actor.audit_name(), "account.encryption_key_set", details);
    store.audit(account, entry).await?;
    tracing::info!(account = account.0, "account encryption key set");
    Ok(shown(Some(&key)))
}

/// Removes the account's key; an account without one is told so (404).
pub async fn remove(store: &dyn Store, actor: &Actor) -> Result<Value, Problem> {
    let account = actor.account();
    let Some(previous) = store.account_key(account).await? else {
        return Err(not_set());
    };
    if !store.remove_account_key(account).await? {
        return Err(not_set());
    }
    let details = json!({"fingerprint": previous.fingerprint});
    let entry = crate::audit::event(
        actor.audit_name(),
        "account.encryption_key_removed",
        details,
    );
    store.audit(account, entry).await?;
    tracing::info!(account = account.0, "account encryption key removed");
    Ok(json!({"fingerprint": previous.fingerprint, "removed": true}))
}

fn not_set() -> Problem {
    Problem::new(
        ErrorCode::EncryptionKeyNotSet,
        "this account has no encryption key: set one with PUT /api/external/v1/account/encryption",
    )
}
