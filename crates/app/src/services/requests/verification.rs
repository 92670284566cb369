//! Proving the subject's identity: an email to their address with a one-time code and a
//! link. Whoever reads that mailbox is taken to be the subject.
//!
//! - The code (8 digits) and the link's token are derived from a random nonce with the
//!   server's secret (`LinkSigner::derive`); the mail job carries only the nonce, the
//!   request only keyed hashes. A copy of the database can neither read nor test them.
//! - They expire after [`CODE_LIFETIME_MS`]; a new send replaces them.
//! - Codes are compared in constant time. Each wrong code counts; after
//!   [`MAX_VERIFICATION_ATTEMPTS`] the request locks (`verification_locked`) and no code or
//!   link verifies it: reject it, and the subject asks again.
//! - An attempt's outcome is told only once it is counted: attempts racing each other from
//!   one stale copy are refused (409) without a verdict, so racing buys no extra guesses.
//! - While unverified, whether the deadline runs is the request's setting; when it does not,
//!   verification fixes the days it stood still and moves the due date by them.

use ferry_domain::Millis;
use ferry_domain::queue::{JobKind, Lane, NewJob};
use ferry_domain::request::{
    MAX_VERIFICATION_ATTEMPTS, Request, RequestAction, RequestMail, RequestStatus,
};
use ferry_store::{RequestChange, Store};
use serde_json::json;

use super::{day_of, find, next_status, recorded, save};
use crate::clock::Clock;
use crate::error_code::{ErrorCode, Problem};
use crate::keys::random_id;
use crate::links::LinkSigner;
use crate::services::Actor;

/// A code and link work for 24 hours.
pub const CODE_LIFETIME_MS: Millis = 24 * 3_600_000;

const CODE: &str = "request-code";
const TOKEN: &str = "request-token";
const CODE_HASH: &str = "request-code-hash";
const TOKEN_HASH: &str = "request-token-hash";

/// The code and token a nonce stands for.
pub fn secrets(links: &LinkSigner, request_id: &str, nonce: &str) -> (String, String) {
    let input = format!("{request_id}:{nonce}");
    let code_bytes = links.derive(CODE, &input);
    let number = u64::from_be_bytes(code_bytes[..8].try_into().expect("8 bytes")) % 100_000_000;
    let token = links.derive(TOKEN, &input);
    (
        format!("{number:08}"),
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, token),
    )
}

pub fn code_hash(links: &LinkSigner, request_id: &str, code: &str) -> String {
    hex::encode(links.derive(CODE_HASH, &format!("{request_id}:{code}")))
}

pub fn token_hash(links: &LinkSigner, token: &str) -> String {
    hex::encode(links.derive(TOKEN_HASH, token))
}

fn locked(id: &str) -> Problem {
    Problem::new(
        ErrorCode::VerificationLocked,
        format!(
            "request `{id}` is locked after {MAX_VERIFICATION_ATTEMPTS} wrong codes: it can no longer \
             be verified by email. Reject it (POST …/reject) and ask the subject to make a new request"
        ),
    )
}

/// `POST /requests/{id}/verification`: a new code and link, mailed to the subject by a
/// `request_mail` job queued with the change.
pub async fn send(
    store: &dyn Store,
    clock: &dyn Clock,
    links: &LinkSigner,
    actor: &Actor,
    id: &str,
) -> Result<Request, Problem> {
    let mut request = find(store, actor, id).await?;
    if request.verification.locked {
        return Err(locked(id));
    }
    request.status = next_status(&request, RequestAction::SendVerification)?;
    let now = clock.now();
    let change = issue(links, actor.audit_name(), &mut request, now);
    let saved = save(store, actor, request, change, now).await?;
    tracing::info!(request.id = %saved.id, "verification queued");
    Ok(saved)
}

/// Puts a new code and link on `request` (replacing any earlier ones) and returns what records
/// it: the `verification_sent` step and the `request_mail` job that mails them. The caller
/// sets the status and saves both together.
pub fn issue(links: &LinkSigner, actor: &str, request: &mut Request, now: Millis) -> RequestChange {
    let nonce = random_id("", 16);
    let (code, token) = secrets(links, &request.id, &nonce);
    request.verification.code_hash = Some(code_hash(links, &request.id, &code));
    request.verification.token_hash = Some(token_hash(links, &token));
    request.verification.expires_at = Some(now + CODE_LIFETIME_MS);
    request.verification.attempts = 0;
    let details = json!({
        "method": "email",
        "expires_at": ferry_domain::time::rfc3339_millis(now + CODE_LIFETIME_MS),
    });
    let mut change = recorded(actor, "verification_sent", request, details, now);
    change.jobs.push(NewJob {
        unique_key: Some(format!("request:{}:verification:{nonce}", request.id)),
        ..NewJob::now(
            JobKind::RequestMail {
                request_id: request.id.clone(),
                mail: RequestMail::Verification { nonce },
            },
            Lane::Default,
            now,
        )
    });
    change
}

