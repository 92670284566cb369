//! `ferry bench --bulk`: bulk export speed and memory. Builds (once per `--dir`) a deterministic
//! store of `--pageviews` page views and `--events` events from `--bulk-visitors` visitors over
//! 90 days, then runs the real `ferry export --bulk` as a child process for each figure (so
//! peak RSS is the export's own): CSV, NDJSON and Parquet written as plain files, the whole
//! chain to a finished CSV ZIP, and the memory of a tenth of the range against all of it.
//! Figures go to stdout and to `DIR/bulk-figures.json` for `scripts/bench-bulk-compare.py`.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::Utc;
use ferry_domain::{Activity, ActivityKind, IngestLine};
use indicatif::{ProgressBar, ProgressStyle};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

use super::bench::WEBSITE;
use crate::cli::BenchArgs;

const DAYS: i64 = 90;
const DAY_MS: i64 = 86_400_000;
const BROWSERS: [&str; 5] = ["Chrome", "Safari", "Firefox", "Edge", "Samsung Internet"];
const DEVICES: [&str; 3] = ["desktop", "mobile", "tablet"];
const COUNTRIES: [&str; 8] = ["DE", "US", "FR", "GB", "NL", "ES", "IT", "PL"];
const REFERRERS: [&str; 4] = [
    "https://www.google.com/",
    "https://duckduckgo.com/",
    "https://news.ycombinator.com/",
    "https://t.co/",
];
const EVENTS: [&str; 4] = ["add_to_cart", "purchase", "signup", "download"];

/// The dataset's shape, stored beside it so a rerun with other sizes starts afresh.
fn shape(args: &BenchArgs) -> Value {
    json!({"pageviews": args.pageviews, "events": args.events, "visitors": args.bulk_visitors, "days": DAYS})
}

/// Fills the store: sessions in start order, about ten page views and three events each.
async fn build(store: &dyn ferry_store::Store, args: &BenchArgs, start: i64) -> anyhow::Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let sessions = (args.pageviews / 10).max(1);
    let step = DAYS * DAY_MS / sessions as i64;
    let bar = ProgressBar::new(args.pageviews + args.events).with_style(
        ProgressStyle::with_template("building {bar:30} {human_pos}/{human_len} rows ({per_sec})")
            .expect("a valid template"),
    );
    let (mut pageviews, mut events) = (0u64, 0u64);
    let mut batch = Vec::with_capacity(20_000);
    let now = Utc::now().timestamp_millis();
    for s in 0..sessions {
        let visitor = rng.random_range(0..args.bulk_visitors.max(1));
        let at = start + s as i64 * step;
        let last = s + 1 == sessions;
        let pages = if last {
            args.pageviews - pageviews
        } else {
            rng.random_range(5..=15).min(args.pageviews - pageviews)
        };
        let wanted_events = args.events * (s + 1) / sessions - events;
        let base = Activity {
            website_id: WEBSITE.into(),
            visitor_id: format!("v{visitor:07}"),
            at,
            kind: ActivityKind::Pageview {
                url: String::new(),
                title: None,
                referrer: None,
            },
            device: Some(DEVICES[visitor as usize % 3].into()),
            browser: Some(BROWSERS[visitor as usize % 5].into()),
            country: Some(COUNTRIES[visitor as usize % 8].into()),
        };
        for p in 0..pages {
            let product = rng.random_range(0..500);
            let kind = ActivityKind::Pageview {
                url: format!("https://bench.example.com/products/{product}?ref=list"),
                title: Some(format!("Product {product} - Bench Shop")),
                referrer: (p == 0).then(|| REFERRERS[product % 4].to_string()),
            };
            let at = at + p as i64 * rng.random_range(10_000..90_000);
            batch.push(IngestLine::Activity(Activity {
                at,
                kind,
                ..base.clone()
            }));
        }
        for e in 0..wanted_events {
            let name = EVENTS[rng.random_range(0..4)];
            let mut properties = Map::new();
            properties.insert(
                "product_id".into(),
                json!(format!("SKU-{:04}", rng.random_range(0..500))),
            );
            properties.insert(
                "price".into(),
                json!(rng.random_range(100..20_000) as f64 / 100.0),
            );
            properties.insert("quantity".into(), json!(rng.random_range(1..4)));
            let kind = ActivityKind::Event {
                name: name.into(),
                properties,
            };
            let at = at + e as i64 * 20_000 + 5_000;
            batch.push(IngestLine::Activity(Activity {
                at,
                kind,
                ..base.clone()
            }));
        }
        pageviews += pages;
        events += wanted_events;
        if batch.len() >= 20_000 || last {
            bar.inc(batch.len() as u64);
            let lines = std::mem::replace(&mut batch, Vec::with_capacity(20_000));
            let outcome = store.ingest(None, lines, now).await?;
            if let Some(Err(e)) = outcome.iter().find(|r| r.is_err()) {
                bail!("the generated data was refused: {}", e.message);
            }
        }
    }
    bar.finish_and_clear();
    Ok(())
}

