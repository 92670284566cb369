//! The sweep: deletes export files nobody can download any more, and what crashed or
//! cancelled attempts left behind.
//!
//! - Files of completed exports whose link expired, or whose one-time link is used up (every
//!   file downloaded whole, or claimed longer ago than the resume window): deleted, then the
//!   export is marked `expired` and the deletion audited (`data_export.deleted`, actor
//!   `sweep`, the reason in `details`) in one transaction.
//! - Leftovers in the artifact store: an attempt's files that are neither its export's
//!   download (`artifact`) nor being written by its running job (a failed, retried, cancelled
//!   or crashed attempt, half-written `.partial` files among them), and files of exports that
//!   do not exist.
//! - Scratch directories (`DATA_DIR/work/{export_id}.{lease token}`) whose lease no running
//!   job holds.
//!
//! The worker queues one sweep per [`SWEEP_EVERY_MS`], keyed by the period, so several
//! workers never run the same one; startup (`ferry serve`, `ferry worker`) clears leftovers
//! and scratch directories at once ([`Worker::clear_orphans`]).
//!
//! Files are listed before their owners are looked up: a job claimed after the listing wrote
//! nothing that the listing saw, and one that completes meanwhile is seen either running or
//! with its artifact (one statement), so nothing a running job or a live link needs goes.

use std::collections::{BTreeMap, HashMap};

use ferry_domain::Millis;
use ferry_domain::queue::{JobKind, Lane, NewJob};
use ferry_store::{ArtifactOwner, DeadArtifact};
use serde_json::json;

use super::{Failure, Worker};
use crate::audit::{export_event, record_or_log};
use crate::error_code::ErrorCode;

/// How often a sweep is queued.
pub const SWEEP_EVERY_MS: Millis = 15 * 60 * 1000;

/// Dead exports retired per query.
const BATCH: u32 = 200;

/// What a sweep deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Exports whose files were deleted because their links can no longer serve them.
    pub retired: usize,
    /// Attempts' files that no download and no running job needs.
    pub leftovers: usize,
    /// Files of exports that do not exist.
    pub orphans: usize,
    /// Scratch directories no running job owns.
    pub scratch: usize,
}

pub(super) async fn run(worker: &Worker) -> Result<(), Failure> {
    match worker.sweep().await {
        Ok(_) => Ok(()),
        Err(e) => Err(Failure {
            code: ErrorCode::InternalError,
            message: format!("the sweep could not finish: {e}"),
            transient: true,
        }),
    }
}

impl Worker {
    /// Queues the sweep of the clock's current period, unless it was queued already (by this
    /// or another process); `true` when this call queued it.
    pub async fn enqueue_sweep(&self) -> anyhow::Result<bool> {
        let now = self.clock.now();
        let job = NewJob {
            unique_key: Some(format!("sweep:{}", now.div_euclid(SWEEP_EVERY_MS))),
            // The next period's sweep does the same work: no retries.
            max_attempts: 1,
            ..NewJob::now(JobKind::Sweep, Lane::Default, now)
        };
        let queued = self.store.enqueue(job, now).await?.is_some();
        if queued {
            self.wake.notify_one();
        }
        Ok(queued)
    }

    /// The sweep's whole work, here and now.
    pub async fn sweep(&self) -> anyhow::Result<SweepReport> {
        let retired = self.retire_dead().await?;
        let mut report = self.clear_orphans().await?;
        report.retired = retired;
        if report != SweepReport::default() {
            tracing::info!(
                retired = report.retired,
                leftovers = report.leftovers,
                orphans = report.orphans,
                scratch = report.scratch,
                "swept export files"
            );
        }
        Ok(report)
    }

