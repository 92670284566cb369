//! Destinations: create, change, delete, test, and the copy an export's delivery takes. The
//! credentials are sealed ([`crate::sealing`]) before they reach the store and opened only
//! by the worker that delivers (and by `test`); the API, the audit trail and the log see
//! their names, never their values.

pub mod key;
pub mod shape;

use ferry_domain::AccountId;
use ferry_store::{DeliveryRecord, DeliveryStatus, DestinationRecord, Store};
use serde_json::{Map, Value, json};

use super::Actor;
use crate::clock::Clock;
use crate::error_code::{ErrorCode, Problem};
use crate::keys::random_id;
use crate::sealing::Sealer;
pub use shape::Shape;

/// What the services need besides the store.
pub struct Ctx<'a> {
    pub store: &'a dyn Store,
    pub sealer: &'a Sealer,
    pub clock: &'a dyn Clock,
}

pub(crate) fn not_found(id: &str) -> Problem {
    Problem::new(
        ErrorCode::DestinationNotFound,
        format!(
            "no destination `{id}` in this account: list them with GET /api/external/v1/destinations"
        ),
    )
}

fn seal(sealer: &Sealer, account: AccountId, secrets: &Map<String, Value>) -> String {
    sealer.seal(
        account,
        Value::Object(secrets.clone()).to_string().as_bytes(),
    )
}

/// A stored destination (or delivery copy) opened again: settings and secrets.
pub fn open(
    sealer: &Sealer,
    account: AccountId,
    settings: &str,
    sealed: &str,
) -> Result<Shape, String> {
    let public: Map<String, Value> = serde_json::from_str(settings)
        .map_err(|_| "the destination's settings are unreadable".to_string())?;
    let secrets = sealer
        .open(account, sealed)
        .and_then(|plain| serde_json::from_slice(&plain).ok())
        .ok_or_else(|| {
            "the destination's credentials cannot be opened with this server's secret key \
             (FERRY_SECRET_KEY or DATA_DIR/secret-key changed): enter them again with PATCH \
             /destinations/{id}"
                .to_string()
        })?;
    let kind = public
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Ok(Shape {
        kind,
        public,
        secrets,
    })
}

/// The API's view of a destination: secrets as `"redacted"`.
pub fn view(sealer: &Sealer, d: &DestinationRecord) -> Value {
    let mut public: Map<String, Value> = serde_json::from_str(&d.settings).unwrap_or_default();
    key::shown(&mut public);
    let secret_names: Vec<String> = open(sealer, d.account, &d.settings, &d.sealed)
        .map(|s| s.secrets.keys().cloned().collect())
        .unwrap_or_default();
    json!({
        "id": d.id,
        "name": d.name,
        "type": d.kind,
        "destination": shape::redacted(&public, &secret_names),
        "created_at": iso(d.created_at),
        "updated_at": iso(d.updated_at),
    })
}

fn iso(ms: i64) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::from_timestamp_millis(ms)
}

/// `name` aside, the body is the destination object itself (or `{"destination": …}`).
fn split_name(body: &Value) -> Result<(Option<String>, Value), Problem> {
    let mut body = body.clone();
    let name = match body.as_object_mut().and_then(|o| o.remove("name")) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.len() <= 200 => Some(s),
        Some(_) => {
            return Err(Problem::new(
                ErrorCode::InvalidDestination,
                "`name` must be a string of at most 200 characters",
            ));
        }
    };
    Ok((name, body))
}

fn audit_details(d: &DestinationRecord, fields: &[&String]) -> Value {
    let public: Map<String, Value> = serde_json::from_str(&d.settings).unwrap_or_default();
    let encrypted_to = key::current(&public).map(|(_, fingerprint)| fingerprint);
    json!({"destination_id": d.id, "type": d.kind, "name": d.name, "fields": fields,
           "encrypted_to": encrypted_to})
}

/// The key a create or change leaves the destination with: `given`, or `current` when the
/// request said nothing about it.
fn key_after(given: key::Given, current: Option<(String, String)>) -> Option<(String, String)> {
    match given {
        key::Given::Absent => current,
        key::Given::Removed => None,
        key::Given::Key {
            pgp_public_key,
            fingerprint,
        } => Some((pgp_public_key, fingerprint)),
    }
}

