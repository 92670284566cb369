//! `GET /api/external/v1/analytics/{websiteId}` and its `/visitors` and `/pages` lists.

use crate::error_code::ErrorCode;
use axum::Json;
use axum::extract::{Path, State};
use chrono::Utc;
use ferry_domain::analytics::{DayPoint, Page, PageRow, Totals, VisitorRow};
use ferry_domain::{DateRange, Scope, Website};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::extract::{ApiQuery, Caller};
use crate::startup::AppState;

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1_000;

#[derive(Debug, Deserialize)]
pub struct RangeQuery {
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

impl RangeQuery {
    fn range(&self, website: &Website) -> Result<DateRange, ApiError> {
        let today = Utc::now().with_timezone(&website.timezone).date_naive();
        Ok(DateRange::parse(
            self.from.as_deref(),
            self.to.as_deref(),
            today,
        )?)
    }

    fn limit(&self) -> Result<u32, ApiError> {
        match self.limit.unwrap_or(DEFAULT_LIMIT) {
            n @ 1..=MAX_LIMIT => Ok(n),
            _ => Err(ApiError::new(
                ErrorCode::InvalidQuery,
                format!("`limit` must be between 1 and {MAX_LIMIT}"),
            )),
        }
    }
}

/// Which website and days an answer covers, echoed so a script can check what it got.
#[derive(Serialize)]
pub struct RangeEcho {
    website_id: String,
    timezone: String,
    from: String,
    to: String,
}

fn scope_of(website: &Website, range: DateRange) -> RangeEcho {
    RangeEcho {
        website_id: website.id.clone(),
        timezone: website.timezone.name().to_string(),
        from: range.from.to_string(),
        to: range.to.to_string(),
    }
}

async fn readable_website(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<Website, ApiError> {
    let key = caller.require(Scope::AnalyticsRead)?;
    state
        .store
        .website(key.account, id)
        .await?
        .ok_or_else(|| ApiError::website_not_found(id))
}

#[derive(Serialize)]
pub struct Summary {
    #[serde(flatten)]
    scope: RangeEcho,
    totals: Totals,
    series: Vec<DayPoint>,
}

pub async fn summary(
    State(state): State<AppState>,
    caller: Caller,
    Path(website_id): Path<String>,
    ApiQuery(query): ApiQuery<RangeQuery>,
) -> Result<Json<Summary>, ApiError> {
    let website = readable_website(&state, &caller, &website_id).await?;
    let range = query.range(&website)?;
    let (totals, series) = state.store.totals(&website, range).await?;
    Ok(Json(Summary {
        scope: scope_of(&website, range),
        totals,
        series,
    }))
}

#[derive(Serialize)]
pub struct Listing<T> {
    #[serde(flatten)]
    scope: RangeEcho,
    #[serde(flatten)]
    page: Page<T>,
}

pub async fn visitors(
    State(state): State<AppState>,
    caller: Caller,
    Path(website_id): Path<String>,
    ApiQuery(query): ApiQuery<RangeQuery>,
) -> Result<Json<Listing<VisitorRow>>, ApiError> {
    let website = readable_website(&state, &caller, &website_id).await?;
    let (range, limit) = (query.range(&website)?, query.limit()?);
    let page = state
        .store
        .visitors(&website, range, query.cursor.as_deref(), limit)
        .await?;
    Ok(Json(Listing {
        scope: scope_of(&website, range),
        page,
    }))
}

pub async fn pages(
    State(state): State<AppState>,
    caller: Caller,
    Path(website_id): Path<String>,
    ApiQuery(query): ApiQuery<RangeQuery>,
) -> Result<Json<Listing<PageRow>>, ApiError> {
    let website = readable_website(&state, &caller, &website_id).await?;
    let (range, limit) = (query.range(&website)?, query.limit()?);
    let page = state
        .store
        .pages(&website, range, query.cursor.as_deref(), limit)
        .await?;
    Ok(Json(Listing {
        scope: scope_of(&website, range),
        page,
    }))
}
