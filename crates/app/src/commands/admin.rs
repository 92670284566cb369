//! `ferry accounts|websites|keys create`: what an operator does before the API can be used.
//! Each prints the one thing a script needs on stdout (the website id, the key) and the rest
//! on stderr.

use anyhow::{Context, anyhow};
use ferry_domain::{Account, NewWebsite, Plan, Scopes};
use ferry_store::Store;

use crate::cli::{AccountsCommand, KeysCommand, WebsitesCommand};
use crate::config::StoreArgs;
use crate::keys::{mint, random_id};

pub async fn accounts(args: &StoreArgs, cmd: AccountsCommand) -> anyhow::Result<()> {
    let (name, plan, link_expiry_days) = match cmd {
        AccountsCommand::Create {
            name,
            plan,
            link_expiry_days,
        } => (name, plan, link_expiry_days),
        AccountsCommand::Limits {
            name,
            exports_per_day,
            max_export_size,
        } => {
            return super::limits::account(args, &name, exports_per_day, max_export_size).await;
        }
        AccountsCommand::Encryption(cmd) => return super::account_key::run(args, cmd).await,
        AccountsCommand::PrivacyStatement(cmd) => {
            return super::privacy_statement::run(args, cmd).await;
        }
    };
    let plan: Plan = plan.parse().map_err(|e: String| anyhow!(e))?;
    let store = super::open_store(args).await?;
    let account = store.create_account(name.trim(), plan).await?;
    if let Some(days) = link_expiry_days {
        store
            .set_link_expiry(account.id, Some(days * 86_400))
            .await?;
    }
    println!("{}", account.name);
    eprintln!(
        "created account `{}` on the {} plan",
        account.name,
        plan.as_str()
    );
    Ok(())
}

pub(crate) async fn account(store: &dyn Store, name: &str) -> anyhow::Result<Account> {
    store.account_by_name(name).await?.with_context(|| {
        format!("no account named `{name}`: create it with `ferry accounts create {name}`")
    })
}

pub async fn websites(args: &StoreArgs, cmd: WebsitesCommand) -> anyhow::Result<()> {
    let WebsitesCommand::Create {
        account: name,
        domain,
        timezone,
        retention_days,
    } = cmd;
    let store = super::open_existing_store(args).await?;
    let account = account(store.as_ref(), &name).await?;
    let valid = NewWebsite {
        domain,
        timezone: Some(timezone),
        retention_days,
    }
    .validate()?;
    let secret = crate::identify_signature::new_secret();
    let website = store
        .create_website(account.id, &random_id("web_", 10), valid, &secret)
        .await?;
    println!("{}", website.id);
    eprintln!(
        "created website {} for {} ({})\nidentify secret: {secret}\n  keep it on your server: \
         it signs identify calls (user_hash = hex(HMAC-SHA256(secret, user_id))) and is not shown again",
        website.id,
        website.domain,
        website.timezone.name()
    );
    Ok(())
}

pub async fn keys(args: &StoreArgs, cmd: KeysCommand) -> anyhow::Result<()> {
    let KeysCommand::Create {
        account: name,
        scopes,
        name: label,
    } = cmd;
    let scopes = Scopes::parse_list(&scopes).map_err(|e| anyhow!(e))?;
    let store = super::open_existing_store(args).await?;
    let account = account(store.as_ref(), &name).await?;
    let minted = mint(label, scopes);
    let info = store.create_key(account.id, minted.record).await?;
    let details = serde_json::json!({"key_id": info.id, "scopes": info.scopes});
    store
        .audit(
            account.id,
            crate::audit::event("cli", "api_key.created", details),
        )
        .await?;
    println!("{}", minted.secret);
    eprintln!(
        "created key {} with scopes {} — store it now: Ferry keeps only its hash",
        info.id,
        info.scopes.to_list()
    );
    Ok(())
}
