//! The worker's loop: fill free slots from the queue, wake when a job is queued or one ends,
//! reclaim expired leases, queue the period's sweep, schedules' due windows and requests'
//! escalations now and then, and shut down
//! gracefully.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use ferry_domain::queue::{Lane, Lease};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::Worker;
use crate::segments::build::Compactor;

/// How long the loop rests when the queue is empty and nothing wakes it.
const IDLE_POLL: Duration = Duration::from_secs(2);

impl Worker {
    /// Runs jobs until `shutdown` is cancelled, then stops claiming, gives running jobs the
    /// grace period to finish, and releases the leases of those that did not.
    pub async fn run(self, shutdown: CancellationToken) {
        if let (Some(files), Some(every)) = (self.segments.clone(), self.compact_every) {
            let compactor = Compactor {
                store: self.store.clone(),
                files,
                level: super::BULK_DEFLATE_LEVEL,
            };
            let stop = shutdown.clone();
            tokio::spawn(async move {
                tokio::select! {
                    () = compactor.run_forever(every) => {}
                    () = stop.cancelled() => {}
                }
            });
        }
        let slots = self.settings.slots.max(1);
        let mut running: JoinSet<()> = JoinSet::new();
        let mut leases: HashMap<tokio::task::Id, (Lease, Lane)> = HashMap::new();
        let mut last_reclaim: Option<Instant> = None;
        while !shutdown.is_cancelled() {
            if last_reclaim.is_none_or(|t| t.elapsed() >= self.settings.lease / 2) {
                last_reclaim = Some(Instant::now());
                if let Err(e) = self.reclaim().await {
                    tracing::error!(error = %e, "cannot reclaim expired jobs");
                }
                self.forget_old_client_addresses().await;
                if let Err(e) = self.enqueue_sweep().await {
                    tracing::warn!(error = %e, "cannot queue the sweep of export files");
                }
                if let Err(e) = self.enqueue_due_windows().await {
                    tracing::warn!(error = %e, "cannot queue schedules' due windows");
                }
                if let Err(e) = self.enqueue_request_escalations().await {
                    tracing::warn!(error = %e, "cannot queue request escalations");
                }
                if let Err(e) = self.enqueue_request_deliveries().await {
                    tracing::warn!(error = %e, "cannot queue request deliveries");
                }
            }
            let mut failed = false;
            while running.len() < slots {
                let bulk_running = leases.values().filter(|(_, l)| *l == Lane::Bulk).count();
                // Bulk work leaves one slot free for everything else (unless there is only one).
                let lanes: &[Lane] = if slots == 1 || bulk_running + 1 < slots {
                    &[Lane::Default, Lane::Bulk]
                } else {
                    &[Lane::Default]
                };
                match self.claim(lanes).await {
                    Ok(Some(claimed)) => {
                        let (lease, lane) = (claimed.lease.clone(), claimed.lane);
                        let worker = self.clone();
                        let options = self.options();
                        let handle = running.spawn(async move {
                            worker.run_claimed(claimed, options).await;
                        });
                        leases.insert(handle.id(), (lease, lane));
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot claim a job; retrying shortly");
                        failed = true;
                        break;
                    }
                }
            }
            let rest = if failed {
                Duration::from_secs(1)
            } else {
                IDLE_POLL
            };
            tokio::select! {
                Some(ended) = running.join_next_with_id(), if !running.is_empty() => {
                    let id = match ended { Ok((id, ())) => id, Err(e) => e.id() };
                    leases.remove(&id);
                }
                () = self.wake.notified() => {}
                () = tokio::time::sleep(rest) => {}
                () = shutdown.cancelled() => {}
            }
        }
        self.shut_down(running, leases).await;
    }

    async fn shut_down(
        &self,
        mut running: JoinSet<()>,
        mut leases: HashMap<tokio::task::Id, (Lease, Lane)>,
    ) {
        if running.is_empty() {
            return;
        }
        tracing::info!(
            jobs = running.len(),
            "waiting for running jobs before stopping"
        );
        let deadline = tokio::time::Instant::now() + self.settings.grace;
        while !running.is_empty() {
            match tokio::time::timeout_at(deadline, running.join_next_with_id()).await {
                Ok(Some(Ok((id, ())))) => {
                    leases.remove(&id);
                }
                Ok(Some(Err(e))) => {
                    leases.remove(&e.id());
                }
                Ok(None) => break,
                Err(_) => break,
            }
        }
        running.abort_all();
        while running.join_next().await.is_some() {}
        for (lease, _) in leases.into_values() {
            match self.store.release_job(&lease, self.clock.now()).await {
                Ok(_) => tracing::info!(job.id = lease.job.0, "released a running job at shutdown"),
                Err(e) => tracing::warn!(error = %e, "cannot release a job; its lease will expire"),
            }
        }
    }

    /// Retention of the download log's client addresses.
    pub async fn forget_old_client_addresses(&self) {
        let Some(keep) = self.settings.client_address_retention else {
            return;
        };
        let before = self.clock.now() - keep.as_millis() as i64;
        match self.store.forget_download_clients(before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                downloads = n,
                "forgot client addresses past their retention"
            ),
            Err(e) => tracing::warn!(error = %e, "cannot apply the download log's retention"),
        }
    }
}
