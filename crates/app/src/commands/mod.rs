//! One module per `ferry` subcommand.

mod account_key;
mod admin;
mod analytics;
mod audit;
mod bench;
mod bench_bulk;
mod bench_delivery;
mod bench_exports;
mod bench_overview;
mod compact;
mod demo;
mod destinations;
mod export;
mod import;
mod limits;
mod privacy_statement;
pub mod requests;
mod schedules;
mod serve;
mod users;

use std::sync::Arc;

use anyhow::Context;
use ferry_store::Store;

use crate::cli::{Cli, Command};
use crate::config::StoreArgs;

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve::run(&cli.store, args).await,
        Command::Demo(args) => demo::run(&cli.store, args).await,
        Command::Accounts(cmd) => admin::accounts(&cli.store, cmd).await,
        Command::Plans(cmd) => limits::plans(&cli.store, cmd).await,
        Command::Websites(cmd) => admin::websites(&cli.store, cmd).await,
        Command::Keys(cmd) => admin::keys(&cli.store, cmd).await,
        Command::Users(cmd) => users::run(&cli.store, cmd).await,
        Command::Schedules(cmd) => schedules::run(&cli.store, cmd).await,
        Command::Destinations(cmd) => destinations::run(&cli.store, cmd).await,
        Command::Requests(cmd) => requests::run(&cli.store, cmd).await,
        Command::Import(args) => import::run(&cli.store, args).await,
        Command::Compact(args) => compact::run(&cli.store, args).await,
        Command::Analytics(cmd) => analytics::run(&cli.store, cmd).await,
        Command::Export(args) => export::run(&cli.store, args).await,
        Command::Worker(args) => worker(&cli.store, args).await,
        Command::Audit(crate::cli::AuditCommand::Verify {
            checkpoint,
            public_key,
        }) => audit::verify(&cli.store, checkpoint.as_deref(), public_key.as_deref()).await,
        Command::Audit(crate::cli::AuditCommand::Checkpoint { output }) => {
            audit::checkpoint(&cli.store, output.as_deref()).await
        }
        Command::Bench(args) if args.exports => bench_exports::run(args).await,
        Command::Bench(args) if args.bulk => bench_bulk::run(args).await,
        Command::Bench(args) if args.overview => bench_overview::run(args).await,
        Command::Bench(args) => bench::run(args).await,
    }
}

/// `ferry worker`: runs jobs until Ctrl-C or SIGTERM, then shuts down gracefully.
async fn worker(store_args: &StoreArgs, args: crate::cli::WorkerArgs) -> anyhow::Result<()> {
    let store = open_existing_store(store_args).await?;
    let mut worker = crate::jobs::Worker::new(store, &store_args.data_dir, crate::clock::system());
    worker.settings.slots = args.slots.max(1);
    worker.settings.client_address_retention =
        crate::jobs::retention_days(args.client_address_retention_days);
    worker.settings.max_subject_visitors = args.max_subject_visitors;
    worker.compact_every =
        (args.segment_interval > 0).then(|| std::time::Duration::from_secs(args.segment_interval));
    let links = std::sync::Arc::new(crate::links::LinkSigner::load(&store_args.data_dir)?);
    worker.mail = crate::jobs::MailSetup::from_args(&args.mail, args.public_url.as_deref(), links)?;
    crate::startup::clear_orphans(&worker).await;
    let stop = tokio_util::sync::CancellationToken::new();
    let running = tokio::spawn(worker.run(stop.clone()));
    eprintln!("Ferry worker running; stop it with Ctrl-C");
    crate::startup::shutdown_signal().await;
    stop.cancel();
    running.await?;
    Ok(())
}

/// Opens the store of a data directory that must exist already: only `serve`, `demo` and
/// `accounts create` start a new one, so a mistyped `--data-dir` is an error, not an empty
/// Ferry.
pub(crate) async fn open_existing_store(args: &StoreArgs) -> anyhow::Result<Arc<dyn Store>> {
    if args.database_url.is_empty() && !args.data_dir.join("ferry.db").exists() {
        anyhow::bail!(
            "there is no Ferry data in {}: start one with `ferry demo` or `ferry serve`, or point \
             --data-dir (FERRY_DATA_DIR) at an existing data directory",
            args.data_dir.display()
        );
    }
    open_store(args).await
}

pub(crate) async fn open_store(args: &StoreArgs) -> anyhow::Result<Arc<dyn Store>> {
    crate::private_fs::ensure_private_dir(&args.data_dir)?;
    ferry_store::open(&args.database_url, &args.data_dir)
        .await
        .with_context(|| format!("cannot open the store in {}", args.data_dir.display()))
}
