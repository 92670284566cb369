//! Ingest: one transaction per batch. Sessions are kept up to date as rows arrive (a new session
//! after [`SESSION_GAP_MS`] of inactivity), including for rows that arrive out of order, which
//! may join two sessions into one.
//!
//! Rows usually arrive in time order per visitor, so each visitor's latest session is kept in
//! memory for the batch and written once at the end; anything else takes the exact path through
//! the database.

use std::collections::HashMap;

use ferry_domain::{AccountId, Activity, ActivityKind, Identify, IngestLine, LineError, Millis};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};

use super::SqliteStore;
use super::ingest_people::{VisitorState, upsert_user, visitor_state};
use super::page_days::local_day;
use super::rollups::RollupDelta;
use super::rows::{EventRow, PageviewRow, Pending};
use super::sessions::{assign_session, latest_session, write_session};
use super::suppression::Suppression;
use crate::{Ingest, IngestOutcome, StoreError};

/// Visitors (with their latest session) and URLs, kept from batch to batch by the one writer,
/// so that a returning visitor costs no lookups. Another process's commit (seen through
/// `PRAGMA data_version`) and any failed batch clear it, and so must any other write in this
/// process to visitors, sessions, page views, events or URLs (see `Pool::write`): what it holds
/// is always what the database holds.
#[derive(Default)]
pub(crate) struct IngestCache {
    data_version: i64,
    visitors: HashMap<(i64, String), VisitorState>,
    urls: HashMap<(i64, String), i64>,
}

/// Past this many visitors the cache starts again empty (about 60 MB).
const CACHE_VISITORS: usize = 250_000;

impl IngestCache {
    pub(crate) fn clear(&mut self) {
        self.visitors.clear();
        self.urls.clear();
    }
}

/// One caller's lines. Batches that queue up while the writer is busy are written together in
/// one transaction (a group commit): fewer commits, and each index page written once for all.
pub(crate) struct IngestJob {
    pub(crate) account: Option<AccountId>,
    pub(crate) lines: Vec<IngestLine>,
    pub(crate) now: Millis,
}

/// Writes `jobs` in one transaction; one outcome per job, in order.
pub(crate) fn ingest(
    conn: &mut rusqlite::Connection,
    cache: &mut IngestCache,
    jobs: &[IngestJob],
) -> Result<Vec<IngestOutcome>, StoreError> {
    let version: i64 = conn.query_row("PRAGMA data_version", [], |r| r.get(0))?;
    if version != cache.data_version {
        cache.clear();
        cache.data_version = version;
    }
    let result = ingest_in_transaction(conn, cache, jobs);
    if result.is_err() || cache.visitors.len() > CACHE_VISITORS {
        cache.clear();
    }
    result
}

fn ingest_in_transaction(
    conn: &mut rusqlite::Connection,
    cache: &mut IngestCache,
    jobs: &[IngestJob],
) -> Result<Vec<IngestOutcome>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut batch = Batch {
        tx: &tx,
        account: None,
        now: 0,
        websites: HashMap::new(),
        visitors: &mut cache.visitors,
        urls: &mut cache.urls,
        pending: Pending::default(),
        rollup: RollupDelta::default(),
        suppression: Suppression::default(),
    };
    let mut outcomes = Vec::with_capacity(jobs.len());
    for job in jobs {
        // Website lookups are filtered by the job's account: start them afresh per job.
        batch.account = job.account;
        batch.now = job.now;
        batch.websites.clear();
        let mut outcome = Vec::with_capacity(job.lines.len());
        for line in &job.lines {
            outcome.push(batch.apply(line)?);
        }
        outcomes.push(outcome);
    }
    batch.flush()?;
    tx.commit()?;
    Ok(outcomes)
}

#[derive(Clone, Copy)]
struct Site {
    pk: i64,
    account: i64,
    /// The account suppresses erased people and has some: each line is checked.
    suppress: bool,
    /// The rollup of page views per local day needs each page view's day.
    timezone: chrono_tz::Tz,
}

struct Batch<'t, 'l> {
    tx: &'t Transaction<'t>,
    pending: Pending<'l>,
    /// The rollups' share of this transaction, written with it (see `rollups`).
    rollup: RollupDelta,
    account: Option<AccountId>,
    now: Millis,
    /// Per batch: a website created between batches must be found by the next one.
    websites: HashMap<String, Option<Site>>,
    visitors: &'t mut HashMap<(i64, String), VisitorState>,
    urls: &'t mut HashMap<(i64, String), i64>,
    /// Erased people's identifiers, for accounts that suppress them.
    suppression: Suppression,
}

fn unknown_website(id: &str) -> LineError {
    LineError::new(
        "unknown_website",
        format!("there is no website `{id}` in this account: create it first or fix website_id"),
    )
}

impl<'t, 'l> Batch<'t, 'l> {
    fn apply(&mut self, line: &'l IngestLine) -> Result<Result<(), LineError>, StoreError> {
        let Some(site) = self.site(line.website_id())? else {
            return Ok(Err(unknown_website(line.website_id())));
        };
        // An erased person's line is dropped as if stored: nobody learns who was erased.
        if site.suppress && self.suppression.names_erased(self.tx, site.account, line)? {
            return Ok(Ok(()));
        }
        match line {
            IngestLine::Activity(activity) => self.activity(site, activity)?,
            IngestLine::Identify(identify) => return self.identify(site, identify),
        }
        Ok(Ok(()))
    }

