//! Answering an access (Art. 15) or portability (Art. 20) request with the subject's data.
//!
//! - `POST …/fulfil` on a verified request asks for the subject's exports through the same
//!   export service as every other entry point (`services::exports::request_export`): one
//!   JSON export in a ZIP (with `report.html`, the Art. 15 answer) for access; JSON and a ZIP
//!   of CSV files for portability. The subject is the
//!   verified email (what the subject proved), never a user or visitor id given beside it.
//! - When the account requires approval, `fulfil` only records what was asked for and stops
//!   at `awaiting_approval`; `POST …/approve` (an `admin` key: a person, not the integration
//!   that files requests) generates the exports then.
//! - The worker mails the subject once every export has completed (`jobs::request_delivery`)
//!   and the request is `delivered`; the mail's "I received it" link ([`receipt_token`]) lets
//!   the subject confirm, which makes it `confirmed`.
//!
//! Erasure requests take the same entry: `fulfil` hands them to [`super::erasure`].

use ferry_domain::export::SubjectRef;
use ferry_domain::request::{Fulfilment, Request, RequestAction, RequestStatus, RequestType};
use ferry_store::Store;
use serde::Deserialize;
use serde_json::json;

use super::{find, next_status, reason, recorded, save};
use crate::clock::Clock;
use crate::error_code::{ErrorCode, Problem};
use crate::links::LinkSigner;
use crate::services::Actor;
use crate::services::exports::{EncryptionOptions, ExportOptions, check_key, request_export};

/// `POST /requests/{id}/fulfil`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FulfilBody {
    /// Each download link works once.
    #[serde(default)]
    pub one_time: Option<bool>,
    /// `{"pgp_public_key": "…"}` (the subject's key), or `{"none": true}`; without it the
    /// account's stored key applies, as for any export.
    #[serde(default)]
    pub encryption: Option<EncryptionOptions>,
    /// Erasure requests: export the person's data (as for an access request) and erase once
    /// that export completed.
    #[serde(default)]
    pub export_first: Option<bool>,
}

fn refused(message: impl Into<String>) -> Problem {
    Problem::new(ErrorCode::IllegalTransition, message)
}

/// What `body` asks for, checked before anything is recorded.
fn options(body: FulfilBody, now: i64) -> Result<Fulfilment, Problem> {
    let mut f = Fulfilment {
        one_time: body.one_time.unwrap_or(false),
        ..Fulfilment::default()
    };
    match body.encryption {
        None => {}
        Some(e) if e.opts_out() => f.no_encryption = true,
        Some(EncryptionOptions {
            pgp_public_key: Some(key),
            none: None,
        }) => {
            check_key(&key, now, "pgp_public_key")?;
            f.pgp_public_key = Some(key);
        }
        Some(_) => {
            return Err(Problem::new(
                ErrorCode::InvalidEncryptionKey,
                "`encryption` is {\"pgp_public_key\": \"-----BEGIN PGP PUBLIC KEY BLOCK-----…\"} \
                 or {\"none\": true}",
            ));
        }
    }
    Ok(f)
}

/// `POST /requests/{id}/fulfil`: the exports now, or `awaiting_approval` when the account
/// requires it.
pub async fn fulfil(
    store: &dyn Store,
    clock: &dyn Clock,
    actor: &Actor,
    id: &str,
    body: FulfilBody,
) -> Result<Request, Problem> {
    let mut request = find(store, actor, id).await?;
    if request.kind == RequestType::Erasure {
        let export_first = body.export_first.unwrap_or(false);
        let mut asked = options(body, clock.now())?;
        asked.export_first = export_first;
        return super::erasure::fulfil(store, clock, actor, request, asked).await;
    }
    if body.export_first.is_some() {
        return Err(Problem::new(
            ErrorCode::UnknownField,
            format!(
                "`export_first` applies to erasure requests; request `{id}` is an {} request, \
                 answered with an export anyway",
                request.kind.as_str()
            ),
        ));
    }
    next_status(&request, RequestAction::Fulfil)?;
    if !request.fulfilment.export_ids.is_empty()
        && !any_ended_unanswered(store, actor, &request).await?
    {
        return Err(refused(format!(
            "request `{id}` is being fulfilled already (exports {}): follow them with GET /exports/{{id}}",
            request.fulfilment.export_ids.join(", ")
        )));
    }
    let now = clock.now();
    request.fulfilment = options(body, now)?;
    let settings = store.request_settings(actor.account()).await?;
    if settings.require_approval {
        request.status = RequestStatus::AwaitingApproval;
        let details = asked(&request.fulfilment);
        let change = recorded(
            actor.audit_name(),
            "approval_requested",
            &request,
            details,
            now,
        );
        let saved = save(store, actor, request, change, now).await?;
        tracing::info!(request.id = %saved.id, "request awaits approval");
        return Ok(saved);
    }
    generate(store, clock, actor, request, "fulfilment_started", None).await
}