pub async fn create(ctx: &Ctx<'_>, actor: &Actor, body: &Value) -> Result<Value, Problem> {
    let (name, mut object) = split_name(body)?;
    let account = actor.account();
    let now = ctx.clock.now();
    let given = key::take(&mut object, now)?;
    let mut shape = shape::parse(&object)?;
    let mut fields: Vec<String> = shape
        .public
        .keys()
        .chain(shape.secrets.keys())
        .cloned()
        .collect();
    if !matches!(given, key::Given::Absent) {
        fields.push(key::FIELD.into());
    }
    key::keep(&mut shape.public, key_after(given, None));
    let record = DestinationRecord {
        id: random_id("dst_", 8),
        account,
        name,
        kind: shape.kind.clone(),
        settings: Value::Object(shape.public.clone()).to_string(),
        sealed: seal(ctx.sealer, account, &shape.secrets),
        created_at: now,
        updated_at: now,
    };
    ctx.store.create_destination(record.clone()).await?;
    let fields: Vec<&String> = fields.iter().collect();
    let entry = crate::audit::event(
        actor.audit_name(),
        "destination.created",
        audit_details(&record, &fields),
    );
    ctx.store.audit(account, entry).await?;
    tracing::info!(destination.id = %record.id, kind = %record.kind, "destination created");
    Ok(view(ctx.sealer, &record))
}

pub async fn get(
    ctx: &Ctx<'_>,
    account: AccountId,
    id: &str,
) -> Result<DestinationRecord, Problem> {
    ctx.store
        .destination(account, id)
        .await?
        .ok_or_else(|| not_found(id))
}

/// Changes the fields given; the others keep their values (secrets included, so a rename
/// need not repeat the credentials). `type` may change only with every field of the new type.
pub async fn update(
    ctx: &Ctx<'_>,
    actor: &Actor,
    id: &str,
    body: &Value,
) -> Result<Value, Problem> {
    let account = actor.account();
    let mut record = get(ctx, account, id).await?;
    let (name, mut changes) = split_name(body)?;
    let given = key::take(&mut changes, ctx.clock.now())?;
    let key_changed = !matches!(given, key::Given::Absent);
    let changes = changes.as_object().cloned().ok_or_else(|| {
        Problem::new(
            ErrorCode::InvalidDestination,
            "send a JSON object of the fields to change",
        )
    })?;
    let current = open(ctx.sealer, account, &record.settings, &record.sealed)
        .map_err(|m| Problem::new(ErrorCode::InvalidDestination, m))?;
    let kept = key_after(given, key::current(&current.public));
    let mut merged = if changes
        .get("type")
        .is_some_and(|t| t.as_str() != Some(&record.kind))
    {
        Map::new()
    } else {
        let mut all = current.public.clone();
        all.extend(current.secrets.clone());
        all
    };
    merged.remove(key::FIELD);
    merged.extend(changes.clone());
    let mut shape = shape::parse(&Value::Object(merged))?;
    key::keep(&mut shape.public, kept);
    if name.is_some() {
        record.name = name;
    }
    record.kind = shape.kind.clone();
    record.settings = Value::Object(shape.public.clone()).to_string();
    record.sealed = seal(ctx.sealer, account, &shape.secrets);
    record.updated_at = ctx.clock.now();
    if !ctx.store.update_destination(record.clone()).await? {
        return Err(not_found(id));
    }
    let field = key::FIELD.to_string();
    let fields: Vec<&String> = changes
        .keys()
        .chain(key_changed.then_some(&field))
        .collect();
    let entry = crate::audit::event(
        actor.audit_name(),
        "destination.updated",
        audit_details(&record, &fields),
    );
    ctx.store.audit(account, entry).await?;
    Ok(view(ctx.sealer, &record))
}

pub async fn delete(ctx: &Ctx<'_>, actor: &Actor, id: &str) -> Result<Value, Problem> {
    let account = actor.account();
    let record = get(ctx, account, id).await?;
    if !ctx.store.delete_destination(account, id).await? {
        return Err(not_found(id));
    }
    let entry = crate::audit::event(
        actor.audit_name(),
        "destination.deleted",
        audit_details(&record, &[]),
    );
    ctx.store.audit(account, entry).await?;
    Ok(json!({"id": id, "deleted": true}))
}