    /// Deletes the files of exports whose links can no longer serve them; returns how many.
    async fn retire_dead(&self) -> anyhow::Result<usize> {
        let now = self.clock.now();
        let mut retired = 0;
        loop {
            let dead = self.store.dead_artifacts(now, BATCH).await?;
            let full = dead.len() == BATCH as usize;
            let mut stuck = false;
            for export in dead {
                match self.retire(export, now).await {
                    Ok(true) => retired += 1,
                    Ok(false) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot delete an expired export's files");
                        stuck = true;
                    }
                }
            }
            // A file that cannot be deleted would come back in every batch.
            if !full || stuck {
                return Ok(retired);
            }
        }
    }

    async fn retire(&self, dead: DeadArtifact, now: Millis) -> anyhow::Result<bool> {
        let export = &dead.export;
        let Some(prefix) = export.artifact.as_deref() else {
            return Ok(false);
        };
        // Files first: if the process dies between the two, the next sweep finds the export
        // still listed and finishes; a download in between answers `link_expired`.
        self.artifacts.delete(prefix).await?;
        let files: Vec<&str> = export.files.iter().map(|f| f.name.as_str()).collect();
        let entry = export_event(
            "sweep",
            "data_export.deleted",
            &export.id,
            &export.spec,
            "ok",
            json!({"reason": dead.reason.as_str(), "files": files}),
        );
        let retired = self
            .store
            .retire_artifact(&export.id, prefix, (dead.account, entry), now)
            .await?;
        if retired {
            tracing::info!(export.id = %export.id, reason = dead.reason.as_str(), "deleted an export's files");
        }
        Ok(retired)
    }

    /// Deletes attempts' files that no download link and no running job needs, files of
    /// exports that do not exist, and scratch directories no running job owns.
    pub async fn clear_orphans(&self) -> anyhow::Result<SweepReport> {
        // Listed before the owners are read (see the module's comment).
        let mut attempts: BTreeMap<String, String> = BTreeMap::new();
        for key in self.artifacts.list_all().await? {
            let mut parts = key.splitn(3, '/');
            let (id, attempt) = (parts.next().unwrap_or_default(), parts.next());
            let prefix = match (attempt, parts.next()) {
                (Some(attempt), Some(_)) => format!("{id}/{attempt}"),
                _ => key.clone(),
            };
            attempts.insert(prefix, id.to_string());
        }
        let scratch = self.scratch_entries();
        let mut ids: Vec<String> = attempts.values().cloned().collect();
        ids.extend(scratch.iter().filter_map(|(id, _, _)| id.clone()));
        ids.sort();
        ids.dedup();
        let owners: HashMap<String, ArtifactOwner> = self
            .store
            .artifact_owners(ids)
            .await?
            .into_iter()
            .map(|o| (o.export_id.clone(), o))
            .collect();
        let mut report = SweepReport::default();
        for (prefix, id) in attempts {
            let owner = owners.get(&id);
            let needed = owner.is_some_and(|o| {
                o.artifact.as_deref() == Some(prefix.as_str())
                    || o.running_lease
                        .as_ref()
                        .is_some_and(|lease| prefix == format!("{id}/{lease}"))
            });
            if needed {
                continue;
            }
            if let Err(e) = self.artifacts.delete(&prefix).await {
                tracing::warn!(error = %e, "cannot delete an unused export file");
                continue;
            }
            match owner {
                None => {
                    report.orphans += 1;
                    tracing::info!(export.id = %id, "deleted files of an export that does not exist");
                }
                Some(owner) => {
                    report.leftovers += 1;
                    self.audit_leftover(owner).await;
                }
            }
        }
        for (id, token, path) in scratch {
            let owned = id
                .and_then(|id| owners.get(&id))
                .and_then(|o| o.running_lease.as_ref())
                .is_some_and(|lease| Some(lease) == token.as_ref());
            if owned {
                continue;
            }
            let removed = match path.is_dir() {
                true => std::fs::remove_dir_all(&path),
                false => std::fs::remove_file(&path),
            };
            match removed {
                Ok(()) => report.scratch += 1,
                Err(e) => tracing::warn!(error = %e, "cannot remove a scratch directory"),
            }
        }
        Ok(report)
    }

    /// Scratch entries as (export id, lease token, path); names that are not
    /// `{export_id}.{token}` have neither.
    fn scratch_entries(&self) -> Vec<(Option<String>, Option<String>, std::path::PathBuf)> {
        let Ok(entries) = std::fs::read_dir(&self.scratch) else {
            return Vec::new();
        };
        entries
            .flatten()
            .map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let (id, token) = match name.rsplit_once('.') {
                    Some((id, token)) => (Some(id.to_string()), Some(token.to_string())),
                    None => (None, None),
                };
                (id, token, entry.path())
            })
            .collect()
    }

    async fn audit_leftover(&self, owner: &ArtifactOwner) {
        let Ok(Some((account, job))) = self.store.export_job_any(&owner.export_id).await else {
            return;
        };
        let entry = export_event(
            "sweep",
            "data_export.deleted",
            &job.id,
            &job.spec,
            "ok",
            json!({"reason": "leftover"}),
        );
        record_or_log(self.store.as_ref(), account, entry).await;
        tracing::info!(export.id = %job.id, "deleted files an unfinished attempt left");
    }
}
