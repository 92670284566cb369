//! The worker: claims jobs from the store's queue and runs each in its own task.
//!
//! - Several jobs run at once (`slots`, default 2). Bulk exports never take the last free
//!   slot, so a person's export never waits behind a 10 GB website export.
//! - Each job runs behind a panic boundary (its own task): a panic fails that job with
//!   `internal_error`, and the worker goes on. Its heartbeat, which extends the job's lease
//!   and reports progress, stops with it.
//! - A job that loses its lease (cancelled, or reclaimed after its worker stalled) stops at
//!   its next heartbeat and can change nothing: the store refuses its lease.
//! - On shutdown the worker stops claiming, lets running jobs finish within a grace period,
//!   then gives their leases back so another worker takes them at once.
//!
//! `driver`: one job's run; `deliver`: the deliver job kind, which carries a completed export
//! to its destination; `export`: the export job kind; `sweep`: the sweep job kind, which
//! deletes export files nobody needs; `schedule`: the scheduler and the `schedule_run` kind;
//! `request_mail`: mails about data-subject requests, and the escalation pass;
//! `request_delivery`: the mail that delivers a fulfilled request, once its exports are done;
//! `erasure`: the erasure job kind, phase by phase, and its mail; `erasure_report`: the
//! deletion report and its check after the fact;
//! `step`: single steps for tests and for commands that run
//! their own job.

mod alert;
mod deliver;
mod driver;
mod erasure;
mod erasure_report;
pub mod export;
mod request_delivery;
mod request_mail;
mod run_loop;
mod schedule;
mod step;
mod sweep;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ferry_domain::queue::{JobId, JobKind};
use ferry_export::bulk::parts::Meter;
use ferry_store::Store;
use futures_util::future::BoxFuture;
use tokio::sync::{Notify, broadcast};

use crate::artifacts::ArtifactStore;
use crate::clock::Clock;
use crate::error_code::ErrorCode;
use crate::segments::SegmentFiles;

pub use export::BULK_DEFLATE_LEVEL;
pub use step::RunOptions;
pub use sweep::{SWEEP_EVERY_MS, SweepReport};

/// How the worker paces itself.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Jobs run at once.
    pub slots: usize,
    /// How long a claim lasts without a heartbeat.
    pub lease: Duration,
    /// How often a running job's heartbeat extends its lease.
    pub heartbeat: Duration,
    /// How long running jobs may take to finish once shutdown starts.
    pub grace: Duration,
    /// How long the download log keeps a client's address (`None`: for good).
    pub client_address_retention: Option<Duration>,
    /// The most visitors one person's export reads. Rows are read visitor by visitor (one
    /// statement each, merged in time order), so a "person" an attacker linked to millions of
    /// visitors would hold millions of statements; past this the export fails with
    /// `too_many_visitors`.
    pub max_subject_visitors: usize,
}

/// 10,000 visitors: a person with more browsers than that is a bot or an attack, not a person.
pub const DEFAULT_MAX_SUBJECT_VISITORS: usize = 10_000;

/// The download log keeps client addresses for 90 days, long enough to answer "who fetched
/// this?" about any export (links live at most 30 days).
pub const DEFAULT_CLIENT_ADDRESS_RETENTION_DAYS: u64 = 90;

/// A retention in days as the worker keeps it (0: for good).
pub fn retention_days(days: u64) -> Option<Duration> {
    (days > 0).then(|| Duration::from_secs(days * 86_400))
}

/// Two slots: one bulk export and one person's export can always run side by side.
pub const DEFAULT_SLOTS: usize = 2;

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            slots: DEFAULT_SLOTS,
            lease: Duration::from_secs(30),
            heartbeat: Duration::from_secs(1),
            grace: Duration::from_secs(30),
            client_address_retention: Some(Duration::from_secs(
                DEFAULT_CLIENT_ADDRESS_RETENTION_DAYS * 86_400,
            )),
            max_subject_visitors: DEFAULT_MAX_SUBJECT_VISITORS,
        }
    }
}

/// Called as an export job starts writing (its scratch directory made); tests use it to hold
/// or break a job at a known point.
pub type ExportHook =
    Arc<dyn Fn(&ferry_domain::job::ExportJob) -> BoxFuture<'static, ()> + Send + Sync>;

