//! Overview: one website's totals, a daily chart (inline SVG) and its top pages over the last
//! 7, 30 or 90 days or chosen days — the landing page after signing in. The totals and chart
//! are the API's `GET /analytics/{id}` (the same store call, from the 15-minute rollups); the
//! top pages are the first rows of its `/pages` list, by page views, read from the page views
//! per local day (`Analytics::top_pages`) without unique visitors, which would cost a read of
//! every viewer. Both cost about the same at any number of page views (README, "What the
//! Overview costs"). Another account's website is "not found"; an account without a website is
//! told how to add one.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{Duration, NaiveDate, TimeZone};
use ferry_domain::analytics::{DayPoint, TopPage, Totals};
use ferry_domain::{DateRange, Website};
use serde::Deserialize;

use super::Dashboard;
use super::chart::{self, Chart};
use super::page::{Chrome, PageError, render};
use super::session::SignedIn;
use crate::error_code::{ErrorCode, Problem};

pub const PATH: &str = "/overview";
const TOP_PAGES: u32 = 10;
/// The preset ranges, in days ending today.
const PRESETS: [i64; 3] = [7, 30, 90];

#[derive(Debug, Default, Deserialize)]
pub struct OverviewQuery {
    #[serde(default)]
    website: Option<String>,
    /// `7`, `30`, `90` or `custom` (then `from` and `to`).
    #[serde(default)]
    range: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    chrome: Chrome,
    websites: Vec<(String, String)>,
    website: String,
    domain: String,
    /// `7`, `30`, `90` or `custom`.
    range: String,
    from: String,
    to: String,
    totals: Totals,
    series: Vec<DayPoint>,
    chart: Chart,
    pages: Vec<TopPage>,
}

impl OverviewPage {
    fn is_website(&self, id: &str) -> bool {
        self.website == id
    }
    fn is_range(&self, r: &str) -> bool {
        self.range == r
    }
    fn bounce(&self) -> String {
        format!("{:.0}%", self.totals.bounce_rate * 100.0)
    }
    fn duration(&self) -> String {
        let s = self.totals.avg_session_duration.round() as u64;
        format!("{}m {:02}s", s / 60, s % 60)
    }
    fn chart_label(&self) -> String {
        let total: u64 = self.series.iter().map(|p| p.pageviews).sum();
        format!(
            "Page views per day from {} to {}: {} in all, at most {} on one day",
            self.from,
            self.to,
            total,
            self.series.iter().map(|p| p.pageviews).max().unwrap_or(0)
        )
    }
}

#[derive(Template)]
#[template(path = "overview_empty.html")]
struct NoWebsite {
    chrome: Chrome,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The days `q` asks for: a preset ending today (the default: 30), or `from`–`to`.
fn range_of(q: &OverviewQuery, today: NaiveDate) -> Result<(String, DateRange), Problem> {
    let preset = given(&q.range).unwrap_or(match (given(&q.from), given(&q.to)) {
        (None, None) => "30",
        _ => "custom",
    });
    if preset == "custom" {
        let range = DateRange::parse(given(&q.from), given(&q.to), today)?;
        return Ok(("custom".into(), range));
    }
    match preset.parse::<i64>() {
        Ok(days) if PRESETS.contains(&days) => {
            let from = (today - Duration::days(days - 1)).to_string();
            let range = DateRange::parse(Some(&from), None, today)?;
            Ok((days.to_string(), range))
        }
        _ => Err(Problem::new(
            ErrorCode::InvalidQuery,
            "`range` is 7, 30, 90 or custom (with from and to as YYYY-MM-DD)",
        )),
    }
}

async fn chosen_website(
    state: &Dashboard,
    s: &SignedIn,
    asked: Option<&str>,
    websites: &[Website],
) -> Result<Option<Website>, PageError> {
    Ok(match asked {
        Some(id) => Some(
            state
                .app
                .store
                .website(s.user.account, id)
                .await?
                .ok_or_else(|| Problem::website_not_found(id))?,
        ),
        None => websites.first().cloned(),
    })
}

pub async fn page(
    State(state): State<Dashboard>,
    s: SignedIn,
    Query(q): Query<OverviewQuery>,
) -> Result<Response, PageError> {
    let store = state.app.store.as_ref();
    let websites = store.websites(s.user.account).await?;
    let Some(website) = chosen_website(&state, &s, given(&q.website), &websites).await? else {
        let chrome = Chrome::new(&s, "overview");
        return Ok(render(StatusCode::OK, &NoWebsite { chrome }));
    };
    let today = website
        .timezone
        .timestamp_millis_opt(state.app.clock.now())
        .single()
        .map(|t| t.date_naive())
        .unwrap_or_default();
    let (range_name, range) = range_of(&q, today)?;
    // Two reads on two of the store's connections at once: the page waits for the slower.
    let ((totals, series), pages) = tokio::try_join!(
        store.totals(&website, range),
        store.top_pages(&website, range, TOP_PAGES)
    )?;
    let page = OverviewPage {
        chrome: Chrome::new(&s, "overview"),
        websites: websites
            .iter()
            .map(|w| (w.id.clone(), w.domain.clone()))
            .collect(),
        website: website.id.clone(),
        domain: website.domain.clone(),
        range: range_name,
        from: range.from.to_string(),
        to: range.to.to_string(),
        chart: chart::daily(&series),
        totals,
        series,
        pages,
    };
    Ok(render(StatusCode::OK, &page))
}
