//! Gathers the Art. 15 facts a person's package carries (`report.html`, the README's
//! section): the account's privacy statement and each website's overrides and retention,
//! and the person's access log — every export of their data from the audit trail (this one
//! included: its `data_export.requested` entry is written before the job runs), every
//! download of those exports from the download log, and every whole-website export of a
//! website they were seen on.
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
    let ids_and_domains = ids.clone();
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
    let names = key_labels(store, account).await?;
    let (mut lines, exports) = person_exports(store, account, &names, subject, this_export).await?;
    for (id, domain) in &ids_and_domains {
        lines.extend(website_exports(store, account, &names, id, domain).await?);
    }
    let (access_log, access_log_omitted) = newest(store, lines, &exports).await?;
    Ok(About {
        statement,
        websites,
        access_log,
        access_log_omitted,
    })
}

/// Each key's label (its name, else its id), revoked keys included: they asked once.
async fn key_labels(
    store: &dyn Store,
    account: AccountId,
) -> Result<HashMap<String, String>, StoreError> {
    Ok(store
        .keys(account)
        .await?
        .into_iter()
        .map(|k| {
            let label = k.name.unwrap_or_else(|| k.id.clone());
            (k.id, label)
        })
        .collect())
}

/// Every `data_export.*` entry about the person, read page by page, as access-log lines,
/// and the ids of their exports (whose downloads the download log has).
async fn person_exports(
    store: &dyn Store,
    account: AccountId,
    names: &HashMap<String, String>,
    subject: &SubjectRef,
    this_export: &str,
) -> Result<(Vec<(i64, Access)>, BTreeSet<String>), StoreError> {
    let mut lines = Vec::new();
    let mut exports = BTreeSet::new();
    for entry in entries(store, account, "data_export", subject.label()).await? {
        if let Some(line) = line(&entry, names, this_export) {
            lines.push(line);
        }
        if entry.event.action == "data_export.requested" {
            exports.extend(entry.event.export_id.clone());
        }
    }
    Ok((lines, exports))
}

/// Whole-website exports of a website the person was seen on: they hold the person's rows
/// among everyone's (when their days cover the person's), so the person is owed them too.
async fn website_exports(
    store: &dyn Store,
    account: AccountId,
    names: &HashMap<String, String>,
    website: &str,
    domain: &str,
) -> Result<Vec<(i64, Access)>, StoreError> {
    let subject = format!("website:{website}");
    let asked = entries(store, account, "data_export.requested", subject).await?;
    Ok(asked
        .iter()
        .map(|e| {
            let id = e.event.export_id.as_deref().unwrap_or("?");
            let who = who(&e.event.actor, names);
            (
                e.at.timestamp_millis(),
                Access {
                    at: rfc3339(e.at),
                    who,
                    what: format!(
                        "asked for export {id} of the whole website {domain}, which holds your \
                         data among everyone's if its days include your visits"
                    ),
                },
            )
        })
        .collect())
}

/// Every entry of `action` (a prefix, as `GET /audit` reads it) about `subject`, oldest first.
async fn entries(
    store: &dyn Store,
    account: AccountId,
    action: &str,
    subject: String,
) -> Result<Vec<AuditEntry>, StoreError> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let filter = AuditFilter {
            action: Some(action.into()),
            subject: Some(subject.clone()),
            after,
            limit: PAGE,
            ..AuditFilter::default()
        };
        let page = store.audit_entries(account, filter).await?;
        let full = page.len() == PAGE as usize;
        after = page.last().map(|e| e.seq);
        all.extend(page);
        if !full {
            return Ok(all);
        }
    }
}

/// The download log's lines of `exports` added to `lines`; the newest [`MAX_LINES`] of them
/// in time order, and how many older ones were left out.
async fn newest(
    store: &dyn Store,
    mut lines: Vec<(i64, Access)>,
    exports: &BTreeSet<String>,
) -> Result<(Vec<Access>, u64), StoreError> {
    for id in exports {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_are_named_by_role_and_keys_by_their_label_never_an_address() {
        let names = HashMap::from([("key_1".to_string(), "CRM sync".to_string())]);
        assert_eq!(who("key_1", &names), "API key \u{201c}CRM sync\u{201d}");
        assert_eq!(who("key_2", &names), "API key \u{201c}key_2\u{201d}");
        assert_eq!(
            who("dpo@acme.example", &names),
            "a member of staff (dashboard)"
        );
        assert_eq!(who("cli", &names), "the operator, on the command line");
        assert_eq!(who("link", &names), "someone with the download link");
        assert_eq!(who("sch_9", &names), "a scheduled export");
        assert_eq!(who("subject", &names), "you");
    }
}
