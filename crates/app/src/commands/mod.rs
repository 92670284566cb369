//! One module per `ferry` subcommand.

mod admin;
mod audit;
mod bench;
mod bench_bulk;
mod bench_exports;
mod compact;
mod demo;
mod export;
mod export_bulk;
mod import;
mod limits;
mod serve;

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
        Command::Import(args) => import::run(&cli.store, args).await,
        Command::Export(args) if args.bulk => export_bulk::run(&cli.store, args).await,
        Command::Compact(args) => compact::run(&cli.store, args).await,
        Command::Export(args) => export::run(&cli.store, args).await,
        Command::Worker => {
            let store = open_store(&cli.store).await?;
            let worker = crate::worker::Worker {
                store,
                artifacts: cli.store.data_dir.join("artifacts"),
                wake: std::sync::Arc::new(tokio::sync::Notify::new()),
                segments: Some(crate::segments::SegmentFiles::new(&cli.store.data_dir)),
                compact_every: Some(std::time::Duration::from_secs(
                    crate::config::DEFAULT_SEGMENT_INTERVAL,
                )),
            };
            eprintln!("Ferry worker running; stop it with Ctrl-C");
            tokio::select! {
                () = worker.run() => Ok(()),
                _ = tokio::signal::ctrl_c() => Ok(()),
            }
        }
        Command::Audit(crate::cli::AuditCommand::Verify) => audit::verify(&cli.store).await,
        Command::Bench(args) if args.exports => bench_exports::run(args).await,
        Command::Bench(args) if args.bulk => bench_bulk::run(args).await,
        Command::Bench(args) => bench::run(args).await,
    }
}

pub(crate) async fn open_store(args: &StoreArgs) -> anyhow::Result<Arc<dyn Store>> {
    ferry_store::open(&args.database_url, &args.data_dir)
        .await
        .with_context(|| format!("cannot open the store in {}", args.data_dir.display()))
}
