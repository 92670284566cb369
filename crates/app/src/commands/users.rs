//! `ferry users create`: the first dashboard admin of an account (and any user after). The
//! password is generated and printed once unless `--password-stdin` gives one.

use std::io::BufRead;

use anyhow::{Context, anyhow};
use ferry_store::{DashboardRole, Store};

use crate::cli::UsersCommand;
use crate::config::StoreArgs;
use crate::services::dashboard_users::create_user;

pub async fn run(args: &StoreArgs, cmd: UsersCommand) -> anyhow::Result<()> {
    let UsersCommand::Create {
        account,
        email,
        role,
        password_stdin,
    } = cmd;
    let role = DashboardRole::parse(&role).ok_or_else(|| anyhow!("role is admin or member"))?;
    let (password, generated) = if password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from stdin")?;
        (line.trim_end_matches(['\r', '\n']).to_string(), false)
    } else {
        (new_password(), true)
    };
    let store = super::open_existing_store(args).await?;
    let account = super::admin::account(store.as_ref(), &account).await?;
    let user = create_user(
        store.as_ref(),
        account.id,
        &email,
        password.clone(),
        role,
        "cli",
    )
    .await
    .map_err(|p| anyhow!(p.message))?;
    println!("{}", user.id);
    eprintln!(
        "created dashboard {} {} for account {}",
        user.role.as_str(),
        user.email,
        account.name
    );
    if generated {
        eprintln!("password: {password}\n  shown once: sign in at /login and keep it safe");
    }
    Ok(())
}

pub use crate::services::dashboard_users::new_password;

/// Creates `email` as an admin of `account` unless a dashboard user has that email already.
/// `Some(password)` when it was created now.
pub async fn ensure_admin(
    store: &dyn Store,
    account: ferry_domain::AccountId,
    email: &str,
    actor: &str,
) -> anyhow::Result<Option<String>> {
    if store.dashboard_login(email).await?.is_some() {
        return Ok(None);
    }
    let password = new_password();
    create_user(
        store,
        account,
        email,
        password.clone(),
        DashboardRole::Admin,
        actor,
    )
    .await
    .map_err(|p| anyhow!(p.message))?;
    Ok(Some(password))
}