    fn site(&mut self, public_id: &str) -> Result<Option<Site>, StoreError> {
        if let Some(site) = self.websites.get(public_id) {
            return Ok(*site);
        }
        let site = self
            .tx
            .prepare_cached(
                "SELECT w.pk, w.account_pk,
                   coalesce((SELECT suppress_erased FROM request_settings s
                             WHERE s.account_pk = w.account_pk), 0)
                   AND EXISTS (SELECT 1 FROM erasure_suppressions e WHERE e.account_pk = w.account_pk),
                   w.timezone
                 FROM websites w WHERE w.public_id = ?1",
            )?
            .query_row([public_id], |r| {
                Ok(Site {
                    pk: r.get(0)?,
                    account: r.get(1)?,
                    suppress: r.get(2)?,
                    timezone: r.get::<_, String>(3)?.parse().unwrap_or(chrono_tz::Tz::UTC),
                })
            })
            .optional()?
            .filter(|s| self.account.is_none_or(|a| a.0 == s.account));
        self.websites.insert(public_id.to_string(), site);
        Ok(site)
    }

    fn activity(&mut self, site: Site, a: &'l Activity) -> Result<(), StoreError> {
        let tx = self.tx;
        let v = visitor_state(&mut *self.visitors, tx, site.pk, &a.visitor_id)?;
        if v.latest.is_none() {
            v.latest = Some(latest_session(tx, site.pk, v.pk)?);
        }
        // Device, browser and country follow the visitor's newest activity; they rarely change,
        // so the visitor row is written only when they do.
        let newest = v
            .latest
            .as_ref()
            .is_none_or(|s| s.as_ref().is_none_or(|s| a.at >= s.ended));
        if newest {
            for (slot, value) in [
                (&mut v.device, &a.device),
                (&mut v.browser, &a.browser),
                (&mut v.country, &a.country),
            ] {
                if value.is_some() && slot != value {
                    slot.clone_from(value);
                    v.dirty = true;
                }
            }
        }
        let is_page = matches!(a.kind, ActivityKind::Pageview { .. });
        let late = v
            .latest
            .as_ref()
            .is_some_and(|s| s.as_ref().is_some_and(|s| a.at < s.started));
        if late {
            // Joining sessions moves rows by session: they must all be in the table first.
            self.pending.write(tx)?;
        }
        let session = assign_session(tx, &mut self.rollup, site.pk, v, a.at, is_page)?;
        let visitor = v.pk;
        let (website, at) = (site.pk, a.at);
        match &a.kind {
            ActivityKind::Pageview {
                url,
                title,
                referrer,
            } => {
                let url = self.url(site.pk, url)?;
                let day = local_day(site.timezone, at);
                self.rollup.pageview(website, at, day, url, visitor);
                self.pending.pageviews.push(PageviewRow {
                    website,
                    visitor,
                    session,
                    at,
                    url,
                    title: title.as_deref(),
                    referrer: referrer.as_deref(),
                    device: a.device.as_deref(),
                    browser: a.browser.as_deref(),
                    country: a.country.as_deref(),
                });
            }
            ActivityKind::Event { name, properties } => {
                self.rollup.event(website, at);
                self.pending.events.push(EventRow {
                    website,
                    visitor,
                    session,
                    at,
                    name,
                    properties: serde_json::to_string(properties).unwrap_or_else(|_| "{}".into()),
                });
            }
        }
        Ok(())
    }

    fn url(&mut self, website_pk: i64, url: &str) -> Result<i64, StoreError> {
        let key = (website_pk, url.to_string());
        if let Some(pk) = self.urls.get(&key) {
            return Ok(*pk);
        }
        self.tx
            .prepare_cached(
                "INSERT INTO urls (website_pk, url) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            )?
            .execute(params![website_pk, url])?;
        let pk = self
            .tx
            .prepare_cached("SELECT pk FROM urls WHERE website_pk = ?1 AND url = ?2")?
            .query_row(params![website_pk, url], |r| r.get(0))?;
        self.urls.insert(key, pk);
        Ok(pk)
    }

    /// A refused identify (its merged properties over the limit) changes nothing: neither the
    /// user nor the visitor's link.
    fn identify(&mut self, site: Site, i: &Identify) -> Result<Result<(), LineError>, StoreError> {
        let tx = self.tx;
        let now = self.now;
        let user_pk = match upsert_user(tx, site.account, i, now)? {
            Ok(pk) => pk,
            Err(refused) => return Ok(Err(refused)),
        };
        let v = visitor_state(&mut *self.visitors, tx, site.pk, &i.visitor_id)?;
        // An unsigned call may link an anonymous visitor, never move one someone else linked:
        // otherwise anyone knowing a visitor id could pull its history into their own export.
        let only_anonymous = !i.trust.may_overwrite();
        tx.prepare_cached(
            "UPDATE visitors SET user_pk = ?2, link_trust = ?3
             WHERE pk = ?1 AND (?4 = 0 OR user_pk IS NULL)",
        )?
        .execute(params![v.pk, user_pk, i.trust.as_str(), only_anonymous])?;
        Ok(Ok(()))
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        self.pending.write(self.tx)?;
        for v in self.visitors.values_mut() {
            if v.dirty {
                self.tx
                    .prepare_cached(
                        "UPDATE visitors SET device = ?2, browser = ?3, country = ?4 WHERE pk = ?1",
                    )?
                    .execute(params![v.pk, v.device, v.browser, v.country])?;
                v.dirty = false;
            }
            if let Some(Some(s)) = v.latest.as_mut() {
                write_session(self.tx, &mut self.rollup, s)?;
            }
        }
        self.rollup.write(self.tx)
    }
}

#[async_trait::async_trait]
impl Ingest for SqliteStore {
    async fn ingest(
        &self,
        account: Option<AccountId>,
        lines: Vec<IngestLine>,
        now: Millis,
    ) -> Result<IngestOutcome, StoreError> {
        let job = IngestJob {
            account,
            lines,
            now,
        };
        self.ingest.ingest(job).await
    }
}
