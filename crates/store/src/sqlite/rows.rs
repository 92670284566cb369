//! Page views and events on their way into the database: collected during a batch and inserted
//! many rows per statement, which spares SQLite most of its per-statement work. Every insert
//! of these tables goes through here, which is where export segments of the days they land
//! in are forgotten.

use rusqlite::{ToSql, Transaction, params_from_iter};

use crate::StoreError;

/// Rows per multi-row INSERT (well under SQLite's 32,766 bound parameters).
const ROWS_PER_STATEMENT: usize = 64;

pub(crate) struct PageviewRow<'l> {
    pub website: i64,
    pub visitor: i64,
    pub session: i64,
    pub at: i64,
    pub url: i64,
    pub title: Option<&'l str>,
    pub referrer: Option<&'l str>,
    pub device: Option<&'l str>,
    pub browser: Option<&'l str>,
    pub country: Option<&'l str>,
}

pub(crate) struct EventRow<'l> {
    pub website: i64,
    pub visitor: i64,
    pub session: i64,
    pub at: i64,
    pub name: &'l str,
    pub properties: String,
}

const PAGEVIEW_COLUMNS: &str = "pageviews (website_pk, visitor_pk, session_pk, ts, url_pk, title, referrer, device, browser, country)";
const EVENT_COLUMNS: &str = "events (website_pk, visitor_pk, session_pk, ts, name, properties)";

#[derive(Default)]
pub(crate) struct Pending<'l> {
    pub pageviews: Vec<PageviewRow<'l>>,
    pub events: Vec<EventRow<'l>>,
}

impl Pending<'_> {
    /// Inserts everything collected so far.
    pub(crate) fn write(&mut self, tx: &Transaction) -> Result<(), StoreError> {
        let pageviews = self.pageviews.iter().map(|r| (r.website, r.at));
        super::segments::forget_touched(tx, "pageviews", pageviews)?;
        let events = self.events.iter().map(|r| (r.website, r.at));
        super::segments::forget_touched(tx, "events", events)?;
        insert(tx, PAGEVIEW_COLUMNS, 10, &self.pageviews, |r| {
            vec![
                &r.website,
                &r.visitor,
                &r.session,
                &r.at,
                &r.url,
                &r.title,
                &r.referrer,
                &r.device,
                &r.browser,
                &r.country,
            ]
        })?;
        insert(tx, EVENT_COLUMNS, 6, &self.events, |r| {
            vec![
                &r.website,
                &r.visitor,
                &r.session,
                &r.at,
                &r.name,
                &r.properties,
            ]
        })?;
        self.pageviews.clear();
        self.events.clear();
        Ok(())
    }
}

fn insert<R>(
    tx: &Transaction,
    table: &str,
    columns: usize,
    rows: &[R],
    params: impl Fn(&R) -> Vec<&dyn ToSql>,
) -> Result<(), StoreError> {
    let full = rows.len() / ROWS_PER_STATEMENT * ROWS_PER_STATEMENT;
    if full > 0 {
        let mut stmt = tx.prepare_cached(&insert_sql(table, columns, ROWS_PER_STATEMENT))?;
        for chunk in rows[..full].chunks(ROWS_PER_STATEMENT) {
            stmt.execute(params_from_iter(chunk.iter().flat_map(&params)))?;
        }
    }
    if full < rows.len() {
        let mut stmt = tx.prepare_cached(&insert_sql(table, columns, 1))?;
        for row in &rows[full..] {
            stmt.execute(params_from_iter(params(row)))?;
        }
    }
    Ok(())
}

fn insert_sql(table: &str, columns: usize, rows: usize) -> String {
    let group = format!("({})", vec!["?"; columns].join(","));
    format!("INSERT INTO {table} VALUES {}", vec![group; rows].join(","))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_multi_row_insert_has_a_group_per_row() {
        assert_eq!(
            super::insert_sql("t (a, b)", 2, 3),
            "INSERT INTO t (a, b) VALUES (?,?),(?,?),(?,?)"
        );
    }
}