/// One run of `ferry export --bulk`: seconds, peak RSS (kB) and the child's own summary line.
struct Run {
    seconds: f64,
    rss_kb: u64,
    bytes: u64,
}

fn export(dir: &Path, name: &str, extra: &[&str]) -> anyhow::Result<Run> {
    let exe = std::env::current_exe()?;
    let out = dir.join(name);
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_file(&out);
    // Each run starts with no dirty pages of the one before it being written back meanwhile
    // (the comparison script does the same for DuckDB and chDB).
    std::process::Command::new("sync").status()?;
    let started = Instant::now();
    let result = std::process::Command::new(exe)
        .args([
            "--data-dir",
            &dir.to_string_lossy(),
            "export",
            "--bulk",
            "--website",
            WEBSITE,
        ])
        .args(extra)
        .args(["-o", &out.to_string_lossy()])
        .env("FERRY_REPORT_PEAK_RSS", "1")
        .env("FERRY_LOG", "warn")
        .output()?;
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&result.stderr);
    if !result.status.success() {
        bail!("ferry export {name} failed: {stderr}");
    }
    let rss_kb = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak rss: "))
        .and_then(|v| v.trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0);
    Ok(Run {
        seconds,
        rss_kb,
        bytes: size(&out),
    })
}

/// Runs on this VM vary by up to a factor of two (page cache and disk writeback of the
/// gigabytes each run writes): the ratio figures are the median of this many runs.
const REPEATS: usize = 3;

/// `export` `REPEATS` times: the run of median time, and every time.
fn median_export(dir: &Path, name: &str, extra: &[&str]) -> anyhow::Result<(Run, Vec<f64>)> {
    let mut runs = (0..REPEATS)
        .map(|_| export(dir, name, extra))
        .collect::<anyhow::Result<Vec<Run>>>()?;
    let times: Vec<f64> = runs.iter().map(|r| r.seconds).collect();
    runs.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
    Ok((runs.swap_remove(REPEATS / 2), times))
}

fn times_text(times: &[f64]) -> String {
    let each: Vec<String> = times.iter().map(|t| format!("{t:.2}")).collect();
    format!("median of {}", each.join(", "))
}

