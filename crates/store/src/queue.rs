use async_trait::async_trait;
use ferry_domain::Millis;
use ferry_domain::queue::{
    Claimed, JobFailure, JobFate, JobId, JobRecord, Lane, Lease, NewJob, Reclaimed,
};

use crate::StoreError;

/// The generic job queue. A claim hands out a [`Lease`]; every later call about the job
/// presents it and is refused (`false`, [`JobFate::LeaseLost`]) once the lease is no longer
/// the job's: after a reclaim, a cancel, or the job's end. Instants are the caller's clock.
#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Queues a job; `None` when a job with its unique key exists already.
    async fn enqueue(&self, job: NewJob, now: Millis) -> Result<Option<JobId>, StoreError>;
    /// Claims the oldest ready job of one of `lanes`, leased until `now + lease_ms`.
    async fn claim_job(
        &self,
        lanes: &[Lane],
        now: Millis,
        lease_ms: Millis,
    ) -> Result<Option<Claimed>, StoreError>;
    /// Claims one job by id, if it is ready (a command that runs its own job in process).
    async fn claim_job_by_id(
        &self,
        id: JobId,
        now: Millis,
        lease_ms: Millis,
    ) -> Result<Option<Claimed>, StoreError>;
    /// The heartbeat: extends the lease; `false` when it is no longer the job's.
    async fn extend_lease(
        &self,
        lease: &Lease,
        now: Millis,
        lease_ms: Millis,
    ) -> Result<bool, StoreError>;
    /// Marks the job done; `false` when the lease was lost.
    async fn finish_job(&self, lease: &Lease, now: Millis) -> Result<bool, StoreError>;
    /// Records a failed attempt: a transient failure is retried after a back-off that grows
    /// with the attempts, until they run out.
    async fn fail_job(
        &self,
        lease: &Lease,
        failure: &JobFailure,
        now: Millis,
    ) -> Result<JobFate, StoreError>;
    /// Gives a job back untouched (a worker shutting down): queued again at once, and the
    /// attempt is not counted.
    async fn release_job(&self, lease: &Lease, now: Millis) -> Result<bool, StoreError>;
    /// Jobs whose lease expired (their worker crashed, was killed or stalled) are queued
    /// again, or failed once their attempts are used up.
    async fn reclaim_expired(&self, now: Millis) -> Result<Reclaimed, StoreError>;
    async fn job(&self, id: JobId) -> Result<Option<JobRecord>, StoreError>;
}
