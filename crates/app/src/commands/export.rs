//! `ferry export`: one person's export (`--user`, `--email`, `--visitor`) or a website's
//! (`--bulk --website`), asked for through the export service like any API request, and run
//! here and now through the worker's own job path, with a progress bar. The job, its receipt
//! and its audit entries (actor `cli`) are kept like any other; the files are delivered to
//! `-o` (hard-linked from the artifact store when on the same disk). Plan limits do not
//! apply: this is the operator's own tool.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use ferry_deliver::path::PathSink;
use ferry_domain::Account;
use ferry_domain::export::{Include, SubjectRef};
use ferry_domain::plan::parse_size;
use ferry_export::bulk::parts::Meter;
use ferry_store::Store;
use indicatif::{HumanBytes, ProgressBar, ProgressStyle};

use crate::cli::{ExportArgs, FormatArg};
use crate::clock;
use crate::config::StoreArgs;
use crate::jobs::{Outcome, RunOptions, Worker};
use crate::services::Actor;
use crate::services::exports::{EncryptionOptions, ExportOptions, MIN_PART_SIZE, request_export};

pub async fn run(store_args: &StoreArgs, args: ExportArgs) -> anyhow::Result<()> {
    let store = super::open_existing_store(store_args).await?;
    let account = pick_account(
        store.as_ref(),
        args.account.as_deref(),
        args.website.as_deref(),
    )
    .await?;
    let subject = match (&args.user, &args.email, &args.visitor) {
        _ if args.bulk => None,
        (Some(u), _, _) => Some(SubjectRef::UserId(u.clone())),
        (_, Some(e), _) => Some(SubjectRef::Email(e.clone())),
        (_, _, Some(v)) => Some(SubjectRef::VisitorId(v.clone())),
        _ => bail!("name the person with --user, --email or --visitor, or ask for --bulk"),
    };
    let options = options(&args)?;
    // Before any work: a directory there is never replaced or merged into.
    if args.output.is_dir() && std::fs::read_dir(&args.output).is_ok_and(|mut d| d.next().is_some())
    {
        bail!(
            "{} is a directory that holds files: name a new path for the export",
            args.output.display()
        );
    }
    let clock = clock::system();
    let actor = Actor::Cli {
        account: account.id,
    };
    let requested = request_export(store.as_ref(), clock.as_ref(), &actor, subject, options)
        .await
        .map_err(|problem| anyhow!("{problem}"))?;
    let job = requested.job;
    let queue_job = job
        .queue_job
        .context("the export was queued without a job")?;

    let mut worker = Worker::new(store.clone(), &store_args.data_dir, clock);
    if args.no_segments {
        worker.segments = None;
    }
    let meter = Meter::new(None);
    let bar = progress_bar(&meter, store.clone(), job.id.clone());
    let counts = Arc::new(std::sync::Mutex::new(None));
    let run = RunOptions {
        sink: Arc::new(PathSink {
            target: args.output.clone(),
        }),
        durable: false,
        segments: !args.no_segments,
        meter: Some(meter.clone()),
        counts: Some(counts.clone()),
    };
    let started = Instant::now();
    let event = worker.run_job(queue_job, run).await?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let (_, finished) = store
        .export_job_any(&job.id)
        .await?
        .context("the export disappeared")?;
    match event.map(|e| e.outcome) {
        Some(Outcome::Done) => {}
        _ => {
            let (code, message) = finished
                .error
                .unwrap_or_else(|| ("export_failed".into(), "the export did not finish".into()));
            bail!("{code}: {message} (export {})", job.id);
        }
    }
    retire_stored_copy(&worker, &account, &job.id).await;
    let rows = finished.rows_written;
    let per_type: Vec<String> = counts
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
        .unwrap_or_default()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    eprintln!(
        "wrote {} ({}) in {seconds:.2} s: {:.0} rows/s, {:.1} MB/s of data; export {}",
        args.output.display(),
        per_type.join(" "),
        rows as f64 / seconds,
        meter.bytes.load(Ordering::Relaxed) as f64 / seconds / 1e6,
        job.id,
    );
    if std::env::var_os("FERRY_REPORT_PEAK_RSS").is_some() {
        // For the benchmarks, which run this command to measure its memory.
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        if let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:")) {
            eprintln!("peak rss: {}", line.trim_start_matches("VmHWM:").trim());
        }
    }
    Ok(())
}

