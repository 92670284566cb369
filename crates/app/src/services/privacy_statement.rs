//! The account's privacy statement and a website's overrides of it: what every person's
//! package tells its reader about the processing (Art. 15(1)(a)–(h)), and what a rejection
//! mail names as the supervisory authority. Reading needs `exports:read`, changing `admin`;
//! each change is audited as `privacy_statement.updated` naming the fields changed, never
//! their text (a contact's name or address may be in it).

use ferry_domain::AccountId;
use ferry_domain::privacy_statement::{FIELDS, PrivacyStatement, StoredStatement, check_field};
use ferry_domain::time::rfc3339_millis;
use ferry_store::{Store, StoreError};
use serde_json::{Map, Value, json};

use super::Actor;
use crate::error_code::{ErrorCode, Problem};

/// The statement as the API shows it: every field, `null` when unset.
fn fields(statement: &PrivacyStatement) -> Value {
    let mut out = Map::new();
    for (name, _) in FIELDS {
        out.insert(name.into(), json!(statement.field(name)));
    }
    Value::Object(out)
}

fn stored_view(stored: Option<&StoredStatement>) -> (Value, Value, Value) {
    match stored {
        Some(s) => (
            fields(&s.statement),
            json!(rfc3339_millis(s.updated_at)),
            json!(s.updated_by),
        ),
        None => (
            fields(&PrivacyStatement::default()),
            Value::Null,
            Value::Null,
        ),
    }
}

fn missing_website(website: Option<&str>) -> impl Fn(StoreError) -> Problem + '_ {
    move |e| match (e, website) {
        (StoreError::NotFound, Some(id)) => Problem::website_not_found(id),
        (e, _) => e.into(),
    }
}

/// `GET /account/privacy-statement` (`website` `None`) or `GET
/// /websites/{id}/privacy-statement`: a website's view shows its own overrides, the account's
/// statement they fall back to, what applies (`effective`) and its `retention_days`.
pub async fn show(
    store: &dyn Store,
    account: AccountId,
    website: Option<&str>,
) -> Result<Value, Problem> {
    let own = store
        .privacy_statement(account, website)
        .await
        .map_err(missing_website(website))?;
    let (statement, updated_at, updated_by) = stored_view(own.as_ref());
    let Some(id) = website else {
        return Ok(json!({
            "statement": statement, "updated_at": updated_at, "updated_by": updated_by,
        }));
    };
    let site = store
        .website(account, id)
        .await?
        .ok_or_else(|| Problem::website_not_found(id))?;
    let base = store
        .privacy_statement(account, None)
        .await?
        .map(|s| s.statement)
        .unwrap_or_default();
    let effective = own.map(|s| s.statement).unwrap_or_default().over(&base);
    Ok(json!({
        "website_id": site.id,
        "overrides": statement,
        "updated_at": updated_at,
        "updated_by": updated_by,
        "effective": fields(&effective),
        "retention_days": site.retention_days,
    }))
}

/// `PUT`: each field given is set (`""` or `null` clears it; on a website, clearing falls
/// back to the account's); fields left out keep their values.
pub async fn set(
    store: &dyn Store,
    actor: &Actor,
    website: Option<&str>,
    body: Map<String, Value>,
    now: i64,
) -> Result<Value, Problem> {
    let account = actor.account();
    if body.is_empty() {
        return Err(Problem::new(
            ErrorCode::MissingField,
            format!(
                "send at least one of {}: each is text (\"\" or null clears it)",
                names()
            ),
        ));
    }
    let mut statement = store
        .privacy_statement(account, website)
        .await
        .map_err(missing_website(website))?
        .map(|s| s.statement)
        .unwrap_or_default();
    let mut changed = Vec::new();
    for (name, value) in body {
        let Some(slot) = statement.field_mut(&name) else {
            return Err(Problem::new(
                ErrorCode::UnknownField,
                format!(
                    "unknown field `{}`: the statement has {}",
                    name.chars().take(64).collect::<String>(),
                    names()
                ),
            ));
        };
        let text = match value {
            Value::Null => None,
            Value::String(text) => {
                check_field(&name, &text).map_err(|m| Problem::new(ErrorCode::InvalidValue, m))?
            }
            _ => {
                return Err(Problem::new(
                    ErrorCode::InvalidValue,
                    format!("`{name}` is text (\"\" or null clears it)"),
                ));
            }
        };
        if *slot != text {
            *slot = text;
            changed.push(name);
        }
    }
    let details = json!({"website_id": website, "fields": changed});
    let event = crate::audit::event(actor.audit_name(), "privacy_statement.updated", details);
    store
        .set_privacy_statement(account, website, statement, event, now)
        .await
        .map_err(missing_website(website))?;
    tracing::info!(
        actor = actor.log_name(),
        fields = changed.len(),
        "privacy statement updated"
    );
    show(store, account, website).await
}

fn names() -> String {
    FIELDS
        .iter()
        .map(|(n, _)| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What applies to each website of `websites` (ids), and the account's own statement: for
/// the package of a person's export.
pub async fn effective(
    store: &dyn Store,
    account: AccountId,
    websites: &[String],
) -> Result<(PrivacyStatement, Vec<(String, PrivacyStatement)>), StoreError> {
    let base = store
        .privacy_statement(account, None)
        .await?
        .map(|s| s.statement)
        .unwrap_or_default();
    let mut per_site = Vec::new();
    for id in websites {
        match store.privacy_statement(account, Some(id)).await {
            Ok(Some(own)) if !own.statement.is_empty() => {
                per_site.push((id.clone(), own.statement.over(&base)));
            }
            Ok(_) | Err(StoreError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    Ok((base, per_site))
}
