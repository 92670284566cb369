//! Checks on single fields of an ingest line, each with a message that says what to fix.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::LineError;
use crate::Millis;

const MAX_PROPERTIES_BYTES: usize = 8 * 1024;
const MAX_PROPERTIES: usize = 64;
/// One person's properties, merged key by key over every identify, as JSON. Each line is held
/// to 8 KiB, but line after line of new keys would grow one profile, and every export of it,
/// without bound.
pub const MAX_USER_PROPERTIES_BYTES: usize = 16 * 1024;
/// Clocks drift; a timestamp further ahead than this is a bug in the sender.
const MAX_FUTURE_MS: Millis = 24 * 3_600_000;
/// 2000-01-01T00:00:00Z: nothing older is web analytics.
const MIN_TIMESTAMP_MS: Millis = 946_684_800_000;

pub(super) fn required(field: &str, value: String, max: usize) -> Result<String, LineError> {
    let value = value.trim().to_string();
    if value.is_empty() {
        return Err(LineError::new(
            "invalid_value",
            format!("`{field}` is empty: give a value"),
        ));
    }
    checked_len(field, value, max)
}

pub(super) fn optional(
    field: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, LineError> {
    match value.map(|v| v.trim().to_string()) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) => checked_len(field, v, max).map(Some),
    }
}

pub(super) fn checked_len(field: &str, value: String, max: usize) -> Result<String, LineError> {
    if value.chars().count() > max {
        return Err(LineError::new(
            "invalid_value",
            format!("`{field}` is longer than {max} characters: shorten it"),
        ));
    }
    Ok(value)
}

pub(super) fn timestamp_field(field: &str, value: &str, now: Millis) -> Result<Millis, LineError> {
    let at = DateTime::parse_from_rfc3339(value)
        .map_err(|_| {
            LineError::new(
                "invalid_timestamp",
                format!("`{field}` is not an RFC 3339 timestamp: use e.g. 2024-05-01T10:00:00Z"),
            )
        })?
        .with_timezone(&Utc)
        .timestamp_millis();
    if at < MIN_TIMESTAMP_MS || at > now + MAX_FUTURE_MS {
        return Err(LineError::new(
            "invalid_timestamp",
            format!(
                "`{field}` is before 2000 or more than a day in the future: check the clock that made it"
            ),
        ));
    }
    Ok(at)
}

pub(super) fn country_field(value: Option<String>) -> Result<Option<String>, LineError> {
    match value.map(|v| v.trim().to_ascii_uppercase()) {
        None => Ok(None),
        Some(v) if v.is_empty() => Ok(None),
        Some(v) if v.len() == 2 && v.bytes().all(|b| b.is_ascii_uppercase()) => Ok(Some(v)),
        Some(_) => Err(LineError::new(
            "invalid_value",
            "`country` must be a two-letter ISO 3166-1 code such as US or DE",
        )),
    }
}

pub(super) fn email_field(value: Option<String>) -> Result<Option<String>, LineError> {
    let Some(email) = optional("email", value, 320)? else {
        return Ok(None);
    };
    let valid = email
        .split_once('@')
        .is_some_and(|(local, host)| !local.is_empty() && host.contains('.'));
    if !valid || email.contains(char::is_whitespace) {
        return Err(LineError::new(
            "invalid_value",
            "`email` is not an email address: use name@example.com",
        ));
    }
    Ok(Some(email))
}

/// The error for an identify whose properties would take a person's over
/// [`MAX_USER_PROPERTIES_BYTES`] once merged.
pub fn user_properties_too_large(merged_bytes: usize) -> LineError {
    LineError::new(
        "invalid_value",
        format!(
            "this user's properties would be {merged_bytes} bytes as JSON once merged with the ones stored, over the {MAX_USER_PROPERTIES_BYTES}-byte limit for one person: overwrite existing keys or send fewer, shorter values"
        ),
    )
}

pub(super) fn properties_field(
    value: Option<Map<String, Value>>,
) -> Result<Map<String, Value>, LineError> {
    let properties = value.unwrap_or_default();
    if properties.len() > MAX_PROPERTIES {
        return Err(LineError::new(
            "invalid_value",
            format!("`properties` has more than {MAX_PROPERTIES} keys: send fewer"),
        ));
    }
    if properties.keys().any(|k| k.is_empty() || k.len() > 128) {
        return Err(LineError::new(
            "invalid_value",
            "every key in `properties` must be 1 to 128 characters",
        ));
    }
    let size = serde_json::to_vec(&properties)
        .map(|v| v.len())
        .unwrap_or(0);
    if size > MAX_PROPERTIES_BYTES {
        return Err(LineError::new(
            "invalid_value",
            format!("`properties` is over {MAX_PROPERTIES_BYTES} bytes as JSON: send less"),
        ));
    }
    Ok(properties)
}
