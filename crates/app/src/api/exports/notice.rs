//! An export that completed with no rows says why: the days asked for hold no data, and here
//! is where the website's (or the person's) data lies. An empty file alone reads as "nothing
//! was ever recorded", which a data-protection officer must not conclude from a wrong range.

use ferry_domain::AccountId;
use ferry_domain::analytics::{DataSpan, empty_range_notice};
use ferry_domain::export::DataType;
use ferry_domain::job::{ExportJob, ExportStatus};

use crate::api::error::ApiError;
use crate::startup::AppState;

/// The notice for a completed export without data rows; `None` for any other export. Only
/// a completed export with at most one row (a profile) is looked at further, so an ordinary
/// export costs nothing here.
pub async fn empty_export_notice(
    state: &AppState,
    account: AccountId,
    job: &ExportJob,
) -> Result<Option<String>, ApiError> {
    if job.status != ExportStatus::Completed || job.rows_written > 1 {
        return Ok(None);
    }
    let spec = &job.spec;
    let asked = spec.range.in_words();
    let Some(subject) = &spec.subject else {
        let ranged = [
            DataType::Pageviews,
            DataType::Events,
            DataType::Sessions,
            DataType::Visitors,
        ];
        let website_id = spec.website_id.as_deref().unwrap_or_default();
        if job.rows_written > 0 || !spec.data_types.iter().any(|t| ranged.contains(t)) {
            return Ok(None);
        }
        let Some(website) = state.store.website(account, website_id).await? else {
            return Ok(None);
        };
        let span = state.store.activity_span(&website).await?;
        let span = span.map(|(first, last)| DataSpan::of(first, last, website.timezone));
        return Ok(Some(empty_range_notice(&asked, "this website", span)));
    };
    let ranged = [DataType::Pageviews, DataType::Events, DataType::Sessions];
    if !spec.data_types.iter().any(|t| ranged.contains(t)) {
        return Ok(None);
    }
    let found = state
        .store
        .find_subject(account, subject, spec.website_id.as_deref())
        .await?;
    // Erased since: nothing to point to.
    let Some(found) = found else {
        return Ok(None);
    };
    // A profile is one row but not data of the range.
    let profile_rows =
        u64::from(spec.data_types.contains(&DataType::Profile) && found.profile.is_some());
    if job.rows_written > profile_rows {
        return Ok(None);
    }
    let visitors = found.identities.iter().map(|i| i.visitor_key).collect();
    let span = state.store.subject_activity_span(visitors).await?;
    // A person's export counts UTC days.
    let span = span.map(|(first, last)| DataSpan::of(first, last, chrono_tz::UTC));
    Ok(Some(empty_range_notice(&asked, "this person", span)))
}
