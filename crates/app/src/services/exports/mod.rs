//! Asking for an export, from any entry point: the request's checks, the plan's daily limit,
//! and the export, its queue job and its `data_export.requested` audit entry created in one
//! transaction; and cancelling or deleting one (`delete`).

mod delete;
mod validate;

pub use delete::{delete_export, not_found as export_not_found};

pub use validate::{
    DEFAULT_EXPIRES_IN, EncryptionOptions, ExportOptions, MIN_PART_SIZE, check_key,
    day as validate_day, to_spec,
};

use ferry_domain::export::SubjectRef;
use ferry_domain::job::{ExportJob, ExportSpec, NewExport};
use ferry_store::{Queued, Store};
use serde_json::json;

use super::Actor;
use crate::clock::Clock;
use crate::error_code::{ErrorCode, Problem};
use crate::keys::random_id;

/// A queued export, and the caller's daily allowance after it.
pub struct Requested {
    pub job: ExportJob,
    /// `(limit, remaining)` when the account has a daily limit.
    pub allowance: Option<(u32, u32)>,
}

/// Checks `options` for an export of `subject` (`None`: a bulk export of a website) and
/// queues it.
pub async fn request_export(
    store: &dyn Store,
    clock: &dyn Clock,
    actor: &Actor,
    subject: Option<SubjectRef>,
    mut options: ExportOptions,
) -> Result<Requested, Problem> {
    let account = actor.account();
    if let Some(id) = &options.export_id
        && let Some((owner, job)) = store.export_job_any(id).await?
    {
        if owner != account {
            return Err(Problem::new(
                ErrorCode::Conflict,
                format!("export id `{id}` is taken"),
            ));
        }
        // Asked before (a retried run that had queued it before it stopped): the same export.
        return Ok(Requested {
            job,
            allowance: None,
        });
    }
    let chosen_id = options.export_id.take();
    let delivery = options.delivery.take();
    let sealer = options.sealer.take();
    let opted_out = options
        .encryption
        .as_ref()
        .is_some_and(EncryptionOptions::opts_out);
    let default_expiry = store
        .account(account)
        .await?
        .and_then(|a| a.link_expiry_secs)
        .unwrap_or(DEFAULT_EXPIRES_IN);
    let mut spec = to_spec(subject, options, default_expiry, clock.now())?;
    spec.person = check_target(store, actor, &spec).await?;
    let per_day = if !actor.is_limited() {
        None
    } else {
        store.limits(account).await?.exports_per_day
    };
    let id = chosen_id.unwrap_or_else(|| random_id("exp_", 8));
    let delivery = match &delivery {
        Some(delivery) => {
            let sealer = sealer.as_ref().ok_or_else(|| {
                Problem::new(
                    ErrorCode::Unsupported,
                    "delivery cannot be asked for here: use the API's `delivery`",
                )
            })?;
            let ctx = crate::services::destinations::Ctx {
                store,
                sealer,
                clock,
            };
            Some(crate::services::destinations::delivery_for(&ctx, account, &id, delivery).await?)
        }
        None => None,
    };
    let encryption = crate::services::encryption::choose(
        store,
        account,
        &mut spec,
        opted_out,
        delivery.as_ref(),
        clock.now(),
    )
    .await?;
    let mut details = json!({"format": spec.format, "kind": spec.kind()});
    if !encryption.is_null() {
        details["encryption"] = encryption;
    }
    let entry = crate::audit::export_event(
        actor.audit_name(),
        "data_export.requested",
        &id,
        &spec,
        "ok",
        details,
    );
    // Saved before the export is queued, so the export cannot complete without it.
    if let Some(record) = delivery.clone() {
        store.save_delivery(record).await?;
    }
    let request = NewExport {
        id: id.clone(),
        account,
        spec,
        requested_by: actor.requested_by(),
        per_day,
        operator: actor.is_operator(),
    };
    let queued = store.create_export(request, entry, clock.now()).await;
    if delivery.is_some() && !matches!(queued, Ok(Queued::Created { .. })) {
        // The export will never run: its copy of the destination's credentials goes too.
        if let Err(e) = store.discard_delivery(&id).await {
            tracing::error!(error = %e, export.id = %id, "cannot discard an unqueued export's delivery");
        }
    }
    match queued? {
        Queued::Created { job, remaining } => {
            tracing::info!(export.id = %job.id, actor = actor.log_name(), "export queued");
            Ok(Requested {
                job: *job,
                allowance: per_day.zip(remaining),
            })
        }
        Queued::Limited {
            limit,
            retry_after_secs,
        } => Err(Problem::too_many(
            ErrorCode::ExportLimitReached,
            format!(
                "this account may ask for {limit} exports a day and has used them all in the last 24 hours: \
                 try again in {retry_after_secs} seconds, or raise the limit (a larger plan, or ferry accounts limits)"
            ),
            u64::from(limit),
            retry_after_secs,
        )),
    }
}

/// The person or website the export names must exist in the caller's account. Returns whom
/// the subject resolved to, for the audit trail (`None` for a website).
async fn check_target(
    store: &dyn Store,
    actor: &Actor,
    spec: &ExportSpec,
) -> Result<Option<String>, Problem> {
    let account = actor.account();
    match &spec.subject {
        Some(subject) => {
            let found = store
                .find_subject(account, subject, spec.website_id.as_deref())
                .await?;
            let Some(found) = found else {
                return Err(Problem::new(
                    ErrorCode::SubjectNotFound,
                    format!(
                        "nobody with that {} in this account{}: check the identifier (find people with GET /users?email=)",
                        subject.kind_name(),
                        if spec.website_id.is_some() {
                            " and website"
                        } else {
                            ""
                        }
                    ),
                ));
            };
            Ok(found.person())
        }
        None => {
            let id = spec.website_id.as_deref().unwrap_or_default();
            if store.website(account, id).await?.is_none() {
                return Err(Problem::website_not_found(id));
            }
            Ok(None)
        }
    }
}
