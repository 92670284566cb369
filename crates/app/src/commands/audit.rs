//! `ferry audit verify`: proves the audit trail untouched, or names the first entry that was
//! edited or removed.

use anyhow::bail;

use crate::config::StoreArgs;

pub async fn verify(store_args: &StoreArgs) -> anyhow::Result<()> {
    let store = super::open_existing_store(store_args).await?;
    let (count, broken) = store.audit_verify().await?;
    match broken {
        None => {
            println!("audit trail intact: {count} entries, every hash checks out");
            Ok(())
        }
        Some(b) => bail!("audit trail broken at entry {}: {}", b.seq, b.reason),
    }
}
