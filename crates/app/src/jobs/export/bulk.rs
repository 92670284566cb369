//! A website's bulk export job: count the rows (for progress), then stream every data type
//! into one ZIP (deflate level 1: the ZIP thread keeps pace with the writers) or into separate
//! part files with one link each. The plan's byte limit stops the job as soon as it is crossed.

use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use ferry_domain::export::{DataType, ExportRange, Format};
use ferry_domain::job::{ArtifactFile, DEFAULT_PART_SIZE, ExportJob};
use ferry_domain::plan::format_size;
use ferry_domain::time::{rfc3339, whole_seconds};
use ferry_domain::{DateRange, Website};
use ferry_export::bulk::BulkExport;
use ferry_export::bulk::parts::{Cancelled, LimitExceeded, Meter};
use ferry_export::package::FileEntry;

use super::sealed::{self, Sealed};
use super::{Attempt, Output, RowCounts, hashing};
use crate::bulk_source::{BulkStoreSource, export_days};
use crate::error_code::ErrorCode;
use crate::jobs::{Failure, Worker};
use crate::segments::count::expected_rows;
use ferry_export::hashing::HashingWriter;

/// Deflate level of bulk ZIPs: level 1 compresses CSV about 2.5 times faster than level 6.
pub const BULK_DEFLATE_LEVEL: u32 = 1;

pub(super) async fn run(attempt: Attempt<'_>) -> Result<Output, Failure> {
    let Attempt {
        worker,
        account,
        job,
        dir,
        meter,
        options,
    } = attempt;
    let spec = job.spec.clone();
    let website_id = spec.website_id.clone().unwrap_or_default();
    let website = worker
        .store
        .website(account, &website_id)
        .await
        .map_err(Failure::transient)?
        .ok_or_else(|| {
            Failure::permanent(
                ErrorCode::WebsiteNotFound,
                format!("website `{website_id}` no longer exists in this account"),
            )
        })?;
    let range = export_days(
        worker.store.as_ref(),
        &website,
        spec.range.start,
        spec.range.end,
    )
    .await
    .map_err(Failure::transient)?;
    let segments = worker.segments.clone().filter(|_| options.segments);
    count_rows(worker, job, &website, range, segments.is_some());
    let plan = worker
        .store
        .account(account)
        .await
        .map_err(Failure::transient)?
        .map_or("your", |a| a.plan.as_str());
    let own = worker
        .store
        .limits(account)
        .await
        .map_err(Failure::transient)?
        .bytes_set_for_account;
    let whose = if own {
        "this account's own limit, set with ferry accounts limits".to_string()
    } else {
        format!("the {plan} plan's limit")
    };
    let prefetch = spec.format == Format::Csv && spec.data_types.contains(&DataType::Events);
    let source = BulkStoreSource::new(
        worker.store.clone(),
        website.clone(),
        range,
        tokio::runtime::Handle::current(),
        segments,
        prefetch,
    )
    .with_columns(spec.event_columns.clone());
    let recipient = sealed::recipient(spec.encryption.as_ref(), worker.clock.now())?;
    let (dir, job_id, limit_meter) = (dir.to_path_buf(), job.id.clone(), meter.clone());
    let durable = options.durable;
    // One instant for the files and the receipt, in whole seconds.
    let generated = whole_seconds(worker.clock.now());
    let written = tokio::task::spawn_blocking(move || {
        let target = Target {
            dir: &dir,
            durable,
            recipient: recipient.as_ref(),
        };
        write(source, &spec, &job_id, target, &meter, generated)
    })
    .await;
    let (files, counts) = match written {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => return Err(failure(e, &whose, &limit_meter)),
        Err(e) => return Err(Failure::transient(e)),
    };
    Ok(Output {
        files,
        counts,
        subject_email: None,
        range: ExportRange {
            start: Some(range.from),
            end: Some(range.to),
        },
        generated_at: generated,
    })
}

