//! `ferry bench --exports`: per-person exports on a big store. Builds a store of `--visitors`
//! generated visitors (1.45M ≈ 10M page views), adds people with about 1,000, 100,000, 1M and 3M
//! rows, then measures request-to-completed latency of the 1,000-row person's export over HTTP
//! (p50/p95) and the peak memory of `ferry export` for the larger ones.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::Utc;
use ferry_domain::{Activity, ActivityKind, Identify, IngestLine};
use serde_json::{Map, Value, json};

use crate::cli::BenchArgs;
use crate::config::ServeArgs;
use crate::demo::{DemoSpec, Generator};
use crate::startup::App;

use super::bench::WEBSITE;

/// One person with `sessions` sessions of `pages` page views and one event each, ending now.
fn person(user: &str, sessions: u64, pages: u64, end: i64) -> impl Iterator<Item = IngestLine> {
    let user = user.to_string();
    let visitor = format!("{user}_visitor");
    let start = end - (sessions as i64) * 3_600_000;
    let identify = IngestLine::Identify(Identify {
        website_id: WEBSITE.into(),
        visitor_id: visitor.clone(),
        user_id: user.clone(),
        email: Some(format!("{user}@example.com")),
        name: Some("Bench Person".into()),
        properties: Map::new(),
        created_at: None,
        trust: ferry_domain::LinkTrust::Keyed,
    });
    let rows = (0..sessions).flat_map(move |s| {
        let visitor = visitor.clone();
        (0..=pages).map(move |p| {
            let at = start + s as i64 * 3_600_000 + p as i64 * 10_000;
            let kind = if p < pages {
                ActivityKind::Pageview {
                    url: format!("/page/{}", p % 50),
                    title: Some("Page".into()),
                    referrer: None,
                }
            } else {
                ActivityKind::Event {
                    name: "purchase".into(),
                    properties: json!({"price": 9.99})
                        .as_object()
                        .cloned()
                        .unwrap_or_default(),
                }
            };
            IngestLine::Activity(Activity {
                website_id: WEBSITE.into(),
                visitor_id: visitor.clone(),
                at,
                kind,
                device: Some("desktop".into()),
                browser: Some("Firefox".into()),
                country: Some("DE".into()),
            })
        })
    });
    std::iter::once(identify).chain(rows)
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| temp.path().to_path_buf());
    if dir.join("ferry.db").exists() {
        bail!(
            "{} holds a database already: point --dir at an empty directory",
            dir.display()
        );
    }
    let store = ferry_store::open("", &dir).await?;
    let (account, key) = super::bench::bench_tenant(store.as_ref()).await?;

    let now = Utc::now().timestamp_millis();
    let began = Instant::now();
    let mut generator = Generator::new(DemoSpec {
        website_id: WEBSITE.into(),
        visitors: args.visitors,
        days: 90,
        seed: 7,
        end: now,
    });
    while let Some(batch) = generator.next_batch(50_000) {
        store.ingest(Some(account.id), batch, now).await?;
    }
    let people = [
        ("bench_1k", 50, 19),
        ("bench_100k", 5_000, 19),
        ("bench_1m", 50_000, 19),
        ("bench_3m", 150_000, 19),
    ];
    for (user, sessions, pages) in people {
        let lines: Vec<IngestLine> = person(user, sessions, pages, now - 60_000).collect();
        for chunk in lines.chunks(50_000) {
            store.ingest(Some(account.id), chunk.to_vec(), now).await?;
        }
    }
    let t = &generator.tally;
    println!(
        "store: {} page views, {} events, {} visitors + people of 1,000 / 100,000 / 1,000,000 / 3,000,000 rows, built in {:.0} s",
        t.pageviews,
        t.events,
        t.visitors,
        began.elapsed().as_secs_f64()
    );

    let app = App::build(store.clone(), &ServeArgs::loopback(), &dir).await?;
    let base = app.base_url.clone();
    tokio::spawn(app.run());
    let client = reqwest::Client::new();
    let mut times = Vec::new();
    for _ in 0..args.requests {
        let started = Instant::now();
        let job: Value = client
            .post(format!("{base}/api/external/v1/users/bench_1k/export"))
            .header("X-API-Key", &key.secret)
            .json(&json!({"format": "json", "include": "all"}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let id = job["export_id"]
            .as_str()
            .context("no export_id")?
            .to_string();
        loop {
            let job: Value = client
                .get(format!("{base}/api/external/v1/exports/{id}"))
                .header("X-API-Key", &key.secret)
                .send()
                .await?
                .json()
                .await?;
            match job["status"].as_str() {
                Some("completed") => break,
                Some("queued" | "running") => tokio::time::sleep(Duration::from_millis(1)).await,
                other => bail!("export ended {other:?}: {job}"),
            }
        }
        times.push(started.elapsed());
    }
    times.sort();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1e3;
    println!(
        "one person (1,000 rows, JSON), request to completed over HTTP, {} runs: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        times.len(),
        at(0.5),
        at(0.95),
        at(1.0)
    );

    let exe = std::env::current_exe()?;
    for user in ["bench_100k", "bench_1m", "bench_3m"] {
        let out = dir.join(format!("{user}.zip"));
        let started = Instant::now();
        let result = std::process::Command::new(&exe)
            .args([
                "--data-dir",
                &dir.to_string_lossy(),
                "export",
                "--user",
                user,
                "--format",
                "csv",
                "-o",
                &out.to_string_lossy(),
            ])
            .env("FERRY_REPORT_PEAK_RSS", "1")
            .env("FERRY_LOG", "warn")
            .output()?;
        let stderr = String::from_utf8_lossy(&result.stderr);
        let rss = stderr
            .lines()
            .find_map(|l| l.strip_prefix("peak rss: "))
            .unwrap_or("?");
        let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
        println!(
            "ferry export --user {user} --format csv: {:.1} s, {:.1} MB ZIP, peak RSS {rss}",
            started.elapsed().as_secs_f64(),
            size as f64 / 1e6
        );
    }
    Ok(())
}