#[derive(Clone)]
pub struct Worker {
    pub store: Arc<dyn Store>,
    pub artifacts: Arc<dyn ArtifactStore>,
    /// Where an attempt writes its files before they are stored: one directory per lease.
    pub scratch: PathBuf,
    pub clock: Arc<dyn Clock>,
    /// Woken when a job is queued, so the worker need not poll quickly.
    pub wake: Arc<Notify>,
    /// Export segments bulk exports copy closed days from (`None`: read every row).
    pub segments: Option<SegmentFiles>,
    /// How often to build missing segments (`None`: never).
    pub compact_every: Option<Duration>,
    pub settings: WorkerSettings,
    pub hook: Option<ExportHook>,
    /// Every job's end, for whoever listens (tests, the CLI).
    pub events: broadcast::Sender<JobEvent>,
    /// Opens destination credentials for the deliver job (`None`: the key could not be
    /// loaded, and deliveries fail saying so).
    pub sealer: Option<crate::sealing::Sealer>,
    /// Sends account alerts (a failed delivery).
    pub alerts: crate::alerts::Alerts,
    /// What `email` deliveries and alert mails need: the relay and how to make the mail's
    /// link (`None`: no relay configured; such deliveries fail saying so, and alerts go by
    /// webhook only).
    pub mail: Option<Arc<MailSetup>>,
}

/// The relay `email` destinations and alerts send through, and how mails link to an export.
pub struct MailSetup {
    pub relay: ferry_deliver::smtp::SmtpRelay,
    /// The URL users reach `ferry serve` at: a mail's download link starts with it.
    pub public_url: Arc<str>,
    pub links: Arc<crate::links::LinkSigner>,
    pub attach_limit: u64,
}

impl MailSetup {
    /// The mail setup of a process that runs jobs, or `None` when no relay is configured.
    /// `public_url` is `None` for a `ferry worker` started without `--public-url`: with a
    /// relay that is refused here, at start-up, because every mail it sent would carry a link
    /// to nowhere.
    pub fn from_args(
        args: &crate::config::MailArgs,
        public_url: Option<&str>,
        links: Arc<crate::links::LinkSigner>,
    ) -> anyhow::Result<Option<Arc<MailSetup>>> {
        let Some(relay) = args.relay()? else {
            return Ok(None);
        };
        let Some(public_url) = public_url else {
            anyhow::bail!(
                "a mail relay is configured (--smtp-url), so this worker sends email \
                 deliveries, whose mails link to the export: set --public-url \
                 (FERRY_PUBLIC_URL) to the URL users reach `ferry serve` at, like \
                 https://ferry.example.com"
            );
        };
        Ok(Some(Arc::new(MailSetup {
            relay,
            public_url: crate::config::public_url(public_url)?.into(),
            links,
            attach_limit: args.mail_attach_limit,
        })))
    }
}

impl Worker {
    /// A worker on the data directory's artifact store, with default settings.
    pub fn new(store: Arc<dyn Store>, data_dir: &std::path::Path, clock: Arc<dyn Clock>) -> Self {
        Worker {
            store,
            artifacts: Arc::new(crate::artifacts::local::LocalArtifacts::new(
                data_dir.join("artifacts"),
            )),
            scratch: data_dir.join("work"),
            clock,
            wake: Arc::new(Notify::new()),
            segments: Some(SegmentFiles::new(data_dir)),
            compact_every: None,
            settings: WorkerSettings::default(),
            hook: None,
            events: broadcast::channel(256).0,
            sealer: crate::sealing::Sealer::load(data_dir)
                .inspect_err(|e| tracing::error!(error = %e, "cannot load the secret key"))
                .ok(),
            alerts: crate::alerts::Alerts::default(),
            mail: None,
        }
    }
}

/// How a job's run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// Failed this time; queued again.
    Retry {
        code: String,
    },
    /// Failed for good.
    Failed {
        code: String,
    },
    /// The lease was no longer the job's (cancelled, or reclaimed): nothing it did counts.
    LeaseLost,
}

#[derive(Debug, Clone)]
pub struct JobEvent {
    pub job: JobId,
    pub kind: JobKind,
    pub outcome: Outcome,
}

/// Why a job's attempt failed.
#[derive(Debug)]
pub struct Failure {
    pub code: ErrorCode,
    pub message: String,
    pub transient: bool,
}

impl Failure {
    pub fn transient(e: impl std::fmt::Display) -> Self {
        Failure {
            code: ErrorCode::ExportFailed,
            message: format!("the export could not be written: {e}"),
            transient: true,
        }
    }

    pub fn permanent(code: ErrorCode, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
            transient: false,
        }
    }
}

/// What a running job shares with its heartbeat.
pub(crate) struct JobContext {
    pub lease: ferry_domain::queue::Lease,
    /// The job's counters, once it has them; the heartbeat reports them.
    pub meter: std::sync::OnceLock<Arc<Meter>>,
    /// Set by the heartbeat when the lease is lost.
    pub lost: std::sync::atomic::AtomicBool,
    pub options: RunOptions,
}
