//! `ferry plans list|set` and `ferry accounts limits`: the export limits of each plan, and an
//! account's own limits over its plan's. Every change is in the audit trail.

use anyhow::anyhow;
use ferry_domain::plan::{format_size, parse_size};
use ferry_domain::{LimitSetting, Limits, Plan};
use serde_json::json;

use crate::cli::PlansCommand;
use crate::config::StoreArgs;

fn per_day(value: &str) -> anyhow::Result<LimitSetting<u32>> {
    LimitSetting::parse(value, |v| v.parse().ok()).map_err(|e| anyhow!(e))
}

fn size(value: &str) -> anyhow::Result<LimitSetting<u64>> {
    LimitSetting::parse(value, parse_size).map_err(|e| anyhow!(e))
}

fn describe(limits: Limits) -> String {
    let exports = limits
        .exports_per_day
        .map_or("unlimited".to_string(), |n| n.to_string());
    let bytes = limits
        .max_export_bytes
        .map_or("unlimited".to_string(), format_size);
    format!("{exports} exports a day, {bytes} per export")
}

pub async fn plans(args: &StoreArgs, cmd: PlansCommand) -> anyhow::Result<()> {
    let store = super::open_existing_store(args).await?;
    match cmd {
        PlansCommand::List => {
            for (plan, limits) in store.plan_limits().await? {
                println!("{:<10} {}", plan.as_str(), describe(limits));
            }
        }
        PlansCommand::Set {
            plan,
            exports_per_day,
            max_export_size,
        } => {
            let plan: Plan = plan.parse().map_err(|e: String| anyhow!(e))?;
            let fixed = |s: LimitSetting<u64>| match s {
                LimitSetting::Limited(v) => Ok(Some(v)),
                LimitSetting::Unlimited => Ok(None),
                LimitSetting::Plan => Err(anyhow!("a plan's limit is a number or `unlimited`")),
            };
            let limits = Limits {
                exports_per_day: fixed(per_day(&exports_per_day)?.map_limited(u64::from))?
                    .map(|v| v as u32),
                max_export_bytes: fixed(size(&max_export_size)?)?,
                bytes_set_for_account: false,
            };
            store.set_plan_limits(plan, limits).await?;
            let details = json!({"plan": plan.as_str(), "limits": limits});
            for account in store.accounts().await? {
                if account.plan == plan {
                    let entry = crate::audit::event("cli", "plan.limits_changed", details.clone());
                    crate::audit::record_or_log(store.as_ref(), account.id, entry).await;
                }
            }
            eprintln!("{}: {}", plan.as_str(), describe(limits));
        }
    }
    Ok(())
}

pub async fn account(
    args: &StoreArgs,
    name: &str,
    exports_per_day: Option<String>,
    max_export_size: Option<String>,
) -> anyhow::Result<()> {
    let exports = exports_per_day.as_deref().map(per_day).transpose()?;
    let bytes = max_export_size.as_deref().map(size).transpose()?;
    if exports.is_none() && bytes.is_none() {
        anyhow::bail!("give --exports-per-day and/or --max-export-size");
    }
    let store = super::open_existing_store(args).await?;
    let account = super::admin::account(store.as_ref(), name).await?;
    store.set_account_limits(account.id, exports, bytes).await?;
    let limits = store.limits(account.id).await?;
    let details = json!({"exports_per_day": exports_per_day, "max_export_size": max_export_size});
    let entry = crate::audit::event("cli", "account.limits_changed", details);
    store.audit(account.id, entry).await?;
    eprintln!("{} now has {}", account.name, describe(limits));
    Ok(())
}