/// `POST /requests/{id}/approve`: generates what `fulfil` asked for.
pub async fn approve(
    store: &dyn Store,
    clock: &dyn Clock,
    actor: &Actor,
    id: &str,
    why: Option<String>,
) -> Result<Request, Problem> {
    let request = find(store, actor, id).await?;
    next_status(&request, RequestAction::Approve)?;
    let why = reason(why, false)?;
    if request.kind == RequestType::Erasure {
        return super::erasure::start(store, clock, actor, request, "approved", why).await;
    }
    generate(store, clock, actor, request, "approved", why).await
}

fn asked(f: &Fulfilment) -> serde_json::Value {
    let encryption = if f.no_encryption {
        "none"
    } else if f.pgp_public_key.is_some() {
        "subject_key"
    } else {
        "account_default"
    };
    json!({"one_time": f.one_time, "encryption": encryption})
}

/// The receipts' `requested_by`: who asked, and for which request.
fn on_behalf(actor: &Actor, request_id: &str) -> Actor {
    match actor {
        Actor::Key { account, id, name } => Actor::Key {
            account: *account,
            id: id.clone(),
            name: Some(format!(
                "{} (data-subject request {request_id})",
                name.as_deref().unwrap_or(id)
            )),
        },
        other => other.clone(),
    }
}

/// Asks for the request's exports and records them with the step, moving it `in_progress`.
/// An export refused midway (the daily limit) cancels those already queued.
pub(super) async fn generate(
    store: &dyn Store,
    clock: &dyn Clock,
    actor: &Actor,
    mut request: Request,
    step: &str,
    why: Option<String>,
) -> Result<Request, Problem> {
    let settings = store.request_settings(actor.account()).await?;
    let formats: &[&str] = match request.kind {
        RequestType::Portability => &["json", "csv"],
        _ => &["json"],
    };
    let exporter = on_behalf(actor, &request.id);
    let f = request.fulfilment.clone();
    let mut ids = Vec::new();
    for format in formats {
        let encryption = if f.no_encryption {
            Some(EncryptionOptions {
                pgp_public_key: None,
                none: Some(true),
            })
        } else {
            f.pgp_public_key.clone().map(EncryptionOptions::key)
        };
        let (subject, website_id) = match (&request.visitor_id, request.visitor_only()) {
            // By visitor id alone: that visitor's own rows on its website, nothing linked.
            (Some(v), true) => (
                SubjectRef::VisitorOnly(v.clone()),
                request.subject_website_id.clone(),
            ),
            _ => (SubjectRef::Email(request.subject_email.clone()), None),
        };
        let options = ExportOptions {
            format: Some(format.to_string()),
            one_time: Some(f.one_time),
            expires_in: Some(u64::from(settings.delivery_link_days) * 86_400),
            // A package, so that it carries the Art. 15 answer (`report.html`, the README's
            // section) beside the rows: the access export, and portability's CSV one.
            zip: Some(*format == "csv" || request.kind == RequestType::Access),
            encryption,
            website_id,
            ..ExportOptions::default()
        };
        match request_export(store, clock, &exporter, Some(subject), options).await {
            Ok(queued) => ids.push(queued.job.id),
            Err(problem) => {
                cancel(store, clock, actor, &ids).await;
                return Err(match problem.code {
                    ErrorCode::SubjectNotFound => Problem::new(
                        ErrorCode::SubjectNotFound,
                        format!(
                            "this account holds no data about the subject of request `{}`: there \
                             is nothing to export. Tell them so, and close the request by \
                             rejecting it with that reason (POST …/reject)",
                            request.id
                        ),
                    ),
                    _ => problem,
                });
            }
        }
    }
    let now = clock.now();
    // `fulfil` and `approve` both lead here (each checked its own move first).
    request.status = RequestStatus::InProgress;
    request.fulfilment.export_ids = ids.clone();
    let mut details = asked(&f);
    details["export_ids"] = json!(ids);
    details["formats"] = json!(formats);
    if let Some(why) = why {
        details["reason"] = json!(why);
    }
    let change = recorded(actor.audit_name(), step, &request, details, now);
    match save(store, actor, request, change, now).await {
        Ok(saved) => {
            tracing::info!(request.id = %saved.id, exports = ids.len(), "request fulfilment started");
            Ok(saved)
        }
        Err(problem) => {
            // Changed meanwhile: its exports would answer nobody.
            cancel(store, clock, actor, &ids).await;
            Err(problem)
        }
    }
}

