//! The job queue's vocabulary: what a job is, which lane it waits in, and the lease that lets
//! one worker at a time act on it.
//!
//! A worker that claims a job gets a [`Lease`]: a random token and an expiry. Every later call
//! about the job (progress, completion, failure) presents the lease, and the store refuses a
//! lease that is no longer the job's, so a worker that stalled past its expiry, while another
//! reclaimed the job, can change nothing.

use serde::{Deserialize, Serialize};

use crate::Millis;

/// What a job does; each kind has one handler in the worker. Stored as JSON, so a kind added
/// later leaves older rows readable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobKind {
    /// Generate the export `export_id` (a person's or a website's).
    Export { export_id: String },
    /// Delete what no export needs any more: files of expired or used-up links, leftovers of
    /// failed or cancelled attempts, scratch directories no running job owns.
    Sweep,
    /// Ask for the export of one window of a schedule. Queued with the window as its unique
    /// key, so however many schedulers run, a window is asked for once.
    ScheduleRun {
        schedule_id: String,
        window: crate::schedule::RunWindow,
        trigger: crate::schedule::RunTrigger,
    },
    /// Carry the completed export `export_id` to the destination its request named.
    Deliver { export_id: String },
    /// Send one mail about a data-subject request (a verification code, an extension
    /// notice, an escalation). Queued in the transaction that decided it, so a crash loses
    /// no mail.
    RequestMail {
        request_id: String,
        mail: crate::request::RequestMail,
    },
    /// Tell account `account` through `channel` that a delivery failed for good. Queued once
    /// per export and channel (its unique key); retried with the deliveries' back-off.
    Alert {
        account: i64,
        channel: crate::alert::AlertChannel,
        alert: crate::alert::Alert,
    },
    /// Erase the subject of the erasure request `request_id` (Art. 17), phase by phase
    /// ([`crate::erasure::ErasurePhase`]); queued once per request (its unique key).
    Erasure { request_id: String },
}

impl JobKind {
    pub fn name(&self) -> &'static str {
        match self {
            JobKind::Export { .. } => "export",
            JobKind::Sweep => "sweep",
            JobKind::ScheduleRun { .. } => "schedule_run",
            JobKind::Deliver { .. } => "deliver",
            JobKind::RequestMail { .. } => "request_mail",
            JobKind::Alert { .. } => "alert",
            JobKind::Erasure { .. } => "erasure",
        }
    }

    /// How long a failed attempt waits before the next, when the kind has its own pace
    /// (`None`: the queue's default, [`RETRY_BACKOFF_MS`] times the attempts). Deliveries back
    /// off exponentially, so a destination that is down for an hour is not hammered.
    pub fn retry_in(&self, attempt: u32) -> Option<Millis> {
        match self {
            JobKind::Deliver { .. } | JobKind::Alert { .. } => {
                Some(DELIVERY_BACKOFF_MS << attempt.saturating_sub(1).min(16))
            }
            _ => None,
        }
    }
}

/// A delivery's first retry waits this long; each later one twice the one before.
pub const DELIVERY_BACKOFF_MS: Millis = 30_000;

/// Attempts a delivery gets: waits of 30 s, 1, 2, 4 and 8 minutes between them.
pub const DELIVERY_ATTEMPTS: u32 = 6;

/// Jobs wait in lanes so that long work cannot hold short work behind it: bulk exports never
/// take the last free slot, so a person's export always finds one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lane {
    Default,
    Bulk,
    /// Run only by the process that queued it (`ferry export`); workers never claim it.
    Held,
}

impl Lane {
    pub fn as_str(self) -> &'static str {
        match self {
            Lane::Default => "default",
            Lane::Bulk => "bulk",
            Lane::Held => "held",
        }
    }

    pub fn parse(s: &str) -> Option<Lane> {
        match s {
            "default" => Some(Lane::Default),
            "bulk" => Some(Lane::Bulk),
            "held" => Some(Lane::Held),
            _ => None,
        }
    }
}

/// A job's number in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct JobId(pub i64);

/// A job to queue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: JobKind,
    pub lane: Lane,
    /// Attempts before a job that keeps failing (or keeps losing its worker) fails for good.
    pub max_attempts: u32,
    /// Not claimed before this instant.
    pub run_after: Millis,
    /// At most one job with this key ever exists (a schedule's window, say).
    pub unique_key: Option<String>,
}

/// Attempts a job gets unless its kind says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;

impl NewJob {
    pub fn now(kind: JobKind, lane: Lane, now: Millis) -> Self {
        NewJob {
            kind,
            lane,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            run_after: now,
            unique_key: None,
        }
    }
}

/// One worker's right to act on a job until `expires_at`; extended by its heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub job: JobId,
    /// Random, new at every claim: a reclaimed job's old token is refused everywhere.
    pub token: String,
    /// 1 for the first try.
    pub attempt: u32,
    pub expires_at: Millis,
}

/// A job a worker claimed.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub lease: Lease,
    pub kind: JobKind,
    pub lane: Lane,
    pub max_attempts: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Failed,
    /// Withdrawn by its owner (an export cancelled before or while it ran).
    Cancelled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<JobStatus> {
        [
            JobStatus::Queued,
            JobStatus::Running,
            JobStatus::Done,
            JobStatus::Failed,
            JobStatus::Cancelled,
        ]
        .into_iter()
        .find(|status| status.as_str() == s)
    }
}

/// A job as the queue holds it.
#[derive(Debug, Clone)]
pub struct JobRecord {
    pub id: JobId,
    pub kind: JobKind,
    pub lane: Lane,
    pub status: JobStatus,
    pub attempts: u32,
    pub max_attempts: u32,
    pub run_after: Millis,
    pub error: Option<(String, String)>,
}

/// Why an attempt failed; `transient` failures are retried after a back-off until the
/// attempts run out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFailure {
    pub code: String,
    pub message: String,
    pub transient: bool,
    /// The wait before a retry, when not the queue's default ([`JobKind::retry_in`]).
    pub retry_in: Option<Millis>,
}

/// What became of a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobFate {
    /// Queued again, claimable from this instant.
    Retry { at: Millis },
    /// Failed for good.
    Failed,
    /// The lease was no longer the job's: the report changed nothing.
    LeaseLost,
}

/// A retried job waits this long times the attempts it has had.
pub const RETRY_BACKOFF_MS: Millis = 1_000;

/// The code a job ends with when its worker kept disappearing (a crash or kill each time).
pub const ATTEMPTS_EXHAUSTED: &str = "attempts_exhausted";

/// What a pass over expired leases did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reclaimed {
    /// Jobs queued again for another attempt.
    pub requeued: Vec<JobId>,
    /// Jobs whose attempts ran out: failed with [`ATTEMPTS_EXHAUSTED`].
    pub failed: Vec<(JobId, JobKind)>,
}
