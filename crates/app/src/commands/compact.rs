//! `ferry compact`: builds the export segments of every closed day now, and reports what it
//! wrote.

use std::time::Instant;

use chrono::Utc;
use indicatif::{HumanBytes, ProgressBar, ProgressStyle};

use crate::cli::CompactArgs;
use crate::config::StoreArgs;
use crate::jobs::BULK_DEFLATE_LEVEL;
use crate::segments::SegmentFiles;
use crate::segments::build::{Compactor, Report};

/// Builds every missing segment in `data_dir`'s store; returns what was built.
pub async fn compact(
    store: std::sync::Arc<dyn ferry_store::Store>,
    data_dir: &std::path::Path,
    jobs: usize,
) -> anyhow::Result<Report> {
    let compactor = Compactor {
        store,
        files: SegmentFiles::new(data_dir),
        level: BULK_DEFLATE_LEVEL,
    };
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("building export segments {bar:30} {pos}/{len} (a day of one data type each), ETA {eta}")
            .expect("a valid template"),
    );
    let progress = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let report = compactor
        .run_with_progress(Utc::now().timestamp_millis(), jobs, &progress)
        .await;
    bar.finish_and_clear();
    report
}

pub async fn run(store_args: &StoreArgs, args: CompactArgs) -> anyhow::Result<()> {
    let store = super::open_existing_store(store_args).await?;
    let started = Instant::now();
    let report = compact(store, &store_args.data_dir, args.jobs).await?;
    println!(
        "built {} segments ({} rows, {} formatted, {} stored) and noted {} empty days in {:.1} s; {} discarded (their day changed meanwhile), {} leftovers removed",
        report.built,
        report.rows,
        HumanBytes(report.raw_bytes),
        HumanBytes(report.stored_bytes),
        report.empty,
        started.elapsed().as_secs_f64(),
        report.discarded,
        report.removed
    );
    Ok(())
}