fn failure(e: io::Error, whose: &str, meter: &Meter) -> Failure {
    if e.get_ref().is_some_and(|inner| inner.is::<Cancelled>()) {
        return Failure::permanent(ErrorCode::Cancelled, "the export was cancelled");
    }
    match e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<LimitExceeded>())
    {
        Some(limit) => Failure {
            code: ErrorCode::PlanSizeExceeded,
            message: format!(
                "the export passed the limit of {} per export ({}) after {} rows and was stopped: \
                 ask for a shorter date range (from/to) or fewer data types, or raise the limit \
                 (ferry accounts limits, or a larger plan)",
                format_size(limit.limit),
                whose,
                limit
                    .rows
                    .max(meter.rows.load(std::sync::atomic::Ordering::Relaxed)),
            ),
            transient: false,
        },
        None => Failure::transient(e),
    }
}

/// Counts the rows to come in the background and records the total, for percent and ETA.
fn count_rows(
    worker: &Worker,
    job: &ExportJob,
    website: &Website,
    range: DateRange,
    segments: bool,
) {
    let (store, id, types) = (
        worker.store.clone(),
        job.id.clone(),
        job.spec.data_types.clone(),
    );
    let (website_id, window) = (website.id.clone(), range.bounds(website.timezone));
    tokio::spawn(async move {
        match expected_rows(store.as_ref(), &website_id, window, &types, segments).await {
            Ok(total) => {
                if let Err(e) = store.set_export_total(&id, total).await {
                    tracing::warn!(error = %e, "cannot record an export's row total");
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot count an export's rows"),
        }
    });
}

/// Where the files go: the scratch directory, synced or not, encrypted or not.
struct Target<'a> {
    dir: &'a Path,
    durable: bool,
    recipient: Option<&'a ferry_encrypt::Recipient>,
}

fn write(
    mut source: BulkStoreSource,
    spec: &ferry_domain::job::ExportSpec,
    job_id: &str,
    target: Target<'_>,
    meter: &Meter,
    generated: DateTime<Utc>,
) -> io::Result<(Vec<ArtifactFile>, RowCounts)> {
    let Target {
        dir,
        durable,
        recipient,
    } = target;
    let generated_at = rfc3339(generated);
    let website = source.website.clone();
    let range = source.range;
    let export = BulkExport {
        export_id: job_id,
        generated_at: &generated_at,
        website_id: &website.id,
        domain: &website.domain,
        time_zone: website.timezone.name(),
        data_types: &spec.data_types,
        format: spec.format,
        range: ExportRange {
            start: Some(range.from),
            end: Some(range.to),
        },
        part_size: spec.part_size.unwrap_or(DEFAULT_PART_SIZE),
        neutralise: !spec.keep_formulas,
        encrypted_to: spec.encryption.as_ref().map(|e| e.fingerprint.as_str()),
        meter,
    };
    if spec.zip {
        let inner = format!("{job_id}.zip");
        let name = sealed::file_name(inner.clone(), recipient.is_some());
        let file = std::fs::File::create(dir.join(&name))?;
        let out = HashingWriter::new(io::BufWriter::with_capacity(1 << 20, file));
        let out = Sealed::new(out, recipient, &inner)?;
        let (out, _, counts) = export.write_zip(out, BULK_DEFLATE_LEVEL, &mut source)?;
        Ok((
            vec![hashing::finish(out.finish()?, &name, durable)?],
            counts,
        ))
    } else {
        let dir = PathBuf::from(dir);
        let (entries, counts) = match recipient {
            Some(r) => {
                let stage = Box::new(sealed::EncryptEach(r.clone()));
                export.write_dir_staged(&dir, durable, stage, &mut source)?
            }
            None => export.write_dir(&dir, durable, &mut source)?,
        };
        Ok((manifest_first(entries), counts))
    }
}

/// The manifest (written last) is listed first: a client fetches it, then each part.
fn manifest_first(mut entries: Vec<FileEntry>) -> Vec<ArtifactFile> {
    if let Some(manifest) = entries.pop() {
        entries.insert(0, manifest);
    }
    entries
        .into_iter()
        .map(|e| ArtifactFile {
            name: e.name,
            bytes: e.bytes,
            sha256: e.sha256,
        })
        .collect()
}
