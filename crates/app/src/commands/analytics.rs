//! `ferry analytics rebuild`: recomputes a website's rollups (what the summary and the pages
//! list read) from its stored rows. Ingest keeps them exact; this is for repairs and for a
//! store whose rows were changed behind Ferry's back.

use std::time::Instant;

use anyhow::{Context, bail};
use ferry_domain::{DateRange, Millis};

use crate::cli::AnalyticsCommand;
use crate::config::StoreArgs;

pub async fn run(store_args: &StoreArgs, cmd: AnalyticsCommand) -> anyhow::Result<()> {
    let AnalyticsCommand::Rebuild { website, from, to } = cmd;
    let store = super::open_existing_store(store_args).await?;
    let (_, site) = store
        .website_for_tracker(&website)
        .await?
        .with_context(|| {
            format!(
                "there is no website `{website}`: check the id (`ferry websites create` printed it)"
            )
        })?;
    let span = match (from, to) {
        (None, None) => (Millis::MIN / 2, Millis::MAX / 2),
        (Some(from), Some(to)) if from <= to => DateRange { from, to }.bounds(site.timezone),
        (Some(_), Some(_)) => bail!("--from is after --to: give the earlier day first"),
        _ => bail!("give both --from and --to, or neither to rebuild every day"),
    };
    let started = Instant::now();
    let buckets = store.rebuild_rollups(&site, vec![span]).await?;
    println!(
        "rebuilt the rollups of {} from its rows: {buckets} 15-minute buckets hold data ({:.1} s)",
        site.id,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
