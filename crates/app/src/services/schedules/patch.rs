//! `PATCH /schedules/{id}`: a change of some of a schedule's settings. What the body leaves out
//! keeps its value; the result is checked by [`super::update`] exactly as a new schedule is.

use ferry_domain::export::Include;
use ferry_domain::schedule::{Frequency, Schedule};
use ferry_store::Store;
use serde::{Deserialize, Deserializer};

use super::{ScheduleOptions, find, set_enabled, update};
use crate::clock::Clock;
use crate::error_code::Problem;
use crate::services::Actor;
use crate::services::exports::EncryptionOptions;

/// The settings a `PATCH` may name. `destination_id` and `encryption` take `null` to remove
/// them, so "absent" and "null" differ for those two.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulePatch {
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub frequency: Option<String>,
    #[serde(default)]
    pub include: Option<Include>,
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub destination_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub encryption: Option<Option<EncryptionOptions>>,
    /// Named only to be refused with the reason (a series belongs to one website).
    #[serde(default)]
    pub website_id: Option<String>,
    /// Named only to be refused with the reason (the windows since then ran already).
    #[serde(default)]
    pub starts_on: Option<String>,
}

/// A field that is present, whether `null` or a value: `Some(None)` or `Some(Some(v))`.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

impl SchedulePatch {
    /// Only `enabled`: turning a schedule on or off, audited as such.
    fn is_switch(&self) -> bool {
        self.frequency.is_none()
            && self.include.is_none()
            && self.format.is_none()
            && self.destination_id.is_none()
            && self.encryption.is_none()
            && self.website_id.is_none()
            && self.starts_on.is_none()
    }

    /// The schedule's settings as they are, with this patch's fields over them.
    fn over(self, current: &Schedule) -> ScheduleOptions {
        let frequency = match &current.frequency {
            Frequency::Cron(expr) => expr.clone(),
            other => other.as_str().to_string(),
        };
        let include = current
            .data_types
            .iter()
            .map(|t| t.as_str().to_string())
            .collect();
        let encryption = current
            .encryption
            .as_ref()
            .map(|e| EncryptionOptions::key(e.pgp_public_key.clone()));
        ScheduleOptions {
            website_id: self
                .website_id
                .unwrap_or_else(|| current.website_id.clone()),
            frequency: self.frequency.unwrap_or(frequency),
            include: Some(self.include.unwrap_or(Include::List(include))),
            format: Some(
                self.format
                    .unwrap_or_else(|| current.format.as_str().to_string()),
            ),
            destination_id: self
                .destination_id
                .unwrap_or_else(|| current.destination_id.clone()),
            encryption: self.encryption.unwrap_or(encryption),
            enabled: Some(self.enabled.unwrap_or(current.enabled)),
            starts_on: self.starts_on,
        }
    }
}

pub async fn patch(
    store: &dyn Store,
    clock: &dyn Clock,
    actor: &Actor,
    id: &str,
    change: SchedulePatch,
) -> Result<Schedule, Problem> {
    if change.is_switch() {
        let current = find(store, actor, id).await?;
        return match change.enabled {
            Some(enabled) => set_enabled(store, actor, id, enabled).await,
            None => Ok(current),
        };
    }
    let current = find(store, actor, id).await?;
    update(store, clock, actor, id, change.over(&current)).await
}
