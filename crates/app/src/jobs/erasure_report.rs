//! An erasure's deletion report: what each store area lost (counted in the transaction that
//! deleted it), and the check after the fact that nothing of the person remains — direct
//! queries for their rows, and a byte search of every segment and artifact file for their
//! identifiers. The report holds numbers only; its SHA-256 goes into the audit chain.

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

use ferry_domain::AccountId;
use ferry_domain::erasure::ErasureRecord;
use ferry_domain::request::Request;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::Worker;
use crate::segments::SegmentFiles;

/// Removes segment files no record points to (the store forgot their days with the rows);
/// returns how many it removed. The compactor rebuilds those days without the person.
pub(super) async fn remove_orphan_segments(
    worker: &Worker,
    files: &SegmentFiles,
) -> anyhow::Result<u64> {
    let known: HashSet<i64> = worker.store.segment_ids().await?.into_iter().collect();
    let mut removed = 0;
    let Ok(entries) = std::fs::read_dir(&files.dir) else {
        return Ok(0);
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let id = name
            .strip_suffix(".seg")
            .and_then(|id| id.parse::<i64>().ok());
        if id.is_some_and(|id| !known.contains(&id)) && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

/// Whether the file holds any of `needles`, read in blocks (the overlap catches a needle
/// across two blocks), so a large export is never read whole into memory.
fn file_holds(path: &Path, needles: &[&[u8]]) -> std::io::Result<bool> {
    let longest = needles.iter().map(|n| n.len()).max().unwrap_or(0);
    if longest == 0 {
        return Ok(false);
    }
    let mut file = std::fs::File::open(path)?;
    let mut window: Vec<u8> = Vec::with_capacity((1 << 20) + longest);
    let mut block = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut block)?;
        if n == 0 {
            return Ok(false);
        }
        window.extend_from_slice(&block[..n]);
        if needles
            .iter()
            .any(|needle| window.windows(needle.len()).any(|w| w == *needle))
        {
            return Ok(true);
        }
        let keep = window.len().min(longest - 1);
        window.drain(..window.len() - keep);
    }
}

/// The files a byte search covers: every segment file and every artifact the store keeps on
/// local disk. Returns (files searched, files holding an identifier).
/// The files of exports in `skip` (a subject's own copy, kept to its link's expiry) are left
/// out.
async fn search_files(
    worker: &Worker,
    needles: Vec<String>,
    skip: &[String],
) -> anyhow::Result<(u64, u64)> {
    let mut paths = Vec::new();
    if let Some(files) = &worker.segments
        && let Ok(entries) = std::fs::read_dir(&files.dir)
    {
        paths.extend(entries.flatten().map(|e| e.path()));
    }
    for key in worker.artifacts.list_all().await? {
        if skip.iter().any(|id| key.starts_with(&format!("{id}/"))) {
            continue;
        }
        if let Some(path) = worker.artifacts.local_path(&key) {
            paths.push(path);
        }
    }
    tokio::task::spawn_blocking(move || {
        let needles: Vec<&[u8]> = needles
            .iter()
            .filter(|n| !n.is_empty())
            .map(|n| n.as_bytes())
            .collect();
        let mut holding = 0;
        for path in &paths {
            if file_holds(path, &needles).unwrap_or(false) {
                holding += 1;
            }
        }
        Ok((paths.len() as u64, holding))
    })
    .await?
}

/// The report and its SHA-256 (hex, over the report's JSON text). Built from the record only
/// (no clock reading, no file names), so a resumed run reports the same.
pub(super) async fn build(
    worker: &Worker,
    account: AccountId,
    request: &Request,
    record: &ErasureRecord,
) -> anyhow::Result<(Value, String)> {
    let mut remaining = worker.store.erasure_remaining(account, &request.id).await?;
    let needles = record
        .person
        .as_ref()
        .map(|p| p.needles().into_iter().map(str::to_string).collect())
        .unwrap_or_default();
    let (searched, holding) = search_files(worker, needles, &request.fulfilment.export_ids).await?;
    remaining.files = holding;
    let c = &record.counts;
    let report = json!({
        "request_id": request.id,
        "type": "erasure",
        "scope": "every website of the account",
        "removed": {
            "pageviews": c.pageviews,
            "events": c.events,
            "sessions": c.sessions,
            "visitors": c.visitors,
            "profiles": c.profiles,
            "identity_links": c.identity_links,
            "websites": c.websites,
            "segments_forgotten": c.segments,
            "segment_files_removed": record.segment_files,
            "rollup_buckets_rebuilt": c.rollup_buckets,
            "exports_erased": record.exports.len(),
            "artifact_files_deleted": record.artifact_files,
        },
        "remaining": remaining,
        "nothing_remains": remaining.is_nothing(),
        "checked": {
            "direct_queries": ["pageviews", "events", "sessions", "visitors", "users"],
            "files_searched": searched,
            "identifiers_searched": record.person.as_ref().map_or(0, |p| p.needles().len()),
        },
        "kept": {
            "export_first_exports": request.fulfilment.export_ids,
        },
    });
    let sha = hex::encode(Sha256::digest(report.to_string().as_bytes()));
    Ok((report, sha))
}
