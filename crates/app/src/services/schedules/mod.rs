//! Schedules: creating, editing, turning on and off, deleting (each audited in the same transaction
//! as the change); `runs`: running the next window now, backfilling past windows, and what
//! one run exports.
//!
//! The scheduler itself (which windows are due) is a periodic step of the worker
//! (`jobs::schedule`); a run asks for its export through [`super::exports::request_export`],
//! like every other entry point.

use ferry_domain::export::Include;
use ferry_domain::schedule::{Frequency, NewSchedule, Schedule, ScheduleChange};
use ferry_store::Store;
use serde::Deserialize;
use serde_json::json;

use super::Actor;
use super::exports::{EncryptionOptions, validate_day};
use crate::clock::Clock;
use crate::error_code::{ErrorCode, Problem};
use crate::keys::random_id;

mod patch;
mod runs;
pub use patch::{SchedulePatch, patch};
pub use runs::{backfill, run_job, run_now, run_options};

/// `POST /schedules`: what a schedule may set.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleOptions {
    pub website_id: String,
    /// `daily`, `weekly`, `monthly`, or a cron expression (`0 0 …`).
    pub frequency: String,
    #[serde(default)]
    pub include: Option<Include>,
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub destination_id: Option<String>,
    #[serde(default)]
    pub encryption: Option<EncryptionOptions>,
    #[serde(default)]
    pub enabled: Option<bool>,
    /// The first window's first day (default: today in the website's time zone).
    #[serde(default)]
    pub starts_on: Option<String>,
}

/// A schedule's settings, checked as a run's export will be: what `create` and `update` share.
struct Checked {
    frequency: Frequency,
    spec: ferry_domain::job::ExportSpec,
    website: ferry_domain::Website,
}

async fn check(
    store: &dyn Store,
    clock: &dyn Clock,
    account: ferry_domain::AccountId,
    o: &ScheduleOptions,
) -> Result<Checked, Problem> {
    let frequency =
        Frequency::parse(&o.frequency).map_err(|m| Problem::new(ErrorCode::InvalidFrequency, m))?;
    if o.encryption
        .as_ref()
        .is_some_and(EncryptionOptions::opts_out)
    {
        // Every run would leave unencrypted with nobody asking at the time: opting out of the
        // stored keys is for one export at a time.
        return Err(Problem::new(
            ErrorCode::InvalidEncryptionKey,
            "a schedule cannot opt out of encryption: give it a pgp_public_key, or leave \
             `encryption` out to use its destination's key, then the account's",
        ));
    }
    // The export's own checks, on the options a run will send.
    let probe = super::exports::ExportOptions {
        format: o.format.clone(),
        include: o.include.clone(),
        website_id: Some(o.website_id.clone()),
        encryption: o.encryption.clone(),
        ..Default::default()
    };
    let spec =
        super::exports::to_spec(None, probe, super::exports::DEFAULT_EXPIRES_IN, clock.now())?;
    let Some(website) = store.website(account, &o.website_id).await? else {
        return Err(Problem::website_not_found(&o.website_id));
    };
    // Another account's destination is not found either, as for every other look-up.
    if let Some(id) = &o.destination_id
        && store.destination(account, id).await?.is_none()
    {
        return Err(super::destinations::not_found(id));
    }
    Ok(Checked {
        frequency,
        spec,
        website,
    })
}

fn details(s: &Schedule) -> serde_json::Value {
    json!({
        "schedule_id": s.id,
        "website_id": s.website_id,
        "frequency": s.frequency.as_str(),
        "format": s.format.as_str(),
        "destination_id": s.destination_id,
        "encrypted_to": s.encryption.as_ref().map(|e| &e.fingerprint),
        "enabled": s.enabled,
        "starts_on": s.starts_on,
    })
}

