//! API keys of an account: creating one (its secret is returned here, once, and only its hash
//! is kept) and revoking one, each audited under whoever asked. The API's `/keys` and the
//! dashboard's API keys page both call these.

use ferry_domain::{ApiKeyInfo, Scope, Scopes};
use ferry_store::Store;
use serde_json::json;

use super::Actor;
use crate::error_code::{ErrorCode, Problem};
use crate::keys::mint;

/// A label is for people telling keys apart, not a document.
const MAX_NAME_CHARS: usize = 100;

/// The new key and its secret, which nothing can show again.
pub async fn create_key(
    store: &dyn Store,
    actor: &Actor,
    name: Option<String>,
    scopes: Vec<Scope>,
) -> Result<(ApiKeyInfo, String), Problem> {
    if scopes.is_empty() {
        return Err(Problem::new(
            ErrorCode::InvalidScopes,
            "a key needs at least one scope: analytics:read, exports:read, exports:write, ingest or admin",
        ));
    }
    let name = name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if name
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NAME_CHARS)
    {
        return Err(Problem::new(
            ErrorCode::InvalidValue,
            format!("a key's name is at most {MAX_NAME_CHARS} characters"),
        ));
    }
    let minted = mint(name, Scopes::new(scopes));
    let info = store.create_key(actor.account(), minted.record).await?;
    tracing::info!(key.created = %info.id, actor = actor.log_name(), "api key created");
    let details = json!({"key_id": info.id, "scopes": info.scopes});
    store
        .audit(
            actor.account(),
            crate::audit::event(actor.audit_name(), "api_key.created", details),
        )
        .await?;
    Ok((info, minted.secret))
}

/// `key_not_found` for another account's key, as for none.
pub async fn revoke_key(
    store: &dyn Store,
    actor: &Actor,
    key_id: &str,
) -> Result<ApiKeyInfo, Problem> {
    let revoked = store.revoke_key(actor.account(), key_id).await?;
    let revoked = revoked.ok_or_else(|| {
        Problem::new(
            ErrorCode::KeyNotFound,
            format!("no key `{key_id}` in this account: list keys with GET /api/external/v1/keys"),
        )
    })?;
    tracing::info!(key.revoked = %revoked.id, actor = actor.log_name(), "api key revoked");
    let details = json!({"key_id": revoked.id});
    store
        .audit(
            actor.account(),
            crate::audit::event(actor.audit_name(), "api_key.revoked", details),
        )
        .await?;
    Ok(revoked)
}