/// The files now live at `-o`; the artifact store's copy would only take disk space until a
/// sweep, and nobody was given a link to it. The export is kept (status `expired`, receipt
/// and trail intact), its stored files are deleted, and the trail says why.
async fn retire_stored_copy(worker: &Worker, account: &Account, export_id: &str) {
    let now = worker.clock.now();
    let retired = match worker.store.cancel_export(account.id, export_id, now).await {
        Ok(Some((job, artifact))) => (job, artifact),
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, export.id = export_id, "cannot retire the stored copy");
            return;
        }
    };
    let (job, artifact) = retired;
    if let Some(prefix) = artifact {
        let _ = worker.artifacts.delete(&prefix).await;
    }
    let details =
        serde_json::json!({"reason": "delivered to a local path; the stored copy is not kept"});
    let entry = crate::audit::export_event(
        "cli",
        "data_export.deleted",
        export_id,
        &job.spec,
        "ok",
        details,
    );
    crate::audit::record_or_log(worker.store.as_ref(), account.id, entry).await;
}

/// The flags as the export service takes them.
fn options(args: &ExportArgs) -> anyhow::Result<ExportOptions> {
    let format = match args.format {
        FormatArg::Json => "json",
        FormatArg::Csv => "csv",
        FormatArg::Ndjson => "ndjson",
        FormatArg::Parquet => "parquet",
    };
    let part_size = if args.bulk {
        Some(
            parse_size(&args.part_size)
                .filter(|n| *n >= MIN_PART_SIZE)
                .ok_or_else(|| {
                    anyhow!("--part-size takes a size of at least 1MiB, e.g. 500MB or 1GB")
                })?,
        )
    } else {
        None
    };
    Ok(ExportOptions {
        format: Some(format.into()),
        include: Some(include(&args.include)),
        website_id: args.website.clone(),
        from: args.from.clone(),
        to: args.to.clone(),
        zip: Some(if args.bulk { !args.no_zip } else { args.zip }),
        part_size,
        keep_formulas: Some(args.keep_formulas),
        encryption: if args.no_encryption {
            Some(EncryptionOptions {
                none: Some(true),
                ..EncryptionOptions::default()
            })
        } else {
            args.pgp_key.as_deref().map(pgp_key).transpose()?
        },
        ..ExportOptions::default()
    })
}

/// `--pgp-key FILE`: the armored public key it holds.
fn pgp_key(path: &std::path::Path) -> anyhow::Result<EncryptionOptions> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        anyhow!(
            "cannot read the public key {}: {e} (give a file made by gpg --armor --export KEYID)",
            path.display()
        )
    })?;
    Ok(EncryptionOptions::key(text))
}

/// `--include`: `all` or a comma-separated list of data types.
pub(super) fn include(arg: &str) -> Include {
    if arg == "all" {
        return Include::Keyword("all".into());
    }
    Include::List(arg.split(',').map(|t| t.trim().to_string()).collect())
}

/// A bar when a person watches; nothing (no escape codes) in a pipe or a file.
/// The total comes from the job itself, which counts its rows beside the export (a bulk
/// export's percent and ETA appear once it is known).
fn progress_bar(meter: &Arc<Meter>, store: Arc<dyn Store>, export_id: String) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template(
            "{bar:30} {percent:>3}% {human_pos}/{human_len} rows, {msg} ({per_sec}), ETA {eta}",
        )
        .expect("a valid template"),
    );
    let (ticker, meter) = (bar.clone(), meter.clone());
    tokio::spawn(async move {
        let mut total_known = false;
        while !ticker.is_finished() {
            if !total_known
                && let Ok(Some((_, job))) = store.export_job_any(&export_id).await
                && let Some(total) = job.rows_total
            {
                ticker.set_length(total);
                total_known = true;
            }
            ticker.set_position(meter.rows.load(Ordering::Relaxed));
            ticker.set_message(format!(
                "{} written",
                HumanBytes(meter.bytes.load(Ordering::Relaxed))
            ));
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    bar
}

/// The account the export is from: `--account`, else the one that owns `--website`, else the
/// only account.
pub(super) async fn pick_account(
    store: &dyn Store,
    name: Option<&str>,
    website: Option<&str>,
) -> anyhow::Result<Account> {
    if let Some(name) = name {
        return store.account_by_name(name).await?.with_context(|| {
            format!("no account named `{name}`: list them with `ferry accounts list`")
        });
    }
    let mut accounts = store.accounts().await?;
    if let Some(website) = website {
        let mut owners = Vec::new();
        for account in &accounts {
            if store.website(account.id, website).await?.is_some() {
                owners.push(account.clone());
            }
        }
        match owners.len() {
            1 => return Ok(owners.remove(0)),
            0 => bail!(
                "no website `{website}` in any account: list them with `ferry websites list --account NAME`"
            ),
            _ => {}
        }
    }
    match accounts.len() {
        1 => Ok(accounts.remove(0)),
        0 => bail!("there are no accounts yet: create one with `ferry accounts create NAME`"),
        _ => {
            let names: Vec<String> = accounts.into_iter().map(|a| a.name).collect();
            bail!(
                "several accounts exist ({}): choose one with --account",
                names.join(", ")
            )
        }
    }
}
