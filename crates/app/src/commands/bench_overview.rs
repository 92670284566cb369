//! `ferry bench --overview --dir DIR`: the dashboard Overview's latency, the real page over
//! HTTP and signed in, for 7, 30 and 90 days. Builds (once per `--dir`) a store shaped like a
//! real site's: `--pageviews` page views and `--events` events over 90 days from
//! `--bulk-visitors` visitors with random (v4 UUID) ids, where a few visitors and a few pages
//! take most of the traffic (a power law), and sessions run from one page to dozens. Figures go
//! to stdout; nothing here is a pass/fail test.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::{TimeZone, Utc};
use ferry_domain::{Activity, ActivityKind, IngestLine};
use ferry_store::{DashboardRole, Store};
use indicatif::{ProgressBar, ProgressStyle};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reqwest::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use serde_json::{Map, Value, json};

use super::bench::WEBSITE;
use crate::cli::BenchArgs;
use crate::config::ServeArgs;
use crate::startup::App;

const DAYS: i64 = 90;
const DAY_MS: i64 = 86_400_000;
const URLS: f64 = 5_000.0;
const BROWSERS: [&str; 5] = ["Chrome", "Safari", "Firefox", "Edge", "Samsung Internet"];
const DEVICES: [&str; 3] = ["desktop", "mobile", "tablet"];
const COUNTRIES: [&str; 8] = ["DE", "US", "FR", "GB", "NL", "ES", "IT", "PL"];

fn shape(args: &BenchArgs) -> Value {
    json!({"pageviews": args.pageviews, "events": args.events, "visitors": args.bulk_visitors,
           "days": DAYS, "ids": "uuid-v4", "activity": "power-law"})
}

/// A random v4 UUID for each visitor, the same on every run.
fn visitor_ids(n: u32, rng: &mut ChaCha8Rng) -> Vec<String> {
    (0..n)
        .map(|_| {
            let (a, b): (u64, u64) = (rng.random(), rng.random());
            format!(
                "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
                a >> 32,
                (a >> 16) & 0xffff,
                a & 0xfff,
                0x8000 | (b >> 48) & 0x3fff,
                b & 0xffff_ffff_ffff
            )
        })
        .collect()
}

/// An index in `0..n` where low indices are far likelier: `u³` puts a fifth of all draws in
/// the first 1%.
fn skewed(rng: &mut ChaCha8Rng, n: f64, power: i32) -> usize {
    (n * rng.random::<f64>().powi(power)) as usize
}

