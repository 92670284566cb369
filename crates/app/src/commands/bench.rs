//! `ferry bench`: NDJSON ingest throughput over HTTP into SQLite, then the analytics endpoints'
//! latency on the store it built. Figures go to stdout; nothing here is a pass/fail test.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{TimeZone, Utc};
use ferry_domain::{Account, IngestLine, NewWebsite, Plan, Scopes};
use ferry_store::Store;
use futures_util::StreamExt;
use serde_json::Value;

use crate::cli::{BenchArgs, Order};
use crate::config::ServeArgs;
use crate::demo::{DemoSpec, Generator};
use crate::keys::{MintedKey, mint};
use crate::startup::App;

pub(crate) const WEBSITE: &str = "web_bench";
const IN_FLIGHT: usize = 2;

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| temp.path().to_path_buf());
    let db = dir.join("bench.db");
    if db.exists() {
        bail!("{} exists: point --dir at an empty directory", db.display());
    }
    let store = ferry_store::open(&db.to_string_lossy(), &dir).await?;
    let (_, key) = bench_tenant(store.as_ref()).await?;
    let app = App::build(store.clone(), &ServeArgs::loopback(), &dir).await?;
    let base = app.base_url.clone();
    tokio::spawn(app.run());

    let now = Utc::now().timestamp_millis();
    let spec = DemoSpec {
        website_id: WEBSITE.into(),
        visitors: args.visitors,
        days: 90,
        seed: 7,
        end: now,
    };
    let (start, end) = (spec.start(), now);
    eprintln!("generating {} visitors of NDJSON…", args.visitors);
    let mut generator = Generator::new(spec);
    let mut lines = Vec::new();
    while let Some(batch) = generator.next_batch(args.batch) {
        lines.extend(batch);
    }
    if args.order == Order::Time {
        // As live traffic arrives: everyone interleaved in time. Identifies carry the time of
        // the visit they were sent in, so a stable sort keeps them right after it.
        lines.sort_by_key(|line| match line {
            IngestLine::Activity(a) => a.at,
            IngestLine::Identify(i) => i.created_at.unwrap_or_default(),
        });
    }
    let mut bodies = Vec::new();
    for batch in lines.chunks(args.batch) {
        let mut body = Vec::with_capacity(batch.len() * 300);
        for line in batch {
            serde_json::to_writer(&mut body, &line.to_wire())?;
            body.push(b'\n');
        }
        bodies.push(body);
    }
    drop(lines);
    let tally = generator.tally.clone();
    let bytes: usize = bodies.iter().map(Vec::len).sum();
    println!(
        "dataset ({}): {} visitors, {} sessions, {} page views, {} events, {} identifies ({} lines, {:.1} MB NDJSON)",
        args.order.describe(),
        tally.visitors,
        tally.sessions,
        tally.pageviews,
        tally.events,
        tally.users,
        tally.lines,
        bytes as f64 / 1e6
    );

    // The breakdown: JSON parsing alone, then the store alone (a second database, fed parsed
    // lines directly), then the real thing over HTTP.
    let began = Instant::now();
    let mut parsed = Vec::with_capacity(bodies.len());
    for body in &bodies {
        let lines = body
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| ferry_domain::ingest::parse_line(l, now + 60_000))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| anyhow::anyhow!("the generator wrote a bad line: {}", e.message))?;
        parsed.push(lines);
    }
    let parse_took = began.elapsed();
    println!(
        "parse only: {} lines in {:.2} s = {:.0} lines/s on one core",
        tally.lines,
        parse_took.as_secs_f64(),
        tally.lines as f64 / parse_took.as_secs_f64()
    );
    let direct = ferry_store::open(&dir.join("store-only.db").to_string_lossy(), &dir).await?;
    let direct_account = direct.create_account("bench", Plan::Enterprise).await?;
    let site = NewWebsite {
        domain: "bench.example.com".into(),
        timezone: Some("UTC".into()),
        retention_days: None,
    };
    direct
        .create_website(
            direct_account.id,
            WEBSITE,
            site.validate()?,
            &crate::identify_signature::new_secret(),
        )
        .await?;
    let began = Instant::now();
    for lines in parsed {
        direct
            .ingest(Some(direct_account.id), lines, now + 60_000)
            .await?;
    }
    let store_took = began.elapsed();
    println!(
        "store only: {} lines in {:.2} s = {:.0} lines/s",
        tally.lines,
        store_took.as_secs_f64(),
        tally.lines as f64 / store_took.as_secs_f64()
    );
    drop(direct);

    let client = reqwest::Client::new();
    let began = Instant::now();
    // Two requests in flight, as concurrent senders would have: one is parsed while the
    // store writes the other (SQLite takes one writer at a time).
    let posts = bodies.into_iter().map(|body| {
        let (client, url, secret) = (
            client.clone(),
            format!("{base}/api/ingest"),
            key.secret.clone(),
        );
        async move {
            let report: Value = client
                .post(url)
                .header("X-API-Key", secret)
                .body(body)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            report["accepted"]
                .as_u64()
                .context("an ingest report without `accepted`")
        }
    });
    let mut accepted = 0u64;
    let mut in_flight = futures_util::stream::iter(posts).buffer_unordered(IN_FLIGHT);
    while let Some(count) = in_flight.next().await {
        accepted += count?;
    }
    let took = began.elapsed();
    if accepted != tally.lines {
        bail!("ingest accepted {accepted} of {} lines", tally.lines);
    }
    println!(
        "ingest: {} lines in {:.2} s over HTTP in {}-line requests, {} in flight = {:.0} lines/s ({:.1} MB/s)",
        accepted,
        took.as_secs_f64(),
        args.batch,
        IN_FLIGHT,
        accepted as f64 / took.as_secs_f64(),
        bytes as f64 / 1e6 / took.as_secs_f64()
    );
    let size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0)
        + std::fs::metadata(dir.join("bench.db-wal"))
            .map(|m| m.len())
            .unwrap_or(0);
    println!("store: {:.1} MB on disk", size as f64 / 1e6);

    let day = |ms| {
        Utc.timestamp_millis_opt(ms)
            .single()
            .unwrap_or_default()
            .date_naive()
    };
    let (all_from, to) = (day(start), day(end));
    let last30 = to - chrono::Duration::days(29);
    let yesterday = to - chrono::Duration::days(1);
    let api = format!("{base}/api/external/v1/analytics/{WEBSITE}");
    let get = |url: String| {
        let (client, secret) = (client.clone(), key.secret.clone());
        async move {
            let started = Instant::now();
            let body: Value = client
                .get(url)
                .header("X-API-Key", secret)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            anyhow::Ok((started.elapsed(), body))
        }
    };
    println!(
        "latency over {} requests each (p50 / p95 / max):",
        args.requests
    );
    let fixed = [
        (
            "summary, last 30 days",
            format!("{api}?from={last30}&to={to}"),
        ),
        ("summary, 90 days", format!("{api}?from={all_from}&to={to}")),
        (
            "summary, 1 day",
            format!("{api}?from={yesterday}&to={yesterday}"),
        ),
        (
            "visitors, first 100, 90 days",
            format!("{api}/visitors?from={all_from}&to={to}"),
        ),
        (
            "pages, first 100, 90 days",
            format!("{api}/pages?from={all_from}&to={to}"),
        ),
    ];
    for (label, url) in fixed {
        let mut times = Vec::new();
        for _ in 0..args.requests {
            times.push(get(url.clone()).await?.0);
        }
        report(label, times);
    }
    // Walking the visitor list: each request fetches the next page by cursor.
    let mut times = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..args.requests {
        let mut url = format!("{api}/visitors?from={all_from}&to={to}&limit=1000");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let (took, body) = get(url).await?;
        times.push(took);
        cursor = body["next_cursor"].as_str().map(str::to_string);
        if cursor.is_none() {
            break;
        }
    }
    report("visitors, next 1000 by cursor", times);
    Ok(())
}

/// The benchmarks' account, website (`web_bench`, UTC) and a key with every scope.
pub(crate) async fn bench_tenant(store: &dyn Store) -> anyhow::Result<(Account, MintedKey)> {
    let account = store.create_account("bench", Plan::Enterprise).await?;
    let site = NewWebsite {
        domain: "bench.example.com".into(),
        timezone: Some("UTC".into()),
        retention_days: None,
    };
    store
        .create_website(
            account.id,
            WEBSITE,
            site.validate()?,
            &crate::identify_signature::new_secret(),
        )
        .await?;
    let key = mint(Some("bench".into()), Scopes::all());
    store.create_key(account.id, key.record.clone()).await?;
    Ok((account, key))
}

fn report(label: &str, mut times: Vec<Duration>) {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "  {label:<32} {:>8.1} ms {:>8.1} ms {:>8.1} ms",
        at(0.5).as_secs_f64() * 1e3,
        at(0.95).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3
    );
}
