//! `ferry schedules list|create|delete|run`: the API's schedule calls at the command line,
//! through the same service (the same checks and audit entries; the actor is `cli`).

use anyhow::Context;
use ferry_domain::export::Include;

use crate::cli::SchedulesCommand;
use crate::config::StoreArgs;
use crate::services::Actor;
use crate::services::exports::EncryptionOptions;
use crate::services::schedules::{self, ScheduleOptions};

pub async fn run(args: &StoreArgs, cmd: SchedulesCommand) -> anyhow::Result<()> {
    let store = super::open_existing_store(args).await?;
    let clock = crate::clock::system();
    let actor = |name: &str| {
        let store = store.clone();
        let name = name.to_string();
        async move {
            let account = super::admin::account(store.as_ref(), &name).await?;
            anyhow::Ok(Actor::Cli {
                account: account.id,
            })
        }
    };
    match cmd {
        SchedulesCommand::List { account } => {
            let actor = actor(&account).await?;
            for s in store.schedules(actor.account()).await? {
                println!(
                    "{}  {}  {}  {}  next window from {}{}",
                    s.id,
                    s.website_id,
                    s.frequency.as_str(),
                    s.format.as_str(),
                    s.next_from,
                    if s.enabled { "" } else { "  (disabled)" }
                );
            }
        }
        SchedulesCommand::Create {
            account,
            website,
            frequency,
            include,
            format,
            destination,
            pgp_key,
            starts_on,
            disabled,
        } => {
            let actor = actor(&account).await?;
            let encryption = match pgp_key {
                Some(path) => Some(EncryptionOptions::key(
                    std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?,
                )),
                None => None,
            };
            let include = match include.as_str() {
                "all" => Include::Keyword(include),
                list => Include::List(list.split(',').map(|t| t.trim().to_string()).collect()),
            };
            let options = ScheduleOptions {
                website_id: website,
                frequency,
                include: Some(include),
                format: Some(format),
                destination_id: destination,
                encryption,
                enabled: Some(!disabled),
                starts_on,
            };
            let created = schedules::create(store.as_ref(), clock.as_ref(), &actor, options)
                .await
                .map_err(|p| anyhow::anyhow!(p.message))?;
            println!("{}", created.id);
        }
        SchedulesCommand::Delete { account, id } => {
            let actor = actor(&account).await?;
            schedules::delete(store.as_ref(), &actor, &id)
                .await
                .map_err(|p| anyhow::anyhow!(p.message))?;
            eprintln!("deleted {id}");
        }
        SchedulesCommand::Run { account, id } => {
            let actor = actor(&account).await?;
            let window = schedules::run_now(store.as_ref(), clock.as_ref(), &actor, &id)
                .await
                .map_err(|p| anyhow::anyhow!(p.message))?;
            eprintln!("queued {id}'s window {}", window.label());
        }
    }
    Ok(())
}
