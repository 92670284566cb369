//! `ferry audit verify [--checkpoint FILE]`: proves the audit trail untouched (and, with a
//! checkpoint, that nothing up to it was edited, removed or cut), or names the first entry
//! that was; `ferry audit checkpoint`: signs the trail's head.

use std::path::Path;

use anyhow::{Context, bail};

use crate::checkpoint::Checkpoint;
use crate::config::StoreArgs;

pub async fn verify(
    store_args: &StoreArgs,
    checkpoint: Option<&Path>,
    public_key: Option<&str>,
) -> anyhow::Result<()> {
    let Some(file) = checkpoint else {
        let store = super::open_existing_store(store_args).await?;
        let chain = store.audit_verify(None).await?;
        return match chain.broken {
            None => {
                println!(
                    "audit trail intact: {} entries, every hash checks out",
                    chain.count
                );
                Ok(())
            }
            Some(b) => bail!("audit trail broken at entry {}: {}", b.seq, b.reason),
        };
    };
    let checkpoint = read_checkpoint(file)?;
    let trusted = match public_key {
        Some(value) => crate::audit_key::parse_public(value)?,
        None => crate::audit_key::load(&store_args.data_dir)?
            .with_context(|| {
                format!(
                    "{} holds no audit signing key: pass the key the checkpoint was signed with \
                     (--public-key)",
                    store_args.data_dir.display()
                )
            })?
            .verifying_key(),
    };
    let fail =
        |why: String| anyhow::anyhow!("checkpoint {} does not verify: {why}", file.display());
    checkpoint.check_signature(&trusted).map_err(fail)?;
    let store = super::open_existing_store(store_args).await?;
    let chain = store.audit_verify(Some(checkpoint.seq)).await?;
    checkpoint.check_chain(&chain).map_err(fail)?;
    println!(
        "audit trail intact: {} entries, every hash checks out; entries 1 to {} are those the \
         checkpoint of {} signed",
        chain.count, checkpoint.seq, checkpoint.taken_at
    );
    Ok(())
}

fn read_checkpoint(file: &Path) -> anyhow::Result<Checkpoint> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the checkpoint {}", file.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a Ferry audit checkpoint (JSON with format, seq, head_hash, taken_at, \
             public_key, signature): pass a file `ferry audit checkpoint` wrote",
            file.display()
        )
    })
}

pub async fn checkpoint(store_args: &StoreArgs, output: Option<&Path>) -> anyhow::Result<()> {
    let store = super::open_existing_store(store_args).await?;
    let chain = store.audit_verify(None).await?;
    if let Some(b) = chain.broken {
        // Signing a broken trail would vouch for whatever was done to it.
        bail!(
            "refusing to sign: audit trail broken at entry {}: {}",
            b.seq,
            b.reason
        );
    }
    let key = crate::audit_key::load_or_create(&store_args.data_dir)?;
    let checkpoint = Checkpoint::sign(&key, chain.head, chrono::Utc::now());
    let text = serde_json::to_string_pretty(&checkpoint)? + "\n";
    match output {
        None => print!("{text}"),
        Some(path) => {
            std::fs::write(path, &text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "checkpoint of entry {} written to {}",
                checkpoint.seq,
                path.display()
            );
        }
    }
    Ok(())
}
