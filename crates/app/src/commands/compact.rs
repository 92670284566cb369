//! `ferry compact`: builds the export segments of every closed day now, and reports what it
//! wrote.

use std::time::Instant;

use chrono::Utc;
use indicatif::HumanBytes;

use crate::cli::CompactArgs;
use crate::config::StoreArgs;
use crate::segments::SegmentFiles;
use crate::segments::build::{Compactor, Report};
use crate::worker::BULK_DEFLATE_LEVEL;

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
    compactor
        .run_once(Utc::now().timestamp_millis(), jobs)
        .await
}

pub async fn run(store_args: &StoreArgs, args: CompactArgs) -> anyhow::Result<()> {
    let store = super::open_store(store_args).await?;
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