pub async fn create(
    store: &dyn Store,
    clock: &dyn Clock,
    actor: &Actor,
    o: ScheduleOptions,
) -> Result<Schedule, Problem> {
    let account = actor.account();
    let Checked {
        frequency,
        spec,
        website,
    } = check(store, clock, account, &o).await?;
    let today = chrono::DateTime::from_timestamp_millis(clock.now())
        .unwrap_or_default()
        .with_timezone(&website.timezone)
        .date_naive();
    let starts_on = validate_day("starts_on", o.starts_on.as_deref())?.unwrap_or(today);
    let schedule = NewSchedule {
        id: random_id("sch_", 8),
        website_id: o.website_id,
        frequency,
        data_types: spec.data_types,
        format: spec.format,
        destination_id: o.destination_id,
        encryption: spec.encryption,
        enabled: o.enabled.unwrap_or(true),
        starts_on,
    };
    let details = json!({
        "schedule_id": schedule.id,
        "website_id": schedule.website_id,
        "frequency": schedule.frequency.as_str(),
        "format": schedule.format.as_str(),
        "destination_id": schedule.destination_id,
        "encrypted_to": schedule.encryption.as_ref().map(|e| &e.fingerprint),
        "enabled": schedule.enabled,
        "starts_on": schedule.starts_on,
    });
    let entry = crate::audit::event(actor.audit_name(), "schedule.created", details);
    let created = store
        .create_schedule(account, schedule, entry, clock.now())
        .await?;
    tracing::info!(schedule.id = %created.id, "schedule created");
    Ok(created)
}

/// Changes a schedule's frequency, data types, format, destination, encryption and whether
/// it runs, with the same checks as `create`. Its website and first day stay (a series
/// belongs to one website; the windows that ran stay as they ran): `o` must name the same
/// website, and `starts_on` is refused.
pub async fn update(
    store: &dyn Store,
    clock: &dyn Clock,
    actor: &Actor,
    id: &str,
    o: ScheduleOptions,
) -> Result<Schedule, Problem> {
    let account = actor.account();
    let current = find(store, actor, id).await?;
    if o.website_id != current.website_id {
        return Err(Problem::new(
            ErrorCode::InvalidWebsite,
            format!(
                "a schedule's website cannot change (it is {}): make a new schedule for another website",
                current.website_id
            ),
        ));
    }
    if o.starts_on.is_some() {
        return Err(Problem::new(
            ErrorCode::InvalidDateRange,
            "a schedule's first day cannot change: its windows since then ran already",
        ));
    }
    let Checked {
        frequency, spec, ..
    } = check(store, clock, account, &o).await?;
    let change = ScheduleChange {
        frequency,
        data_types: spec.data_types,
        format: spec.format,
        destination_id: o.destination_id,
        encryption: spec.encryption,
        enabled: o.enabled.unwrap_or(current.enabled),
    };
    let mut after = current.clone();
    after.frequency = change.frequency.clone();
    after.data_types = change.data_types.clone();
    after.format = change.format;
    after.destination_id = change.destination_id.clone();
    after.encryption = change.encryption.clone();
    after.enabled = change.enabled;
    let entry = crate::audit::event(actor.audit_name(), "schedule.updated", details(&after));
    let updated = store
        .update_schedule(account, id, change, entry)
        .await?
        .ok_or_else(|| not_found(id))?;
    tracing::info!(schedule.id = %updated.id, "schedule updated");
    Ok(updated)
}

pub async fn set_enabled(
    store: &dyn Store,
    actor: &Actor,
    id: &str,
    enabled: bool,
) -> Result<Schedule, Problem> {
    let action = if enabled {
        "schedule.enabled"
    } else {
        "schedule.disabled"
    };
    let entry = crate::audit::event(actor.audit_name(), action, json!({"schedule_id": id}));
    store
        .set_schedule_enabled(actor.account(), id, enabled, entry)
        .await?
        .ok_or_else(|| not_found(id))
}

pub async fn delete(store: &dyn Store, actor: &Actor, id: &str) -> Result<(), Problem> {
    let entry = crate::audit::event(
        actor.audit_name(),
        "schedule.deleted",
        json!({"schedule_id": id}),
    );
    match store.delete_schedule(actor.account(), id, entry).await? {
        true => Ok(()),
        false => Err(not_found(id)),
    }
}

pub async fn find(store: &dyn Store, actor: &Actor, id: &str) -> Result<Schedule, Problem> {
    store
        .schedule(actor.account(), id)
        .await?
        .ok_or_else(|| not_found(id))
}

fn not_found(id: &str) -> Problem {
    Problem::new(
        ErrorCode::ScheduleNotFound,
        format!(
            "no schedule `{id}` in this account: list them with GET /api/external/v1/schedules"
        ),
    )
}
