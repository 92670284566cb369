//! `ferry export --bulk --website web_… --format csv -o site.zip`: a website's bulk export
//! through the same writers as the API's, with a progress bar (rows of the counted total,
//! percent, data written, ETA). The ZIP (or, with --no-zip, the directory) appears only when
//! complete. Plan limits do not apply: this is the operator's own tool.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use std::io::Write;

use anyhow::{Context, anyhow};
use chrono::{SecondsFormat, Utc};
use ferry_domain::export::{DataType, Format};
use ferry_domain::plan::parse_size;
use ferry_export::bulk::BulkExport;
use ferry_export::bulk::parts::Meter;
use ferry_export::package::DateRangeOut;
use indicatif::{HumanBytes, ProgressBar, ProgressStyle};

use super::export::{day, include, pick_account};
use crate::bulk_source::{BulkStoreSource, export_days};
use crate::cli::{ExportArgs, FormatArg};
use crate::config::StoreArgs;
use crate::keys::random_id;
use crate::segments::SegmentFiles;
use crate::segments::count::expected_rows;

pub async fn run(store_args: &StoreArgs, args: ExportArgs) -> anyhow::Result<()> {
    let store = super::open_store(store_args).await?;
    let account = pick_account(store.as_ref(), args.account.as_deref()).await?;
    let website_id = args.website.clone().unwrap_or_default();
    let website = store
        .website(account.id, &website_id)
        .await?
        .with_context(|| format!("no website `{website_id}` in account `{}`", account.name))?;
    let data_types = include(&args.include)?
        .resolve_bulk()
        .map_err(|e| anyhow!(e))?;
    let part_size = parse_size(&args.part_size)
        .filter(|n| *n >= 512)
        .ok_or_else(|| {
            anyhow!("--part-size takes a size of at least 512 bytes, e.g. 500MB or 1GB")
        })?;
    let from = args.from.as_deref().map(|d| day("from", d)).transpose()?;
    let to = args.to.as_deref().map(|d| day("to", d)).transpose()?;
    let range = export_days(store.as_ref(), &website, from, to).await?;
    if range.from > range.to {
        anyhow::bail!("--from ({}) is after --to ({})", range.from, range.to);
    }
    let format = match args.format {
        FormatArg::Json => Format::Json,
        FormatArg::Csv => Format::Csv,
        FormatArg::Ndjson => Format::Ndjson,
        FormatArg::Parquet => Format::Parquet,
    };
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template(
            "{bar:30} {percent:>3}% {human_pos}/{human_len} rows, {msg} ({per_sec}), ETA {eta}",
        )
        .expect("a valid template"),
    );
    // The total is counted beside the export: the bar shows percent and ETA once it is known.
    {
        let (store, bar, types) = (Arc::clone(&store), bar.clone(), data_types.clone());
        let (id, window) = (website.id.clone(), range.bounds(website.timezone));
        let segments = !args.no_segments;
        tokio::spawn(async move {
            if let Ok(total) = expected_rows(store.as_ref(), &id, window, &types, segments).await {
                bar.set_length(total);
            }
        });
    }
    let meter = Meter::new(None);
    let ticker = {
        let (bar, meter) = (bar.clone(), meter.clone());
        std::thread::spawn(move || {
            while !bar.is_finished() {
                bar.set_position(meter.rows.load(Ordering::Relaxed));
                bar.set_message(format!(
                    "{} written",
                    HumanBytes(meter.bytes.load(Ordering::Relaxed))
                ));
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    };
    let prefetch = format == Format::Csv && data_types.contains(&DataType::Events);
    let source = BulkStoreSource::new(
        Arc::clone(&store),
        website.clone(),
        range,
        tokio::runtime::Handle::current(),
        (!args.no_segments).then(|| SegmentFiles::new(&store_args.data_dir)),
        prefetch,
    );
    let (output, no_zip, neutralise) = (args.output.clone(), args.no_zip, !args.keep_formulas);
    let started = Instant::now();
    let job_meter = meter.clone();
    let written = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let mut source = source;
        let export_id = random_id("exp_", 8);
        let generated_at = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
        let export = BulkExport {
            export_id: &export_id,
            generated_at: &generated_at,
            website_id: &website.id,
            domain: &website.domain,
            time_zone: website.timezone.name(),
            data_types: &data_types,
            format,
            range: DateRangeOut {
                start: Some(range.from.to_string()),
                end: Some(range.to.to_string()),
            },
            part_size,
            neutralise,
            meter: &job_meter,
        };
        let partial = output.with_extension("part");
        let counts = if no_zip {
            let _ = std::fs::remove_dir_all(&partial);
            // Like cp or a database's COPY, the CLI leaves flushing to the OS; the worker syncs.
            let (_, counts) = export.write_dir(&partial, false, &mut source)?;
            counts
        } else {
            let file = std::fs::File::create(&partial)
                .with_context(|| format!("cannot write {}", partial.display()))?;
            let out = std::io::BufWriter::with_capacity(1 << 20, file);
            let (mut out, _, counts) =
                export.write_zip(out, crate::worker::BULK_DEFLATE_LEVEL, &mut source)?;
            out.flush()?;
            counts
        };
        std::fs::rename(&partial, &output)
            .with_context(|| format!("cannot move the export to {}", output.display()))?;
        Ok(counts)
    })
    .await?;
    bar.finish_and_clear();
    let _ = ticker.join();
    let counts = written?;
    let seconds = started.elapsed().as_secs_f64();
    let rows: u64 = counts.values().sum();
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{k}={v}")).collect();
    eprintln!(
        "wrote {} ({}) in {seconds:.2} s: {:.0} rows/s, {:.1} MB/s of data",
        args.output.display(),
        summary.join(" "),
        rows as f64 / seconds,
        meter.bytes.load(Ordering::Relaxed) as f64 / seconds / 1e6,
    );
    if std::env::var_os("FERRY_REPORT_PEAK_RSS").is_some() {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        if let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:")) {
            eprintln!("peak rss: {}", line.trim_start_matches("VmHWM:").trim());
        }
    }
    Ok(())
}
