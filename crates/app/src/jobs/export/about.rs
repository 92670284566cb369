//! Gathers the Art. 15 facts a person's package carries (`report.html`, the README's
//! section): the account's privacy statement and each website's overrides and retention,
//! and the person's access log — every export of their data from the audit trail (this one
//! included: its `data_export.requested` entry is written before the job runs) and every
//! download of those exports from the download log.
//!
//! Who is named by role, not by person: an API key by its label, staff signed in to the
//! dashboard as "a member of staff" (the CJEU, C-579/21, reads Art. 15 as owing the dates
//! and purposes of consultations, not the employees' identities), a download by "someone
//! with the download link" (the client address stays out: it is the downloader's data).
//! Never a key's secret, which nothing here could read anyway.

use std::collections::{BTreeSet, HashMap, VecDeque};

use ferry_domain::AccountId;
use ferry_domain::audit::AuditEntry;
use ferry_domain::export::{Identity, SubjectRef};
use ferry_domain::time::rfc3339;
use ferry_export::report::{About, AboutWebsite, Access};
use ferry_store::{AuditFilter, Store, StoreError};

use crate::services::privacy_statement;

/// Lines the report keeps (the newest); older ones are counted and said to exist.
const MAX_LINES: usize = 1_000;
/// Audit entries read per page.
const PAGE: u32 = 500;

pub(super) async fn gather(
    store: &dyn Store,
    account: AccountId,
    subject: &SubjectRef,
    identities: &[Identity],
    this_export: &str,
) -> Result<About, StoreError> {
    let mut ids: Vec<(String, String)> = Vec::new();
    for i in identities {
        if !ids.iter().any(|(id, _)| *id == i.website_id) {
            ids.push((i.website_id.clone(), i.domain.clone()));
        }
    }
    let site_ids: Vec<String> = ids.iter().map(|(id, _)| id.clone()).collect();
    let (statement, overrides) = privacy_statement::effective(store, account, &site_ids).await?;
    let mut websites = Vec::new();
    for (id, domain) in ids {
        let retention_days = store
            .website(account, &id)
            .await?
            .and_then(|w| w.retention_days);
        let statement = overrides
            .iter()
            .find(|(w, _)| *w == id)
            .map(|(_, s)| s.clone());
        websites.push(AboutWebsite {
            website_id: id,
            domain,
            retention_days,
            statement,
        });
    }
    let (access_log, access_log_omitted) = access_log(store, account, subject, this_export).await?;
    Ok(About {
        statement,
        websites,
        access_log,
        access_log_omitted,
    })
}

async fn access_log(
    store: &dyn Store,
    account: AccountId,
    subject: &SubjectRef,
    this_export: &str,
) -> Result<(Vec<Access>, u64), StoreError> {
    let names: HashMap<String, String> = store
        .keys(account)
        .await?
        .into_iter()
        .map(|k| {
            let label = k.name.unwrap_or_else(|| k.id.clone());
            (k.id, label)
        })
        .collect();
    let mut lines: Vec<(i64, Access)> = Vec::new();
    let mut exports = BTreeSet::new();
    let mut after = None;
    loop {
        let filter = AuditFilter {
            action: Some("data_export".into()),
            subject: Some(subject.label()),
            after,
            limit: PAGE,
            ..AuditFilter::default()
        };
        let page = store.audit_entries(account, filter).await?;
        for entry in &page {
            if let Some(line) = line(entry, &names, this_export) {
                lines.push(line);
            }
            if entry.event.action == "data_export.requested" {
                exports.extend(entry.event.export_id.clone());
            }
        }
        match page.last() {
            Some(last) if page.len() == PAGE as usize => after = Some(last.seq),
            _ => break,
        }
    }
    for id in &exports {
        for d in store.export_downloads(id).await? {
            let state = if d.complete { "whole" } else { "in part" };
            let file = d.file.as_deref().unwrap_or("the file");
            lines.push((
                d.at.timestamp_millis(),
                Access {
                    at: rfc3339(d.at),
                    who: "someone with the download link".into(),
                    what: format!(
                        "downloaded {file} of export {id}, {state} ({} bytes)",
                        d.bytes
                    ),
                },
            ));
        }
    }
    lines.sort_by_key(|(at, _)| *at);
    let mut kept: VecDeque<Access> = lines.into_iter().map(|(_, a)| a).collect();
    let mut omitted = 0;
    while kept.len() > MAX_LINES {
        kept.pop_front();
        omitted += 1;
    }
    Ok((kept.into(), omitted))
}

/// An audit entry as a line of the access log; `None` for the steps it leaves out (started,
/// completed, downloads — the download log has those —, deletions).
fn line(
    entry: &AuditEntry,
    names: &HashMap<String, String>,
    this_export: &str,
) -> Option<(i64, Access)> {
    let e = &entry.event;
    let id = e.export_id.as_deref().unwrap_or("?");
    let what = match e.action.as_str() {
        "data_export.requested" => {
            let this = if id == this_export {
                " (this export)"
            } else {
                ""
            };
            let format = e.details["format"].as_str().unwrap_or("?");
            format!(
                "asked for export {id}{this}: {}, as {format}",
                e.data_types.join(", ")
            )
        }
        "data_export.delivered" => match e.details["delivery_method"].as_str() {
            // Every file downloaded: the download log's lines say it.
            Some("download") | None => return None,
            Some(method) => format!("export {id} was delivered by {method}"),
        },
        _ => return None,
    };
    let at = entry.at.timestamp_millis();
    Some((
        at,
        Access {
            at: rfc3339(entry.at),
            who: who(&e.actor, names),
            what,
        },
    ))
}

/// The actor in words: a key by its label, staff by role.
fn who(actor: &str, names: &HashMap<String, String>) -> String {
    match actor {
        "cli" => "the operator, on the command line".into(),
        "worker" | "sweep" => "Ferry, automatically".into(),
        "link" => "someone with the download link".into(),
        "subject" => "you".into(),
        a if a.starts_with("key_") => format!(
            "API key \u{201c}{}\u{201d}",
            names.get(a).map_or(a, String::as_str)
        ),
        a if a.starts_with("sch_") => "a scheduled export".into(),
        a if a.contains('@') => "a member of staff (dashboard)".into(),
        _ => "Ferry".into(),
    }
}
