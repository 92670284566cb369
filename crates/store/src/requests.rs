//! Data-subject requests, their timelines and the account's request settings. Every change
//! commits with its timeline steps, its audit entries and the jobs it queues (the mails it
//! sends), so a request never shows a step that was not audited, nor a mail that is not
//! queued.

use async_trait::async_trait;
use ferry_domain::audit::AuditEvent;
use ferry_domain::queue::NewJob;
use ferry_domain::request::{Request, RequestSettings, RequestStatus, Step};
use ferry_domain::{AccountId, Millis};

use crate::StoreError;

/// What commits with a change to a request.
#[derive(Debug, Clone, Default)]
pub struct RequestChange {
    pub steps: Vec<Step>,
    pub audit: Vec<AuditEvent>,
    /// Queued in the same transaction (a unique key already queued is skipped).
    pub jobs: Vec<NewJob>,
}

/// How a create went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    New(Request),
    /// The account already has a request with this `external_ref`: nothing was written.
    Existing(Request),
}

#[async_trait]
pub trait Requests: Send + Sync {
    /// Records a new request. When the account has an open request of the same email, the
    /// new one's `linked_to` names the oldest of them (set here, in the same transaction, so
    /// two arriving at once still link).
    async fn create_request(
        &self,
        account: AccountId,
        request: Request,
        change: RequestChange,
        now: Millis,
    ) -> Result<Created, StoreError>;
    /// Records many requests in one transaction, each as [`Requests::create_request`] would
    /// (linked, and skipped when its `external_ref` exists): a bulk import's batch. A crash
    /// leaves the whole batch out, so a re-run creates each request exactly once.
    async fn import_requests(
        &self,
        account: AccountId,
        batch: Vec<(Request, RequestChange)>,
        now: Millis,
    ) -> Result<Vec<Created>, StoreError>;
    /// The account's requests, oldest first, of one status when `status` is given.
    async fn requests(
        &self,
        account: AccountId,
        status: Option<RequestStatus>,
    ) -> Result<Vec<Request>, StoreError>;
    async fn request(&self, account: AccountId, id: &str) -> Result<Option<Request>, StoreError>;
    /// A request of any account, for the worker.
    async fn request_any(&self, id: &str) -> Result<Option<(AccountId, Request)>, StoreError>;
    /// The request whose verification link token hashes to `token_hash`.
    async fn request_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<(AccountId, Request)>, StoreError>;
    /// Writes every field of `request` but its id, account, email and creation time, if
    /// its `version` is still the stored one; the stored version goes up by one.
    /// `Conflict` when someone changed it meanwhile, `NotFound` when there is no such
    /// request in the account.
    async fn save_request(
        &self,
        account: AccountId,
        request: Request,
        change: RequestChange,
        now: Millis,
    ) -> Result<Request, StoreError>;
    /// Appends a step that changes nothing else (a mail went out), with its audit entry.
    async fn add_request_step(
        &self,
        account: AccountId,
        id: &str,
        step: Step,
        audit: AuditEvent,
    ) -> Result<(), StoreError>;
    /// Saves `request` as [`Requests::save_request`] does and, in the same transaction, sets
    /// the receipts of its fulfilment's exports (of this account) to `delivered_at = at` and
    /// `delivery_method = method`: the subject was mailed the links.
    #[allow(clippy::too_many_arguments)]
    async fn deliver_request(
        &self,
        account: AccountId,
        request: Request,
        change: RequestChange,
        method: &str,
        at: Millis,
        now: Millis,
    ) -> Result<Request, StoreError>;
    /// The `in_progress` request whose fulfilment includes the export `export_id`.
    async fn request_by_export(
        &self,
        export_id: &str,
    ) -> Result<Option<(AccountId, Request)>, StoreError>;
    /// The request's timeline, oldest first (empty for another account's request).
    async fn request_steps(&self, account: AccountId, id: &str) -> Result<Vec<Step>, StoreError>;
    /// Every request of every account that still owes its subject an answer, for the
    /// escalation pass.
    async fn requests_awaiting_answer(&self) -> Result<Vec<(AccountId, Request)>, StoreError>;
    /// The account's settings (the defaults until it sets some).
    async fn request_settings(&self, account: AccountId) -> Result<RequestSettings, StoreError>;
    async fn set_request_settings(
        &self,
        account: AccountId,
        settings: RequestSettings,
        audit: AuditEvent,
        now: Millis,
    ) -> Result<(), StoreError>;
}
