//! `ferry destinations list|create|delete|test`: the API's destination services from the
//! command line, audited as `cli`.

use std::io::Read;

use crate::cli::DestinationsCommand;
use crate::config::StoreArgs;
use crate::services::Actor;
use crate::services::destinations::{self as service, Ctx};

pub async fn run(args: &StoreArgs, cmd: DestinationsCommand) -> anyhow::Result<()> {
    let store = super::open_existing_store(args).await?;
    let sealer = crate::sealing::Sealer::load(&args.data_dir)?;
    let clock = crate::clock::system();
    let ctx = Ctx {
        store: store.as_ref(),
        sealer: &sealer,
        clock: clock.as_ref(),
    };
    let account_of = |name: String| {
        let store = store.clone();
        async move { super::admin::account(store.as_ref(), &name).await }
    };
    let shown = match cmd {
        DestinationsCommand::List { account } => {
            let account = account_of(account).await?;
            let found = store.destinations(account.id).await?;
            serde_json::Value::Array(found.iter().map(|d| service::view(&sealer, d)).collect())
        }
        DestinationsCommand::Create { account, json } => {
            let account = account_of(account).await?;
            let mut text = String::new();
            if json.as_os_str() == "-" {
                std::io::stdin().read_to_string(&mut text)?;
            } else {
                text = std::fs::read_to_string(&json)?;
            }
            let body: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("the destination is not JSON: {e}"))?;
            let actor = Actor::Cli {
                account: account.id,
            };
            service::create(&ctx, &actor, &body).await?
        }
        DestinationsCommand::Delete { account, id } => {
            let account = account_of(account).await?;
            let actor = Actor::Cli {
                account: account.id,
            };
            service::delete(&ctx, &actor, &id).await?
        }
        DestinationsCommand::Test { account, id } => {
            let account = account_of(account).await?;
            let actor = Actor::Cli {
                account: account.id,
            };
            service::test(&ctx, &actor, &id).await?
        }
    };
    println!("{}", serde_json::to_string_pretty(&shown)?);
    Ok(())
}
