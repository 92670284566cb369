//! A person's export job: find them, stream their rows into `{id}.zip` (with the Art. 15
//! answer, [`about`]) or `{id}.json`.

use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use ferry_domain::export::Format;
use ferry_domain::time::{rfc3339, whole_seconds};
use ferry_export::person::{PersonExport, Written};

use super::about;
use super::sealed::{self, Sealed};
use super::{Attempt, Output, hashing};
use crate::error_code::ErrorCode;
use crate::jobs::Failure;
use crate::pipeline::StoreSource;
use ferry_export::hashing::HashingWriter;

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
    let cap = worker.settings.max_subject_visitors;
    if subject.identities.len() > cap {
        return Err(Failure::permanent(
            ErrorCode::TooManyVisitors,
            format!(
                "this person is linked to {} visitors, more than the {cap} one export reads: \
                 export one website at a time (website_id), or ask the operator to raise \
                 --max-subject-visitors",
                subject.identities.len()
            ),
        ));
    }
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
    // Every package of a person's data carries the Art. 15 answer; a bare JSON document (the
    // reference page's call) has no room for it.
    let about = match zip {
        true => Some(
            about::gather(
                worker.store.as_ref(),
                account,
                &subject_ref,
                &subject.identities,
                &job.id,
            )
            .await
            .map_err(Failure::transient)?,
        ),
        false => None,
    };
    let recipient = sealed::recipient(spec.encryption.as_ref(), worker.clock.now())?;
    let inner = format!("{}.{}", job.id, if zip { "zip" } else { "json" });
    let name = sealed::file_name(inner.clone(), recipient.is_some());
    let (path, job_id, durable) = (dir.join(&name), job.id.clone(), options.durable);
    // One instant for the file and the receipt, in whole seconds.
    let generated = whole_seconds(worker.clock.now());
    let written = tokio::task::spawn_blocking(move || -> io::Result<(Vec<_>, Written)> {
        let mut source = source;
        let generated_at = rfc3339(generated);
        let export = PersonExport {
            export_id: &job_id,
            generated_at: &generated_at,
            subject_ref: &subject_ref,
            subject: &subject,
            data_types: &spec.data_types,
            format: spec.format,
            range: spec.range,
            neutralise: !spec.keep_formulas,
            encrypted_to: spec.encryption.as_ref().map(|e| e.fingerprint.as_str()),
            about: about.as_ref(),
        };
        let file = std::fs::File::create(&path)?;
        let out =
            HashingWriter::new(io::BufWriter::with_capacity(1 << 20, file)).with_meter(Some(meter));
        let out = Sealed::new(out, recipient.as_ref(), &inner)?;
        let (out, written) = if zip {
            export.write_zip(out, &mut source)?
        } else {
            export.write_json(out, &mut source)?
        };
        Ok((
            vec![hashing::finish(out.finish()?, &name, durable)?],
            written,
        ))
    })
    .await;
    let (files, Written { counts, range }) = match written {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => return Err(Failure::transient(e)),
        Err(e) => return Err(Failure::transient(e)),
    };
    Ok(Output {
        files,
        counts,
        subject_email,
        range,
        generated_at: generated,
    })
}
