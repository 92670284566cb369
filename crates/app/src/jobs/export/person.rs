//! A person's export job: find them, stream their rows into `{id}.zip` or `{id}.json`.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use chrono::{SecondsFormat, Utc};
use ferry_domain::AccountId;
use ferry_domain::export::Format;
use ferry_domain::job::{ExportJob, ReceiptRange};
use ferry_export::bulk::parts::Meter;
use ferry_export::person::PersonExport;

use super::{Hashing, Output, RowCounts};
use crate::error_code::ErrorCode;
use crate::jobs::{Failure, RunOptions, Worker};
use crate::pipeline::StoreSource;

pub(super) async fn run(
    worker: &Worker,
    account: AccountId,
    job: &ExportJob,
    dir: &Path,
    meter: Arc<Meter>,
    options: &RunOptions,
) -> Result<Output, Failure> {
    let spec = job.spec.clone();
    let subject_ref = spec
        .subject
        .clone()
        .ok_or_else(|| Failure::transient("no subject"))?;
    let subject = worker
        .store
        .find_subject(account, &subject_ref, spec.website_id.as_deref())
        .await
        .map_err(Failure::transient)?
        .ok_or_else(|| {
            Failure::permanent(
                ErrorCode::SubjectNotFound,
                "the person was not found (was their data erased?)",
            )
        })?;
    let subject_email = subject.profile.as_ref().and_then(|p| p.email.clone());
    let counter = meter.clone();
    let source = StoreSource {
        store: worker.store.clone(),
        visitors: subject.identities.iter().map(|i| i.visitor_key).collect(),
        range: spec.range,
        runtime: tokio::runtime::Handle::current(),
        on_row: Arc::new(move || {
            counter.rows.fetch_add(1, Ordering::Relaxed);
        }),
    };
    let zip = spec.zip || spec.format != Format::Json;
    let name = format!("{}.{}", job.id, if zip { "zip" } else { "json" });
    let (path, job_id, durable) = (dir.join(&name), job.id.clone(), options.durable);
    let written = tokio::task::spawn_blocking(move || -> io::Result<(Vec<_>, RowCounts)> {
        let mut source = source;
        let generated_at = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
        let export = PersonExport {
            export_id: &job_id,
            generated_at: &generated_at,
            subject_ref: &subject_ref,
            subject: &subject,
            data_types: &spec.data_types,
            format: spec.format,
            range: spec.range,
            neutralise: !spec.keep_formulas,
        };
        let file = std::fs::File::create(&path)?;
        let out = Hashing::new(io::BufWriter::with_capacity(1 << 20, file), Some(meter));
        let (out, counts) = if zip {
            export.write_zip(out, &mut source)?
        } else {
            export.write_json(out, &mut source)?
        };
        Ok((vec![out.finish(&name, durable)?], counts))
    })
    .await;
    let (files, counts) = match written {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => return Err(Failure::transient(e)),
        Err(e) => return Err(Failure::transient(e)),
    };
    Ok(Output {
        files,
        counts,
        subject_email,
        range: ReceiptRange {
            start: job.spec.range.start,
            end: job.spec.range.end,
        },
    })
}