async fn build(store: &dyn Store, args: &BenchArgs, start: i64) -> anyhow::Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let ids = visitor_ids(args.bulk_visitors.max(1), &mut rng);
    let bar = ProgressBar::new(args.pageviews + args.events).with_style(
        ProgressStyle::with_template("building {bar:30} {human_pos}/{human_len} rows ({per_sec})")
            .expect("a valid template"),
    );
    let (mut pageviews, mut events) = (0u64, 0u64);
    let mut batch = Vec::with_capacity(20_000);
    let now = Utc::now().timestamp_millis();
    let span = (DAYS * DAY_MS) as f64;
    while pageviews < args.pageviews {
        let v = skewed(&mut rng, ids.len() as f64, 3).min(ids.len() - 1);
        // Sessions start in order over the 90 days, as traffic arrives.
        let at = start + (span * pageviews as f64 / args.pageviews as f64) as i64;
        // One page (a bounce) to dozens: 1 + an exponential draw, mean about 5.
        let long = (-rng.random::<f64>().max(1e-9).ln() * 4.0) as u64;
        let pages = (1 + long).min(80).min(args.pageviews - pageviews);
        let base = Activity {
            website_id: WEBSITE.into(),
            visitor_id: ids[v].clone(),
            at,
            kind: ActivityKind::Pageview {
                url: String::new(),
                title: None,
                referrer: None,
            },
            device: Some(DEVICES[v % 3].into()),
            browser: Some(BROWSERS[v % 5].into()),
            country: Some(COUNTRIES[v % 8].into()),
        };
        let mut t = at;
        for p in 0..pages {
            let page = skewed(&mut rng, URLS, 3);
            let kind = ActivityKind::Pageview {
                url: format!("https://bench.example.com/docs/{page}"),
                title: Some(format!("Page {page}")),
                referrer: (p == 0).then(|| "https://www.google.com/".to_string()),
            };
            t += rng.random_range(5_000..120_000);
            batch.push(IngestLine::Activity(Activity {
                at: t,
                kind,
                ..base.clone()
            }));
        }
        pageviews += pages;
        let wanted = args.events * pageviews / args.pageviews - events;
        for _ in 0..wanted {
            let mut properties = Map::new();
            properties.insert("plan".into(), json!(["free", "pro", "team"][v % 3]));
            t += 1_000;
            batch.push(IngestLine::Activity(Activity {
                at: t,
                kind: ActivityKind::Event {
                    name: "signup".into(),
                    properties,
                },
                ..base.clone()
            }));
        }
        events += wanted;
        if batch.len() >= 20_000 || pageviews >= args.pageviews {
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

/// The value of cookie `name` a response sets.
fn cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
}

fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Signs in as a browser would; the session cookie.
async fn sign_in(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<String> {
    let page = client.get(format!("{base}/login")).send().await?;
    let csrf = cookie(&page, "ferry_login_csrf").context("the login page sets its CSRF cookie")?;
    let response = client
        .post(format!("{base}/login"))
        .header(COOKIE, format!("ferry_login_csrf={csrf}"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!(
            "email={}&password={}&csrf={}",
            encode(email),
            encode(password),
            encode(&csrf)
        ))
        .send()
        .await?;
    let session = cookie(&response, "ferry_session").context("signing in failed")?;
    Ok(format!("ferry_session={session}"))
}

fn report(label: &str, mut times: Vec<Duration>, what: &str) {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "  {label:<10} {:>8.1} ms {:>8.1} ms {:>8.1} ms   ({what})",
        at(0.5).as_secs_f64() * 1e3,
        at(0.95).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3
    );
}

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let dir = args
        .dir
        .clone()
        .context("--overview needs --dir (the dataset is kept there for reruns)")?;
    std::fs::create_dir_all(&dir)?;
    let marker = dir.join("overview-dataset.json");
    let wanted = shape(&args);
    let built = std::fs::read_to_string(&marker)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok());
    if built.as_ref() == Some(&wanted) {
        println!("reusing the dataset in {}", dir.display());
    } else {
        for name in ["ferry.db", "ferry.db-wal", "ferry.db-shm"] {
            let _ = std::fs::remove_file(dir.join(name));
        }
        let store = ferry_store::open("", &dir).await?;
        super::bench::bench_tenant(store.as_ref()).await?;
        let start = Utc::now()
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
            .timestamp_millis()
            - DAYS * DAY_MS;
        let began = Instant::now();
        build(store.as_ref(), &args, start).await?;
        println!(
            "built {} page views and {} events from {} visitors (UUIDs, power-law activity) in {:.0} s",
            args.pageviews,
            args.events,
            args.bulk_visitors,
            began.elapsed().as_secs_f64()
        );
        drop(store);
        std::fs::write(&marker, wanted.to_string())?;
    }

    let store = ferry_store::open("", &dir).await?;
    let account = store
        .account_by_name("bench")
        .await?
        .context("no `bench` account in --dir")?;
    let website = store
        .website(account.id, WEBSITE)
        .await?
        .context("no bench website")?;
    let (_, last) = store
        .activity_span(&website)
        .await?
        .context("the store is empty")?;
    let last_day = Utc
        .timestamp_millis_opt(last)
        .single()
        .unwrap_or_default()
        .date_naive();
    // A new dashboard user each run (signing in is what the page needs, not who).
    let email = format!("bench-{}@example.com", crate::keys::random_id("", 6));
    let password = crate::services::dashboard_users::new_password();
    crate::services::dashboard_users::create_user(
        store.as_ref(),
        account.id,
        &email,
        password.clone(),
        DashboardRole::Member,
        "bench",
    )
    .await
    .map_err(|p| anyhow::anyhow!(p.message))?;
    let app = App::build(store.clone(), &ServeArgs::loopback(), &dir).await?;
    let base = app.base_url.clone();
    tokio::spawn(app.run());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let session = sign_in(&client, &base, &email, &password).await?;

    println!(
        "GET /overview, signed in, {} requests per range ending {last_day} (p50 / p95 / max):",
        args.requests
    );
    for days in [7, 30, 90] {
        let from = last_day - chrono::Duration::days(days - 1);
        let url =
            format!("{base}/overview?website={WEBSITE}&range=custom&from={from}&to={last_day}");
        let (mut times, mut shown) = (Vec::new(), String::new());
        for i in 0..args.requests + 3 {
            let started = Instant::now();
            let response = client.get(&url).header(COOKIE, &session).send().await?;
            if !response.status().is_success() {
                bail!("GET {url}: {}", response.status());
            }
            let html = response.text().await?;
            let took = started.elapsed();
            // The first three warm the page cache, as a running server's would be.
            if i >= 3 {
                times.push(took);
            }
            shown = html
                .split("id=\"total-pageviews\">")
                .nth(1)
                .and_then(|t| t.split('<').next())
                .unwrap_or("?")
                .to_string();
        }
        report(
            &format!("{days} days"),
            times,
            &format!("{shown} page views"),
        );
        // Where the time goes: the page's two store reads alone, one after the other.
        let range = ferry_domain::DateRange { from, to: last_day };
        let (mut totals, mut pages) = (Vec::new(), Vec::new());
        for _ in 0..args.requests.min(10) {
            let started = Instant::now();
            store.totals(&website, range).await?;
            totals.push(started.elapsed());
            let started = Instant::now();
            store.top_pages(&website, range, 10).await?;
            pages.push(started.elapsed());
        }
        report("  totals", totals, "chart and tiles");
        report("  top 10", pages, "top pages");
    }
    Ok(())
}
