//! `GET/PUT /requests/settings`: the account's deadline rule, holiday calendar, whether the
//! clock runs while a subject is unverified, when to escalate and to whom. A change applies
//! to requests received afterwards (each request keeps the rule and clock setting it was
//! received under); holidays apply whenever a due date is computed.

use chrono::NaiveDate;
use ferry_domain::request::{DueRule, RequestSettings, normalize_email};
use ferry_store::Store;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::clock::Clock;
use crate::error_code::{ErrorCode, Problem};
use crate::services::Actor;

/// Holidays an account may list: ten years of a generous calendar.
pub const MAX_HOLIDAYS: usize = 400;
/// The furthest ahead an escalation may be set, in days.
pub const MAX_ESCALATE_DAYS: u32 = 60;

/// `PUT /requests/settings`: the fields to change; the others keep their values.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    #[serde(default)]
    pub due_rule: Option<String>,
    #[serde(default)]
    pub holidays: Option<Vec<String>>,
    #[serde(default)]
    pub clock_runs_while_unverified: Option<bool>,
    #[serde(default)]
    pub escalate_days: Option<u32>,
    /// `""` removes it.
    #[serde(default)]
    pub privacy_contact: Option<String>,
    /// Fulfilment waits for a person's `POST …/approve`.
    #[serde(default)]
    pub require_approval: Option<bool>,
    /// How long the links mailed to a subject work, in days.
    #[serde(default)]
    pub delivery_link_days: Option<u32>,
    /// Ingest drops lines of people erased while this is on.
    #[serde(default)]
    pub suppress_erased: Option<bool>,
    /// The self-service privacy page takes new requests.
    #[serde(default)]
    pub privacy_page: Option<bool>,
}

/// Links mailed to a subject work at most as long as any export link may (30 days).
pub const MAX_DELIVERY_LINK_DAYS: u32 = 30;

fn invalid(message: impl Into<String>) -> Problem {
    Problem::new(ErrorCode::InvalidValue, message)
}

/// `current` with `body`'s fields, each checked.
pub fn apply(mut current: RequestSettings, body: SettingsBody) -> Result<RequestSettings, Problem> {
    if let Some(rule) = body.due_rule {
        current.due_rule = DueRule::parse(&rule).ok_or_else(|| {
            invalid("`due_rule` is `earlier_of` (default), `thirty_days` or `calendar_month`")
        })?;
    }
    if let Some(days) = body.holidays {
        if days.len() > MAX_HOLIDAYS {
            return Err(invalid(format!(
                "`holidays` lists at most {MAX_HOLIDAYS} days"
            )));
        }
        let mut holidays = days
            .iter()
            .map(|d| d.parse::<NaiveDate>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| invalid("`holidays` is a list of days as YYYY-MM-DD"))?;
        holidays.sort();
        holidays.dedup();
        current.holidays = holidays;
    }
    if let Some(runs) = body.clock_runs_while_unverified {
        current.clock_runs_while_unverified = runs;
    }
    if let Some(days) = body.escalate_days {
        if days > MAX_ESCALATE_DAYS {
            return Err(invalid(format!(
                "`escalate_days` is 0 to {MAX_ESCALATE_DAYS}: how many days before the due date to escalate"
            )));
        }
        current.escalate_days = days;
    }
    if let Some(contact) = body.privacy_contact {
        current.privacy_contact = match contact.trim() {
            "" => None,
            given => Some(normalize_email(given).map_err(|_| {
                invalid(
                    "`privacy_contact` is the email address escalations go to (\"\" removes it)",
                )
            })?),
        };
    }
    if let Some(approval) = body.require_approval {
        current.require_approval = approval;
    }
    if let Some(suppress) = body.suppress_erased {
        current.suppress_erased = suppress;
    }
    if let Some(days) = body.delivery_link_days {
        if !(1..=MAX_DELIVERY_LINK_DAYS).contains(&days) {
            return Err(invalid(format!(
                "`delivery_link_days` is 1 to {MAX_DELIVERY_LINK_DAYS}: how long the links mailed to a subject work"
            )));
        }
        current.delivery_link_days = days;
    }
    if let Some(on) = body.privacy_page {
        current.privacy_page = on;
    }
    Ok(current)
}

pub fn view(s: &RequestSettings) -> Value {
    json!({
        "due_rule": s.due_rule.as_str(),
        "holidays": s.holidays,
        "clock_runs_while_unverified": s.clock_runs_while_unverified,
        "escalate_days": s.escalate_days,
        "privacy_contact": s.privacy_contact,
        "require_approval": s.require_approval,
        "delivery_link_days": s.delivery_link_days,
        "suppress_erased": s.suppress_erased,
        "privacy_page": s.privacy_page,
    })
}

pub async fn change(
    store: &dyn Store,
    clock: &dyn Clock,
    actor: &Actor,
    body: SettingsBody,
) -> Result<RequestSettings, Problem> {
    let current = store.request_settings(actor.account()).await?;
    let changed = apply(current, body)?;
    // The contact's address is not put in the trail; only that one is set.
    let details = json!({
        "due_rule": changed.due_rule.as_str(),
        "holidays": changed.holidays.len(),
        "clock_runs_while_unverified": changed.clock_runs_while_unverified,
        "escalate_days": changed.escalate_days,
        "privacy_contact_set": changed.privacy_contact.is_some(),
        "require_approval": changed.require_approval,
        "delivery_link_days": changed.delivery_link_days,
        "suppress_erased": changed.suppress_erased,
        "privacy_page": changed.privacy_page,
    });
    let entry = crate::audit::event(actor.audit_name(), "request.settings_changed", details);
    store
        .set_request_settings(actor.account(), changed.clone(), entry, clock.now())
        .await?;
    Ok(changed)
}
