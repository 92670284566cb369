//! The queue of an account's requests, filtered as `GET /requests` and the dashboard's
//! Requests page both list it: by status, and by deadline (due on or before a day, overdue),
//! each with its due date as it stands today. One function, so both show the same requests.

use chrono::NaiveDate;
use ferry_domain::request::{Request, RequestSettings, RequestStatus};
use ferry_store::Store;

use super::day_of;
use super::deadlines::{Due, due};
use crate::clock::Clock;
use crate::error_code::Problem;
use crate::services::Actor;

/// What to list. The deadline filters (`due_before`, `overdue`) list only requests that
/// still owe an answer, soonest due first; without them, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<RequestStatus>,
    /// Due on or before this day.
    pub due_before: Option<NaiveDate>,
    pub overdue: Option<bool>,
}

/// The account's requests matching `filter`, each with its deadline today, and the
/// settings they were measured under (the escalation days say what is "due soon").
pub async fn list(
    store: &dyn Store,
    clock: &dyn Clock,
    actor: &Actor,
    filter: &Filter,
) -> Result<(Vec<(Due, Request)>, RequestSettings), Problem> {
    let settings = store.request_settings(actor.account()).await?;
    let today = day_of(clock.now());
    let deadline_filter = filter.due_before.is_some() || filter.overdue.is_some();
    let mut matching: Vec<_> = store
        .requests(actor.account(), filter.status)
        .await?
        .into_iter()
        .map(|r| (due(&r, &settings, today), r))
        .filter(|(due, r)| {
            (!deadline_filter || r.status.awaits_answer())
                && filter.due_before.is_none_or(|d| due.due_on <= d)
                && filter.overdue.is_none_or(|o| due.overdue == o)
        })
        .collect();
    if deadline_filter {
        matching.sort_by_key(|(due, _)| due.due_on);
    }
    Ok((matching, settings))
}
