//! The subject's own way in: a request asked for on the privacy page (`/privacy/{account}`).
//!
//! - [`submit`] receives it and queues its verification mail in one write, whatever the
//!   address: Ferry does not look the email up among the people it holds, so a request for an
//!   address it knows and one it does not take the same path, the same work and the same
//!   answer. One with no data ends as any other does: staff's `fulfil` finds nobody
//!   (`subject_not_found`) and they reject it with that reason, which the subject's status
//!   page shows.
//! - The page names a request to the subject only through tokens derived with the server's
//!   secret: a *ticket* (enter the mailed code for this request) and a *status token* (follow
//!   it, after verification). Each is the request id and a keyed MAC of the account and the
//!   id, so nothing is stored for them, a database copy cannot make one, and neither can be
//!   made for another request or reused under another account's page.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ferry_domain::AccountId;
use ferry_domain::request::{Request, RequestAction};
use ferry_store::{Created, Store};
use serde_json::json;

use super::verification::issue;
use super::{NewRequest, next_status, prepare};
use crate::clock::Clock;
use crate::error_code::{ErrorCode, Problem};
use crate::links::LinkSigner;
use crate::services::Actor;

/// The longest message a subject may add.
pub const MAX_MESSAGE: usize = 2_000;

/// What the subject typed.
#[derive(Debug, Clone)]
pub struct Ask {
    pub kind: String,
    pub email: String,
    pub message: Option<String>,
}

/// Receives the request (source `privacy_page`, actor `subject`) with its code and link
/// already issued, so the request, its two steps and the mail job commit together.
pub async fn submit(
    store: &dyn Store,
    clock: &dyn Clock,
    links: &LinkSigner,
    account: AccountId,
    ask: Ask,
) -> Result<Request, Problem> {
    let actor = Actor::Subject { account };
    let now = clock.now();
    if ask
        .message
        .as_ref()
        .is_some_and(|m| m.chars().count() > MAX_MESSAGE)
    {
        return Err(Problem::new(
            ErrorCode::InvalidValue,
            format!("the message is at most {MAX_MESSAGE} characters"),
        ));
    }
    let settings = store.request_settings(account).await?;
    let body = NewRequest {
        kind: ask.kind,
        subject_email: ask.email,
        user_id: None,
        visitor_id: None,
        received_at: None,
        assignee: None,
        // The subject's words stay on the request (staff read them, erasure removes them),
        // never in the append-only audit trail.
        notes: ask
            .message
            .map(|m| m.trim().to_string())
            .filter(|m| !m.is_empty())
            .map(|m| format!("From the privacy page: {m}")),
        external_ref: None,
    };
    let (mut request, mut change) = prepare(&actor, body, &settings, now)?;
    for step in &mut change.steps {
        step.details["source"] = json!("privacy_page");
    }
    for entry in &mut change.audit {
        entry.details["source"] = json!("privacy_page");
    }
    request.status = next_status(&request, RequestAction::SendVerification)?;
    let sent = issue(links, actor.audit_name(), &mut request, now);
    change.steps.extend(sent.steps);
    change.audit.extend(sent.audit);
    change.jobs.extend(sent.jobs);
    match store.create_request(account, request, change, now).await? {
        Created::New(created) | Created::Existing(created) => {
            tracing::info!(request.id = %created.id, linked = created.linked_to.is_some(), "request received from the privacy page");
            Ok(created)
        }
    }
}

const TICKET: &str = "privacy-ticket";
const STATUS: &str = "privacy-status";

fn token(links: &LinkSigner, purpose: &str, account: AccountId, request_id: &str) -> String {
    let mac = links.derive(purpose, &format!("{}:{request_id}", account.0));
    format!("{request_id}.{}", URL_SAFE_NO_PAD.encode(mac))
}

/// The request id a token names, if Ferry made it for this purpose and account.
fn opened(links: &LinkSigner, purpose: &str, account: AccountId, token: &str) -> Option<String> {
    let (id, mac) = token.split_once('.').filter(|_| token.len() <= 120)?;
    let mac = URL_SAFE_NO_PAD.decode(mac).ok()?;
    let input = format!("{}:{id}", account.0);
    links
        .derived_matches(purpose, &input, &mac)
        .then(|| id.to_string())
}

/// The code form's hidden field: which request the typed code is for.
pub fn ticket(links: &LinkSigner, account: AccountId, request_id: &str) -> String {
    token(links, TICKET, account, request_id)
}

pub fn ticket_request(links: &LinkSigner, account: AccountId, ticket: &str) -> Option<String> {
    opened(links, TICKET, account, ticket)
}

/// The status page's token, given once the subject proved their address.
pub fn status_token(links: &LinkSigner, account: AccountId, request_id: &str) -> String {
    token(links, STATUS, account, request_id)
}

pub fn status_request(links: &LinkSigner, account: AccountId, token: &str) -> Option<String> {
    opened(links, STATUS, account, token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_open_only_for_their_purpose_account_and_request() {
        let dir = tempfile::tempdir().unwrap();
        let links = LinkSigner::load(dir.path()).unwrap();
        let (a, b) = (AccountId(1), AccountId(2));
        let t = status_token(&links, a, "req_abc");
        assert_eq!(status_request(&links, a, &t).as_deref(), Some("req_abc"));
        assert_eq!(status_request(&links, b, &t), None, "another account");
        assert_eq!(ticket_request(&links, a, &t), None, "another purpose");
        let forged = t.replacen("req_abc", "req_abd", 1);
        assert_eq!(status_request(&links, a, &forged), None, "another request");
        assert_eq!(status_request(&links, a, "req_abc"), None);
        assert_eq!(status_request(&links, a, ""), None);
    }
}
