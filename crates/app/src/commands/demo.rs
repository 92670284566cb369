//! `ferry demo`: a demo account, website (`web_demo`) and key, deterministic data for the last
//! N days, then serve. A second run keeps the data and makes a new key.

use std::path::Path;

use anyhow::bail;
use chrono::{Duration, TimeZone, Utc};
use ferry_domain::{Account, AccountId, NewWebsite, Plan, Scopes};
use ferry_store::Store;
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::DemoArgs;
use crate::config::StoreArgs;
use crate::demo::{DemoSpec, Generator, Tally};
use crate::identify_signature::new_secret;
use crate::keys::mint;
use crate::startup::App;

pub const DEMO_ACCOUNT: &str = "demo";
pub const DEMO_WEBSITE: &str = "web_demo";
const DEMO_DOMAIN: &str = "shop.example.com";
/// The dashboard admin the demo signs in as: the reference page's receipts name this requester.
pub const DEMO_ADMIN: &str = "admin@company.com";

pub async fn run(store_args: &StoreArgs, args: DemoArgs) -> anyhow::Result<()> {
    let store = super::open_store(store_args).await?;
    let account = demo_account(store.as_ref()).await?;
    let now = Utc::now().timestamp_millis();
    let spec = DemoSpec {
        website_id: DEMO_WEBSITE.into(),
        visitors: args.visitors,
        days: args.days,
        seed: args.seed,
        end: now,
    };
    let fresh = store.website(account.id, DEMO_WEBSITE).await?.is_none();
    let tally = if fresh {
        let valid = NewWebsite {
            domain: DEMO_DOMAIN.into(),
            timezone: Some("UTC".into()),
            retention_days: None,
        }
        .validate()?;
        store
            .create_website(account.id, DEMO_WEBSITE, valid, &new_secret())
            .await?;
        Some(fill(store.as_ref(), account.id, spec.clone(), true).await?)
    } else {
        None
    };
    // A rerun hands out a new key: the one it made before stops working.
    for key in store.keys(account.id).await? {
        if key.name.as_deref() == Some("demo") && key.revoked_at.is_none() {
            store.revoke_key(account.id, &key.id).await?;
        }
    }
    // Like the key: a new identify secret each run, since the last one cannot be shown again.
    let identify_secret = new_secret();
    store
        .rotate_identify_secret(DEMO_WEBSITE, &identify_secret, now)
        .await?;
    let minted = mint(Some("demo".into()), Scopes::all());
    store.create_key(account.id, minted.record).await?;
    let key_file = save_key(&store_args.data_dir, &minted.secret)?;
    let password_file = store_args.data_dir.join("demo-dashboard-password");
    if let Some(password) =
        super::users::ensure_admin(store.as_ref(), account.id, DEMO_ADMIN, "demo").await?
    {
        crate::private_fs::write_private(&password_file, format!("{password}\n").as_bytes())?;
    }
    let password = std::fs::read_to_string(&password_file)
        .map(|p| p.trim().to_string())
        .unwrap_or_else(|_| "(set by an earlier run)".into());

    let app = if args.no_serve {
        None
    } else {
        Some(App::build(store.clone(), &args.serve, &store_args.data_dir).await?)
    };
    let base = app.as_ref().map_or_else(
        || format!("http://{}", args.serve.listen),
        |a| a.base_url.clone(),
    );
    let day = |ms| {
        Utc.timestamp_millis_opt(ms)
            .single()
            .unwrap_or_default()
            .date_naive()
    };
    let (from, to) = (day(spec.start()), day(now));
    println!("Ferry demo");
    println!("  url:        {base}");
    println!(
        "  dashboard:  {base}/login  as {DEMO_ADMIN} / {password}  (also saved to {})",
        password_file.display()
    );
    println!("  website id: {DEMO_WEBSITE}  ({DEMO_DOMAIN}, time zone UTC)");
    println!(
        "  identify:   secret {identify_secret}  (user_hash = hex(HMAC-SHA256(secret, user_id)))"
    );
    println!(
        "  api key:    {}  (all scopes; also saved to {})",
        minted.secret,
        key_file.display()
    );
    match tally {
        Some(t) => println!(
            "  demo data:  visitors={} sessions={} pageviews={} events={} users={} from={from} to={to}",
            t.visitors, t.sessions, t.pageviews, t.events, t.users
        ),
        None => println!(
            "  demo data:  kept from an earlier run (remove {} to start afresh)",
            store_args.data_dir.display()
        ),
    }
    println!(
        "  try:        curl -H \"X-API-Key: {}\" \"{base}/api/external/v1/analytics/{DEMO_WEBSITE}?from={from}&to={to}\"",
        minted.secret
    );
    match app {
        Some(app) => app.run().await,
        None => Ok(()),
    }
}

async fn demo_account(store: &dyn Store) -> anyhow::Result<Account> {
    if let Some(account) = store.account_by_name(DEMO_ACCOUNT).await? {
        return Ok(account);
    }
    Ok(store.create_account(DEMO_ACCOUNT, Plan::Enterprise).await?)
}

/// Writes the demo key where the README's curl examples read it, readable by the owner only.
fn save_key(data_dir: &Path, secret: &str) -> anyhow::Result<std::path::PathBuf> {
    let path = data_dir.join("demo-api-key");
    crate::private_fs::write_private(&path, format!("{secret}\n").as_bytes())?;
    Ok(path)
}

/// Generates the demo data straight into the store, batch by batch.
pub async fn fill(
    store: &dyn Store,
    account: AccountId,
    spec: DemoSpec,
    progress: bool,
) -> anyhow::Result<Tally> {
    let bar = if progress {
        ProgressBar::new(u64::from(spec.visitors))
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "generating demo data {bar:40} {pos}/{len} visitors eta {eta}",
        )
        .expect("a valid template"),
    );
    let now = spec.end + Duration::minutes(1).num_milliseconds();
    let mut generator = Generator::new(spec);
    while let Some(batch) = generator.next_batch(10_000) {
        let outcome = store.ingest(Some(account), batch, now).await?;
        if let Some(Err(e)) = outcome.into_iter().find(Result::is_err) {
            bail!(
                "the demo generator made a line the store refused: {}: {}",
                e.code,
                e.message
            );
        }
        bar.set_position(u64::from(generator.visitors_done()));
    }
    bar.finish_and_clear();
    Ok(generator.tally)
}
