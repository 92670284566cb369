//! A destination's optional encryption key: `"encryption": {"pgp_public_key": "…"}` in the
//! destination JSON. A public key is no secret, so it is kept with the public settings as
//! `{"pgp_public_key", "fingerprint"}`; answers show only `{"fingerprint"}` (the key is long
//! and nobody needs it back), and sinks never see it.

use serde_json::{Map, Value, json};

use crate::error_code::{ErrorCode, Problem};
use crate::services::exports::check_key;

/// The settings key.
pub const FIELD: &str = "encryption";

/// What a destination object said about its key.
#[derive(Debug)]
pub enum Given {
    /// Nothing: a new destination has none; a change keeps the current one.
    Absent,
    /// `"encryption": null`: remove it.
    Removed,
    /// A key, checked as of the request.
    Key {
        pgp_public_key: String,
        fingerprint: String,
    },
}

/// Takes `encryption` out of a destination object (or out of its `{"destination": …}`
/// wrapper) and checks it as of `now` (ms), so the rest is parsed as before.
pub fn take(object: &mut Value, now: i64) -> Result<Given, Problem> {
    let wrapped = object
        .as_object()
        .is_some_and(|o| o.len() == 1 && o.contains_key("destination"));
    let target = if wrapped {
        object.get_mut("destination")
    } else {
        Some(object)
    };
    let Some(given) = target
        .and_then(Value::as_object_mut)
        .and_then(|o| o.remove(FIELD))
    else {
        return Ok(Given::Absent);
    };
    let armored = match &given {
        Value::Null => return Ok(Given::Removed),
        Value::Object(o) if o.keys().all(|k| k == "pgp_public_key") => {
            o.get("pgp_public_key").and_then(Value::as_str)
        }
        _ => None,
    };
    let armored = armored.ok_or_else(|| {
        Problem::new(
            ErrorCode::InvalidEncryptionKey,
            "a destination's `encryption` is {\"pgp_public_key\": \"-----BEGIN PGP PUBLIC KEY \
             BLOCK-----…\"} (or null, to remove the key)",
        )
    })?;
    let checked = check_key(armored, now, "encryption.pgp_public_key")?;
    Ok(Given::Key {
        pgp_public_key: checked.pgp_public_key,
        fingerprint: checked.fingerprint,
    })
}

/// Keeps `key` with the public settings (or none when `key` is `None`).
pub fn keep(public: &mut Map<String, Value>, key: Option<(String, String)>) {
    match key {
        Some((pgp_public_key, fingerprint)) => {
            public.insert(
                FIELD.into(),
                json!({"pgp_public_key": pgp_public_key, "fingerprint": fingerprint}),
            );
        }
        None => {
            public.remove(FIELD);
        }
    }
}

/// The stored key and its fingerprint, from the public settings.
pub fn current(public: &Map<String, Value>) -> Option<(String, String)> {
    let stored = public.get(FIELD)?;
    let key = stored.get("pgp_public_key")?.as_str()?;
    let fingerprint = stored.get("fingerprint")?.as_str()?;
    Some((key.to_string(), fingerprint.to_string()))
}

/// The armored key in a destination's (or a delivery copy's) settings JSON.
pub fn stored(settings: &str) -> Option<String> {
    let public: Map<String, Value> = serde_json::from_str(settings).ok()?;
    current(&public).map(|(key, _)| key)
}

/// The settings as answers show them: the key replaced by its fingerprint.
pub fn shown(public: &mut Map<String, Value>) {
    if let Some((_, fingerprint)) = current(public) {
        public.insert(FIELD.into(), json!({"fingerprint": fingerprint}));
    }
}
