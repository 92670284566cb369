//! Visitors: a website's visitors who started a session in a range of days (the API's
//! `GET /analytics/{id}/visitors`, through the same store query), 100 a page, each with its
//! user id and email when identified, a link to find the person, and "Export visitor data"
//! (the Data Export form's own request, by visitor id).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::TimeZone;
use ferry_domain::DateRange;
use serde::Deserialize;

use super::Dashboard;
use super::page::{Chrome, PageError, render};
use super::session::SignedIn;
use crate::error_code::Problem;

pub const PATH: &str = "/visitors";
const PAGE: u32 = 100;

#[derive(Debug, Default, Deserialize)]
pub struct VisitorsQuery {
    #[serde(default)]
    website: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

pub struct Row {
    visitor_id: String,
    user_id: String,
    email: String,
    first_seen: String,
    last_seen: String,
    pageviews: u64,
    sessions: u64,
}

#[derive(Template)]
#[template(path = "visitors.html")]
struct VisitorsPage {
    chrome: Chrome,
    websites: Vec<(String, String)>,
    website: String,
    from: String,
    to: String,
    rows: Vec<Row>,
    next: Option<String>,
}

impl VisitorsPage {
    fn is_website(&self, id: &str) -> bool {
        self.website == id
    }
}

/// A form's field as given; an empty one is left out.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn page(
    State(state): State<Dashboard>,
    s: SignedIn,
    Query(q): Query<VisitorsQuery>,
) -> Result<Response, PageError> {
    let store = state.app.store.as_ref();
    let websites = store.websites(s.user.account).await?;
    // Another account's website is not offered and not found: the first of this account's.
    let website = match given(&q.website) {
        Some(id) => store
            .website(s.user.account, id)
            .await?
            .ok_or_else(|| Problem::website_not_found(id))?,
        None => match websites.first() {
            Some(w) => w.clone(),
            None => {
                return Err(Problem::new(
                    crate::error_code::ErrorCode::WebsiteNotFound,
                    "This account has no website yet.",
                )
                .into());
            }
        },
    };
    let today = website
        .timezone
        .timestamp_millis_opt(state.app.clock.now())
        .single()
        .map(|t| t.date_naive())
        .unwrap_or_default();
    let range = DateRange::parse(given(&q.from), given(&q.to), today).map_err(Problem::from)?;
    let listed = store
        .visitors(&website, range, q.cursor.as_deref(), PAGE)
        .await?;
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(ferry_domain::time::rfc3339).unwrap_or_default()
    };
    let (from, to) = (range.from.to_string(), range.to.to_string());
    let next = listed.next_cursor.map(|c| {
        format!(
            "{PATH}?website={}&from={from}&to={to}&cursor={}",
            encode(&website.id),
            encode(&c)
        )
    });
    let page = VisitorsPage {
        chrome: Chrome::new(&s, "visitors"),
        websites: websites
            .iter()
            .map(|w| (w.id.clone(), w.domain.clone()))
            .collect(),
        website: website.id.clone(),
        from,
        to,
        rows: listed
            .data
            .into_iter()
            .map(|v| Row {
                first_seen: time(v.first_seen),
                last_seen: time(v.last_seen),
                user_id: v.user_id.unwrap_or_default(),
                email: v.email.unwrap_or_default(),
                pageviews: v.pageviews,
                sessions: v.sessions,
                visitor_id: v.visitor_id,
            })
            .collect(),
        next,
    };
    Ok(render(StatusCode::OK, &page))
}
