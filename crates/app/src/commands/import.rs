//! `ferry import FILE`: NDJSON in the `POST /api/ingest` format, in batches, with a progress bar.
//! Exits non-zero when any line was refused, after listing why.

use std::io::{BufRead, BufReader, Read};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};

use crate::api::ingest::ingest_ndjson;
use crate::cli::ImportArgs;
use crate::config::StoreArgs;

/// Refused lines listed on stderr; the rest are only counted.
const SHOWN_ERRORS: usize = 20;

pub async fn run(store_args: &StoreArgs, args: ImportArgs) -> anyhow::Result<()> {
    let store = super::open_existing_store(store_args).await?;
    let (reader, size): (Box<dyn Read>, Option<u64>) = if args.file.as_os_str() == "-" {
        (Box::new(std::io::stdin()), None)
    } else {
        let file = std::fs::File::open(&args.file)
            .with_context(|| format!("cannot open {}", args.file.display()))?;
        let size = file.metadata().ok().map(|m| m.len());
        (Box::new(file), size)
    };
    let bar = match size {
        Some(n) => ProgressBar::new(n).with_style(
            ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .expect("a valid template"),
        ),
        None => ProgressBar::new_spinner(),
    };
    let mut reader = BufReader::with_capacity(1 << 20, reader);
    let (mut accepted, mut rejected, mut line_base) = (0usize, 0usize, 0usize);
    let mut chunk = Vec::with_capacity(4 << 20);
    loop {
        chunk.clear();
        let mut lines = 0;
        while lines < args.batch.max(1) {
            let read = reader
                .read_until(b'\n', &mut chunk)
                .context("cannot read the input")?;
            if read == 0 {
                break;
            }
            lines += 1;
            bar.inc(read as u64);
        }
        if lines == 0 {
            break;
        }
        if !chunk.iter().all(u8::is_ascii_whitespace) {
            let body =
                axum::body::Bytes::from(std::mem::replace(&mut chunk, Vec::with_capacity(4 << 20)));
            let report = ingest_ndjson(store.as_ref(), None, &body)
                .await
                .map_err(|e| anyhow::anyhow!("{}: {}", e.code, e.message))?;
            accepted += report.accepted;
            for error in &report.errors {
                if rejected < SHOWN_ERRORS {
                    bar.suspend(|| {
                        eprintln!(
                            "line {}: {}: {}",
                            line_base + error.line,
                            error.code,
                            error.message
                        )
                    });
                }
                rejected += 1;
            }
        }
        line_base += lines;
    }
    bar.finish_and_clear();
    eprintln!("imported {accepted} lines, refused {rejected}");
    if rejected > 0 {
        bail!(
            "{rejected} lines were refused (the first {} are listed above); the others were imported",
            rejected.min(SHOWN_ERRORS)
        );
    }
    Ok(())
}