async fn cancel(store: &dyn Store, clock: &dyn Clock, actor: &Actor, ids: &[String]) {
    for id in ids {
        if let Err(e) = store.cancel_export(actor.account(), id, clock.now()).await {
            tracing::error!(error = %e, export.id = %id, "cannot cancel an unneeded export");
        }
    }
}

/// Whether an export of the request failed, was cancelled or expired before delivery:
/// then `fulfil` asks for new ones (the old ones can answer nobody).
async fn any_ended_unanswered(
    store: &dyn Store,
    actor: &Actor,
    request: &Request,
) -> Result<bool, Problem> {
    use ferry_domain::job::ExportStatus as E;
    for id in &request.fulfilment.export_ids {
        let job = store.export_job(actor.account(), id).await?;
        if job.is_none_or(|j| matches!(j.status, E::Failed | E::Cancelled | E::Expired)) {
            return Ok(true);
        }
    }
    Ok(false)
}

const RECEIPT: &str = "request-received";

/// The "I received it" link's token: the request id and a keyed MAC of it, so the link
/// needs nothing stored and cannot be made for another request.
pub fn receipt_token(links: &LinkSigner, request_id: &str) -> String {
    let mac = links.derive(RECEIPT, request_id);
    format!(
        "{request_id}.{}",
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, mac)
    )
}

/// What the receipt page may say about a token: nothing about one Ferry did not send.
pub enum ReceiptLink {
    /// Not a token Ferry made, or its request is not delivered (any more).
    Invalid,
    Confirmable {
        account: ferry_domain::AccountId,
        request_id: String,
    },
    /// Confirmed before.
    Done,
}

/// Looks the token up; changes nothing (mail scanners fetch links).
pub async fn receipt_link(
    store: &dyn Store,
    links: &LinkSigner,
    token: &str,
) -> Result<ReceiptLink, Problem> {
    let Some((id, mac)) = token.rsplit_once('.').filter(|_| token.len() <= 200) else {
        return Ok(ReceiptLink::Invalid);
    };
    let Ok(mac) = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, mac)
    else {
        return Ok(ReceiptLink::Invalid);
    };
    if !links.derived_matches(RECEIPT, id, &mac) {
        return Ok(ReceiptLink::Invalid);
    }
    let Some((account, request)) = store.request_any(id).await? else {
        return Ok(ReceiptLink::Invalid);
    };
    Ok(match request.status {
        RequestStatus::Delivered => ReceiptLink::Confirmable {
            account,
            request_id: request.id,
        },
        RequestStatus::Confirmed => ReceiptLink::Done,
        _ => ReceiptLink::Invalid,
    })
}

/// The subject pressed "I received it".
pub async fn confirm_receipt(
    store: &dyn Store,
    clock: &dyn Clock,
    account: ferry_domain::AccountId,
    request_id: &str,
) -> Result<Request, Problem> {
    let actor = Actor::Subject { account };
    super::advance(
        store,
        clock,
        &actor,
        request_id,
        RequestAction::Confirm,
        json!({"via": "email_link"}),
    )
    .await
}
