//! A request by visitor id alone, from the privacy page in the browser whose tracker holds the
//! id (`ferry.privacy()` posts it there). There is no email to verify: the evidence is
//! possession of the id (`visitor_id_possession`), so the request is `verified` at once. It is
//! weak evidence — it proves "this browser", not "this person" — so such a request:
//!
//! - is for access or portability only (erasure needs a verified email);
//! - is answered with that visitor's own rows on that website (`SubjectRef::VisitorOnly`),
//!   never the profile an identify linked the visitor to;
//! - is never mailed: the subject's status page shows the download links;
//! - is never linked to another request (there is no email to link by).
//!
//! Ferry does not look the visitor id up when it takes the request: a made-up one gets a
//! request like any other, which ends as one for an unknown email does.

use ferry_domain::AccountId;
use ferry_domain::request::{Request, RequestAction, RequestType, VISITOR_ID_POSSESSION};
use ferry_store::{Created, Store};
use serde_json::json;

use super::{NewRequest, build, next_status, recorded};
use crate::clock::Clock;
use crate::error_code::{ErrorCode, Problem};
use crate::services::Actor;

/// The longest visitor id taken (a UUID is 36; older trackers made shorter ones).
pub const MAX_VISITOR_ID: usize = 64;
/// The longest website id taken.
pub const MAX_WEBSITE_ID: usize = 64;

/// Whether `id` looks like a tracker's visitor id or a website id: 8 to `max` characters of
/// letters, digits, `-` and `_`.
pub fn well_formed(id: &str, max: usize) -> bool {
    (8..=max).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What the browser's page asked for.
#[derive(Debug, Clone)]
pub struct Ask {
    pub kind: String,
    pub visitor_id: String,
    pub website_id: String,
}

/// Receives the request (source `privacy_page`, actor `subject`) verified by
/// `visitor_id_possession`: its `received` and `verified` steps commit together.
pub async fn submit(
    store: &dyn Store,
    clock: &dyn Clock,
    account: AccountId,
    ask: Ask,
) -> Result<Request, Problem> {
    let kind = match RequestType::parse(&ask.kind) {
        Some(k @ (RequestType::Access | RequestType::Portability)) => k,
        _ => {
            return Err(Problem::new(
                ErrorCode::InvalidValue,
                "a request by visitor id alone is `access` or `portability`",
            ));
        }
    };
    if !well_formed(&ask.visitor_id, MAX_VISITOR_ID)
        || !well_formed(&ask.website_id, MAX_WEBSITE_ID)
    {
        return Err(Problem::new(
            ErrorCode::InvalidValue,
            "the visitor id or website id is not one a tracker makes",
        ));
    }
    let actor = Actor::Subject { account };
    let now = clock.now();
    let settings = store.request_settings(account).await?;
    let body = NewRequest {
        kind: kind.as_str().into(),
        subject_email: String::new(),
        user_id: None,
        visitor_id: Some(ask.visitor_id),
        received_at: None,
        assignee: None,
        notes: None,
        external_ref: None,
    };
    let (mut request, mut change) = build(&actor, kind, String::new(), body, &settings, now)?;
    request.subject_website_id = Some(ask.website_id.clone());
    for step in &mut change.steps {
        step.details["source"] = json!("privacy_page");
        step.details["website_id"] = json!(ask.website_id);
    }
    for entry in &mut change.audit {
        entry.details["source"] = json!("privacy_page");
        entry.details["website_id"] = json!(ask.website_id);
    }
    // Nothing to wait for: the deadline runs from now, as for a request verified at once.
    request.status = next_status(&request, RequestAction::Verify)?;
    request.verification.method = Some(VISITOR_ID_POSSESSION.into());
    request.verification.verified_at = Some(now);
    let details = json!({
        "method": VISITOR_ID_POSSESSION,
        "attempts": 0,
        "paused_days": 0,
        "due_on": request.due_on,
    });
    let verified = recorded(actor.audit_name(), "verified", &request, details, now);
    change.steps.extend(verified.steps);
    change.audit.extend(verified.audit);
    match store.create_request(account, request, change, now).await? {
        Created::New(created) | Created::Existing(created) => {
            tracing::info!(request.id = %created.id, "request by visitor id received from the privacy page");
            Ok(created)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_for_form_and_length() {
        assert!(well_formed(
            "0b0e2f1c-7a4d-4c53-9a57-3f1f7e0c9d11",
            MAX_VISITOR_ID
        ));
        assert!(well_formed("web_demo01", MAX_WEBSITE_ID));
        assert!(!well_formed("short", MAX_VISITOR_ID));
        assert!(!well_formed(
            &"a".repeat(MAX_VISITOR_ID + 1),
            MAX_VISITOR_ID
        ));
        assert!(!well_formed("0b0e2f1c 7a4d", MAX_VISITOR_ID));
        assert!(!well_formed("0b0e2f1c<script>", MAX_VISITOR_ID));
    }
}
