//! `ferry accounts encryption set|show|remove`: the account's default encryption key, through
//! the same service (and audit entries) as `/api/external/v1/account/encryption`.

use anyhow::{Context, anyhow};

use crate::cli::AccountEncryptionCommand;
use crate::clock;
use crate::config::StoreArgs;
use crate::services::{Actor, encryption};

pub async fn run(args: &StoreArgs, cmd: AccountEncryptionCommand) -> anyhow::Result<()> {
    let store = super::open_existing_store(args).await?;
    let name = match &cmd {
        AccountEncryptionCommand::Set { name, .. }
        | AccountEncryptionCommand::Show { name }
        | AccountEncryptionCommand::Remove { name } => name.clone(),
    };
    let account = super::admin::account(store.as_ref(), &name).await?;
    let actor = Actor::Cli {
        account: account.id,
    };
    let shown = match cmd {
        AccountEncryptionCommand::Set { pgp_key, .. } => {
            let armored = std::fs::read_to_string(&pgp_key).with_context(|| {
                format!(
                    "cannot read the public key {} (give a file made by gpg --armor --export KEYID)",
                    pgp_key.display()
                )
            })?;
            let now = clock::system().now();
            encryption::set(store.as_ref(), &actor, &armored, now).await
        }
        AccountEncryptionCommand::Show { .. } => encryption::show(store.as_ref(), account.id).await,
        AccountEncryptionCommand::Remove { .. } => encryption::remove(store.as_ref(), &actor).await,
    }
    .map_err(|problem| anyhow!("{problem}"))?;
    match shown["fingerprint"].as_str() {
        Some(fingerprint) => println!("{fingerprint}"),
        None => eprintln!("account `{name}` has no encryption key"),
    }
    Ok(())
}