/// How a proof was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof<'a> {
    /// The code, entered by staff the subject told it to (`email_code`).
    Code(&'a str),
    /// The link's token: the subject clicked it and confirmed (`email_link`).
    Link,
    /// The code, typed by the subject on the privacy page (`email_code_privacy_page`).
    PageCode(&'a str),
}

/// `POST /requests/{id}/verify {"code"}`, and the link's confirm button (the token already
/// matched). A wrong code counts an attempt, and the last one locks the request.
pub async fn verify(
    store: &dyn Store,
    clock: &dyn Clock,
    links: &LinkSigner,
    actor: &Actor,
    id: &str,
    proof: Proof<'_>,
) -> Result<Request, Problem> {
    let mut request = find(store, actor, id).await?;
    let verified = next_status(&request, RequestAction::Verify)?;
    let v = &request.verification;
    if v.locked {
        return Err(locked(id));
    }
    let (Some(stored), Some(expires_at)) = (v.code_hash.clone(), v.expires_at) else {
        return Err(Problem::new(
            ErrorCode::VerificationNotSent,
            format!("no code was sent for request `{id}`: send one with POST …/{id}/verification"),
        ));
    };
    let now = clock.now();
    if now >= expires_at {
        return Err(Problem::new(
            ErrorCode::VerificationExpired,
            "the code has expired (codes last 24 hours): send a new one with POST …/verification",
        ));
    }
    let method = match proof {
        Proof::Code(code) | Proof::PageCode(code) => {
            let expected = hex::decode(&stored).unwrap_or_default();
            let input = format!("{}:{}", request.id, code.trim());
            if !links.derived_matches(CODE_HASH, &input, &expected) {
                return wrong_code(store, actor, request, now).await;
            }
            if matches!(proof, Proof::PageCode(_)) {
                "email_code_privacy_page"
            } else {
                "email_code"
            }
        }
        Proof::Link => "email_link",
    };
    if !request.clock_runs_while_unverified {
        // The days it stood still are fixed now, and move the due date.
        request.paused_days = request.deadline(day_of(now)).paused_days;
    }
    let settings = store.request_settings(actor.account()).await?;
    request.due_on = request.deadline(day_of(now)).due_on(&settings.holidays);
    request.status = verified;
    request.verification.method = Some(method.into());
    request.verification.verified_at = Some(now);
    let details = json!({
        "method": method,
        "attempts": request.verification.attempts,
        "paused_days": request.paused_days,
        "due_on": request.due_on,
    });
    let change = recorded(actor.audit_name(), "verified", &request, details, now);
    let saved = save(store, actor, request, change, now).await?;
    tracing::info!(request.id = %saved.id, method, "request verified");
    Ok(saved)
}

async fn wrong_code(
    store: &dyn Store,
    actor: &Actor,
    mut request: Request,
    now: Millis,
) -> Result<Request, Problem> {
    request.verification.attempts += 1;
    let attempts = request.verification.attempts;
    let lock = attempts >= MAX_VERIFICATION_ATTEMPTS;
    request.verification.locked = lock;
    let step = if lock {
        "verification_locked"
    } else {
        "verification_failed"
    };
    let details = json!({"attempts": attempts, "max_attempts": MAX_VERIFICATION_ATTEMPTS});
    let change = recorded(actor.audit_name(), step, &request, details, now);
    let id = request.id.clone();
    // Counted before the verdict is told (see the module's notes).
    save(store, actor, request, change, now).await?;
    if lock {
        tracing::warn!(request.id = %id, "request verification locked");
        return Err(locked(&id));
    }
    let left = MAX_VERIFICATION_ATTEMPTS - attempts;
    Err(Problem::new(
        ErrorCode::VerificationCodeInvalid,
        format!("that is not the code sent: {left} attempts left before the request locks"),
    ))
}

/// What the link page may say about a token: nothing about a token Ferry did not send.
pub enum LinkState {
    /// Unknown, expired, replaced or locked: the same answer for each.
    Invalid,
    /// The subject may confirm.
    Confirmable {
        account: ferry_domain::AccountId,
        request: Box<Request>,
    },
    /// Confirmed before (a second click).
    Done,
}

/// Looks the token up; changes nothing (mail scanners fetch links).
pub async fn link_state(
    store: &dyn Store,
    clock: &dyn Clock,
    links: &LinkSigner,
    token: &str,
) -> Result<LinkState, Problem> {
    let plausible = (20..=100).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !plausible {
        return Ok(LinkState::Invalid);
    }
    let Some((account, request)) = store.request_by_token(&token_hash(links, token)).await? else {
        return Ok(LinkState::Invalid);
    };
    let v = &request.verification;
    if request.status != RequestStatus::VerificationSent {
        return Ok(if v.verified_at.is_some() {
            LinkState::Done
        } else {
            LinkState::Invalid
        });
    }
    if v.locked || v.expires_at.is_none_or(|at| clock.now() >= at) {
        return Ok(LinkState::Invalid);
    }
    Ok(LinkState::Confirmable {
        account,
        request: Box::new(request),
    })
}

/// Refuses a send before anything changes when Ferry has no relay: a code nobody can receive
/// would only burn time. The API and the dashboard both ask this first.
pub fn require_relay(configured: bool) -> Result<(), Problem> {
    if configured {
        return Ok(());
    }
    Err(Problem::new(
        ErrorCode::MailRelayNotConfigured,
        "Ferry has no SMTP relay to mail the code through: start it with FERRY_SMTP_URL and FERRY_SMTP_FROM",
    ))
}
