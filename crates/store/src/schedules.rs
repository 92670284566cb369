use async_trait::async_trait;
use chrono::NaiveDate;
use ferry_domain::audit::AuditEvent;
use ferry_domain::queue::{JobId, NewJob};
use ferry_domain::schedule::{NewSchedule, Schedule, ScheduleChange, ScheduleRun};
use ferry_domain::{AccountId, Millis};

use crate::StoreError;

/// A run as listed, with its export's status (`None`: no export was made).
#[derive(Debug, Clone, PartialEq)]
pub struct RunStatus {
    pub run: ScheduleRun,
    pub export_status: Option<String>,
    /// The export's file names, for the run's object names.
    pub files: Vec<String>,
}

/// Schedules and their runs. Every change to a schedule commits with its audit entry.
#[async_trait]
pub trait Schedules: Send + Sync {
    async fn create_schedule(
        &self,
        account: AccountId,
        schedule: NewSchedule,
        audit: AuditEvent,
        now: Millis,
    ) -> Result<Schedule, StoreError>;
    /// The account's schedules, oldest first (deleted ones are gone).
    async fn schedules(&self, account: AccountId) -> Result<Vec<Schedule>, StoreError>;
    async fn schedule(&self, account: AccountId, id: &str) -> Result<Option<Schedule>, StoreError>;
    /// A schedule of any account, for the worker.
    async fn schedule_any(&self, id: &str) -> Result<Option<(AccountId, Schedule)>, StoreError>;
    /// Turns a schedule on or off; `None` when the account has no such schedule.
    async fn set_schedule_enabled(
        &self,
        account: AccountId,
        id: &str,
        enabled: bool,
        audit: AuditEvent,
    ) -> Result<Option<Schedule>, StoreError>;
    /// Changes a schedule's settings (its website, first day and cursor stay); `None` when
    /// the account has no such schedule.
    async fn update_schedule(
        &self,
        account: AccountId,
        id: &str,
        change: ScheduleChange,
        audit: AuditEvent,
    ) -> Result<Option<Schedule>, StoreError>;
    /// `false` when the account has no such schedule. It stops running at once; its runs'
    /// exports stay until their links expire.
    async fn delete_schedule(
        &self,
        account: AccountId,
        id: &str,
        audit: AuditEvent,
    ) -> Result<bool, StoreError>;
    /// Every enabled schedule, for the scheduler.
    async fn active_schedules(&self) -> Result<Vec<(AccountId, Schedule)>, StoreError>;
    /// Queues `jobs` (each keyed by its window, so a window queued by another scheduler is
    /// skipped) and moves the schedule's cursor forward to `next_from` (never back), in one
    /// transaction. Returns the jobs this call queued.
    async fn queue_windows(
        &self,
        id: &str,
        next_from: NaiveDate,
        jobs: Vec<NewJob>,
        now: Millis,
    ) -> Result<Vec<JobId>, StoreError>;
    /// Records what the job `job` of schedule `id` did, and the series' event columns when
    /// they grew; `false` when the job recorded its run already.
    async fn record_run(
        &self,
        id: &str,
        job: JobId,
        run: ScheduleRun,
        event_columns: Option<Vec<String>>,
    ) -> Result<bool, StoreError>;
    /// The run the job `job` recorded, if it did (a retried job asks for no second export).
    async fn run_of_job(&self, job: JobId) -> Result<Option<ScheduleRun>, StoreError>;
    /// The schedule's last `limit` runs, newest first.
    async fn schedule_runs(&self, id: &str, limit: u32) -> Result<Vec<RunStatus>, StoreError>;
}