fn size(path: &Path) -> u64 {
    match std::fs::read_dir(path) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.metadata().map_or(0, |m| m.len()))
            .sum(),
        Err(_) => std::fs::metadata(path).map_or(0, |m| m.len()),
    }
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let dir = args.dir.clone().context(
        "--bulk needs --dir (the dataset is kept there for reruns and the comparison script)",
    )?;
    std::fs::create_dir_all(&dir)?;
    let marker = dir.join("bulk-dataset.json");
    let wanted = shape(&args);
    let start = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
        .timestamp_millis()
        - DAYS * DAY_MS;
    let built = std::fs::read_to_string(&marker)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok());
    let start = match built {
        Some(b) if b["shape"] == wanted => {
            println!("reusing the dataset in {}", dir.display());
            b["start"].as_i64().unwrap_or(start)
        }
        _ => {
            for name in ["ferry.db", "ferry.db-wal", "ferry.db-shm"] {
                let _ = std::fs::remove_file(dir.join(name));
            }
            let store = ferry_store::open("", &dir).await?;
            super::bench::bench_tenant(store.as_ref()).await?;
            let began = Instant::now();
            build(store.as_ref(), &args, start).await?;
            println!(
                "built {} page views and {} events from {} visitors in {:.0} s",
                args.pageviews,
                args.events,
                args.bulk_visitors,
                began.elapsed().as_secs_f64()
            );
            drop(store);
            std::fs::write(
                &marker,
                json!({"shape": wanted, "start": start}).to_string(),
            )?;
            start
        }
    };
    // Closed days formatted ahead of time, as the worker does in the background; a rerun
    // finds them built.
    let began = Instant::now();
    let store = ferry_store::open("", &dir).await?;
    let built = super::compact::compact(store, &dir, 2).await?;
    let compact_seconds = began.elapsed().as_secs_f64();
    println!(
        "export segments: built {} ({} rows, {:.1} MB formatted, {:.1} MB stored) in {compact_seconds:.1} s with 2 jobs",
        built.built,
        built.rows,
        built.raw_bytes as f64 / 1e6,
        built.stored_bytes as f64 / 1e6,
    );
    let rows = (args.pageviews + args.events) as f64;
    let types = ["--include", "pageviews,events"];
    let mut figures = serde_json::Map::new();
    figures.insert(
        "segments".into(),
        json!({"built": built.built, "seconds": compact_seconds, "rows": built.rows, "raw_bytes": built.raw_bytes, "stored_bytes": built.stored_bytes}),
    );
    println!(
        "bulk export of {} page views + {} events (rows/s over both; MB/s of output):",
        args.pageviews, args.events
    );
    // The figures the ratios use are medians; Parquet and the live runs are single runs.
    for (label, format, name, live, repeats) in [
        ("csv", "csv", "out-csv", false, true),
        ("ndjson", "ndjson", "out-ndjson", false, true),
        ("parquet", "parquet", "out-parquet", false, false),
        ("csv_live", "csv", "out-csv", true, false),
        ("ndjson_live", "ndjson", "out-ndjson", true, false),
    ] {
        let mut extra = vec![types[0], types[1], "--format", format, "--no-zip"];
        if live {
            extra.push("--no-segments");
        }
        let (run, times) = match repeats {
            true => median_export(&dir, name, &extra)?,
            false => {
                let run = export(&dir, name, &extra)?;
                let times = vec![run.seconds];
                (run, times)
            }
        };
        println!(
            "  {label:<11} {:>6.2} s  {:>10.0} rows/s  {:>7.1} MB/s  {:>7.1} MB  peak RSS {:.1} MB  ({})",
            run.seconds,
            rows / run.seconds,
            run.bytes as f64 / run.seconds / 1e6,
            run.bytes as f64 / 1e6,
            run.rss_kb as f64 / 1024.0,
            times_text(&times)
        );
        figures.insert(label.into(), json!({"seconds": run.seconds, "runs": times, "rows_per_sec": rows / run.seconds, "bytes": run.bytes, "peak_rss_kb": run.rss_kb}));
    }
    let (zip, times) = median_export(&dir, "out.zip", &[types[0], types[1], "--format", "csv"])?;
    println!(
        "  csv→zip  {:>6.2} s  {:>10.0} rows/s  {:>7.1} MB ZIP  peak RSS {:.1} MB  (query to finished ZIP; {})",
        zip.seconds,
        rows / zip.seconds,
        zip.bytes as f64 / 1e6,
        zip.rss_kb as f64 / 1024.0,
        times_text(&times)
    );
    figures.insert("csv_zip".into(), json!({"seconds": zip.seconds, "runs": times, "rows_per_sec": rows / zip.seconds, "bytes": zip.bytes, "peak_rss_kb": zip.rss_kb}));
    if let Some(endpoint) = &args.s3_endpoint {
        let (seconds, bytes) =
            super::bench_delivery::deliver_to_s3(&dir.join("out.zip"), endpoint).await?;
        println!(
            "  zip→s3   {seconds:>6.2} s  {:>7.1} MB/s  ({:.1} MB to {endpoint}, streamed multipart)",
            bytes as f64 / seconds / 1e6,
            bytes as f64 / 1e6
        );
        figures.insert(
            "zip_to_s3".into(),
            json!({"seconds": seconds, "bytes": bytes, "endpoint": endpoint}),
        );
    }
    if let Some(key) = &args.pgp_key {
        let key = key.to_string_lossy();
        let extra = [types[0], types[1], "--format", "csv", "--pgp-key", &key];
        let (sealed, times) = median_export(&dir, "out.zip.gpg", &extra)?;
        println!(
            "  csv→zip→gpg {:>6.2} s  {:>7.1} MB  peak RSS {:.1} MB  (+{:.1}% for encryption; {})",
            sealed.seconds,
            sealed.bytes as f64 / 1e6,
            sealed.rss_kb as f64 / 1024.0,
            (sealed.seconds / zip.seconds - 1.0) * 100.0,
            times_text(&times)
        );
        figures.insert("csv_zip_pgp".into(), json!({"seconds": sealed.seconds, "runs": times, "bytes": sealed.bytes, "peak_rss_kb": sealed.rss_kb}));
    }
    let live_zip = export(
        &dir,
        "out.zip",
        &[types[0], types[1], "--format", "csv", "--no-segments"],
    )?;
    println!(
        "  csv→zip  {:>6.2} s  {:>10.0} rows/s  {:>7.1} MB ZIP  peak RSS {:.1} MB  (every row read and formatted live)",
        live_zip.seconds,
        rows / live_zip.seconds,
        live_zip.bytes as f64 / 1e6,
        live_zip.rss_kb as f64 / 1024.0
    );
    figures.insert("csv_zip_live".into(), json!({"seconds": live_zip.seconds, "bytes": live_zip.bytes, "peak_rss_kb": live_zip.rss_kb}));
    // Memory as the export grows: a tenth of the days against all of them.
    let first = chrono::DateTime::from_timestamp_millis(start)
        .expect("a time")
        .date_naive();
    let tenth = (first + chrono::Duration::days(DAYS / 10 - 1)).to_string();
    let (from, to) = (first.to_string(), tenth);
    let small = export(
        &dir,
        "out-tenth.zip",
        &[
            types[0], types[1], "--format", "csv", "--from", &from, "--to", &to,
        ],
    )?;
    let every = export(&dir, "out-all.zip", &["--format", "csv"])?;
    println!(
        "  memory (csv→zip of page views + events): {} days {:.1} MB peak RSS, all {DAYS} days {:.1} MB",
        DAYS / 10,
        small.rss_kb as f64 / 1024.0,
        zip.rss_kb as f64 / 1024.0
    );
    println!(
        "  every data type (+ sessions, visitors, summary) to a ZIP: {:.2} s, peak RSS {:.1} MB",
        every.seconds,
        every.rss_kb as f64 / 1024.0
    );
    figures.insert(
        "all_types".into(),
        json!({"seconds": every.seconds, "peak_rss_kb": every.rss_kb}),
    );
    figures.insert("rss_tenth_kb".into(), json!(small.rss_kb));
    figures.insert("rss_all_kb".into(), json!(zip.rss_kb));
    figures.insert("rows".into(), json!(rows));
    std::fs::write(
        dir.join("bulk-figures.json"),
        serde_json::to_vec_pretty(&Value::Object(figures))?,
    )?;
    for name in [
        "out-csv",
        "out-ndjson",
        "out.zip",
        "out.zip.gpg",
        "out-tenth.zip",
        "out-all.zip",
    ] {
        let _ = std::fs::remove_dir_all(dir.join(name));
        let _ = std::fs::remove_file(dir.join(name));
    }
    Ok(())
}
