//! `ferry accounts privacy-statement show|set`: the account's (or a website's) privacy
//! statement, through the same service and audit entry as `/account/privacy-statement`.

use std::io::Read;

use anyhow::{Context, anyhow};
use serde_json::{Map, Value};

use crate::cli::PrivacyStatementCommand;
use crate::clock;
use crate::config::StoreArgs;
use crate::services::{Actor, privacy_statement};

/// Larger files are refused before they are parsed: seven fields of 4,000 characters fit.
const MAX_FILE: u64 = 1 << 20;

pub async fn run(args: &StoreArgs, cmd: PrivacyStatementCommand) -> anyhow::Result<()> {
    let store = super::open_existing_store(args).await?;
    let (PrivacyStatementCommand::Show { name, website }
    | PrivacyStatementCommand::Set { name, website, .. }) = &cmd;
    let account = super::admin::account(store.as_ref(), name).await?;
    let website = website.clone();
    let shown = match cmd {
        PrivacyStatementCommand::Show { .. } => {
            privacy_statement::show(store.as_ref(), account.id, website.as_deref()).await
        }
        PrivacyStatementCommand::Set { file, .. } => {
            let body = read(&file)?;
            let actor = Actor::Cli {
                account: account.id,
            };
            let now = clock::system().now();
            privacy_statement::set(store.as_ref(), &actor, website.as_deref(), body, now).await
        }
    }
    .map_err(|problem| anyhow!("{problem}"))?;
    println!("{}", serde_json::to_string_pretty(&shown)?);
    Ok(())
}

fn read(file: &std::path::Path) -> anyhow::Result<Map<String, Value>> {
    let mut text = String::new();
    let what = || format!("cannot read {}", file.display());
    if file.as_os_str() == "-" {
        std::io::stdin()
            .take(MAX_FILE + 1)
            .read_to_string(&mut text)
            .with_context(what)?;
    } else {
        std::fs::File::open(file)
            .with_context(what)?
            .take(MAX_FILE + 1)
            .read_to_string(&mut text)
            .with_context(what)?;
    }
    if text.len() as u64 > MAX_FILE {
        return Err(anyhow!(
            "{} is over 1 MiB: a statement is far smaller",
            file.display()
        ));
    }
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a JSON object of statement fields, e.g. {{\"purposes\": \"…\"}}",
            file.display()
        )
    })
}