/// Writes and removes a small object at the destination.
pub async fn test(ctx: &Ctx<'_>, actor: &Actor, id: &str) -> Result<Value, Problem> {
    let account = actor.account();
    let record = get(ctx, account, id).await?;
    let outcome = match open(ctx.sealer, account, &record.settings, &record.sealed) {
        Ok(shape) => match shape::sink(&shape, None) {
            Ok(sink) => sink.probe().await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        },
        Err(message) => Err(message),
    };
    let mut details = audit_details(&record, &[]);
    details["ok"] = json!(outcome.is_ok());
    if let Err(message) = &outcome {
        details["message"] = json!(message);
    }
    let mut entry = crate::audit::event(actor.audit_name(), "destination.tested", details);
    if outcome.is_err() {
        entry.status = ErrorCode::DestinationUnreachable.as_str().into();
    }
    ctx.store.audit(account, entry).await?;
    match outcome {
        Ok(()) => Ok(json!({"id": id, "ok": true})),
        Err(message) => Err(Problem::new(
            ErrorCode::DestinationUnreachable,
            format!("the test object could not be written and removed: {message}"),
        )),
    }
}

/// The key of a delivery's settings that names the folder its files go to instead of the
/// export id, and says that files are named without the export id: a schedule's runs name
/// their objects alike (`sch_…/2026-03-29_2026-03-30/export.zip`), so a re-run replaces them.
pub const OBJECT_PREFIX: &str = "object_prefix";

/// `{"destination_id", "object_prefix"}`: a relative folder of plain name characters.
fn object_prefix(delivery: &Value) -> Result<Option<String>, Problem> {
    let Some(prefix) = delivery.get(OBJECT_PREFIX) else {
        return Ok(None);
    };
    let text = prefix.as_str().unwrap_or_default().trim_matches('/');
    let plain = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c));
    if text.is_empty()
        || text.len() > 200
        || !plain
        || text
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(Problem::new(
            ErrorCode::InvalidDestination,
            "object_prefix is a relative folder of letters, digits, `_`, `-`, `.` and `/`, \
             at most 200 characters, without empty, `.` or `..` parts",
        ));
    }
    Ok(Some(text.to_string()))
}

/// The delivery an export request asked for: a saved destination's id (`"dst_…"` or
/// `{"destination_id": "dst_…"}`), or a destination object given inline. The delivery keeps
/// a copy, so a later change to the destination does not redirect a queued export.
pub async fn delivery_for(
    ctx: &Ctx<'_>,
    account: AccountId,
    export_id: &str,
    delivery: &Value,
) -> Result<DeliveryRecord, Problem> {
    let by_id = delivery
        .as_str()
        .or_else(|| delivery.get("destination_id").and_then(Value::as_str));
    let folder = object_prefix(delivery)?;
    let (destination_id, kind, settings, sealed) = match by_id {
        Some(id) => {
            let d = get(ctx, account, id).await?;
            (Some(d.id), d.kind, d.settings, d.sealed)
        }
        None => {
            let mut object = delivery.clone();
            let given = key::take(&mut object, ctx.clock.now())?;
            let mut shape = shape::parse(&object)?;
            key::keep(&mut shape.public, key_after(given, None));
            let sealed = seal(ctx.sealer, account, &shape.secrets);
            let settings = Value::Object(shape.public).to_string();
            (None, shape.kind, settings, sealed)
        }
    };
    // Kept with the copy's public settings; the deliver job takes it out again.
    let settings = match folder {
        Some(folder) => {
            let mut public: Map<String, Value> =
                serde_json::from_str(&settings).unwrap_or_default();
            public.insert(OBJECT_PREFIX.into(), Value::String(folder));
            Value::Object(public).to_string()
        }
        None => settings,
    };
    Ok(DeliveryRecord {
        export_id: export_id.to_string(),
        account,
        destination_id,
        kind,
        settings,
        sealed,
        status: DeliveryStatus::Pending,
        attempts: 0,
        error: None,
        location: None,
        delivered_at: None,
    })
}
