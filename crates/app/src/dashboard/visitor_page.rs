//! One visitor (Visitors → a visitor): who they are (the person they are linked to, with user
//! id and email, and every other visitor of that person), their sessions, page views and
//! events, newest first, [`PAGE`] rows a page, and "Export visitor data" (the Data Export
//! form's own request, by visitor id). Found only in the signed-in user's account: another
//! account's visitor is "not found", whatever id is typed.
//!
//! URLs, titles, referrers, event names and properties were sent by whoever loaded a tracked
//! page: the template prints them escaped (never `|safe`).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use ferry_domain::export::{EventRow, Identity, PageviewRow, Profile, SessionRow, SubjectRef};
use serde::Deserialize;

use super::Dashboard;
use super::page::{Chrome, PageError, render};
use super::session::SignedIn;
use crate::error_code::{ErrorCode, Problem};

/// Rows per list and page: a visitor with a million page views still costs one small read.
pub const PAGE: u32 = 25;
/// Longer than any visitor id ingest accepts: refused before the store is asked.
const MAX_ID: usize = 200;

#[derive(Debug, Default, Deserialize)]
pub struct VisitorQuery {
    #[serde(default)]
    website: Option<String>,
    #[serde(default)]
    sessions: Option<String>,
    #[serde(default)]
    pageviews: Option<String>,
    #[serde(default)]
    events: Option<String>,
}

pub struct Event {
    at: String,
    name: String,
    properties: String,
}

#[derive(Template)]
#[template(path = "visitor.html")]
struct VisitorPage {
    chrome: Chrome,
    visitor: Identity,
    profile: Option<Profile>,
    /// The person's other visitors (other devices, other websites).
    others: Vec<Identity>,
    sessions: Vec<SessionRow>,
    pageviews: Vec<PageviewRow>,
    events: Vec<Event>,
    /// "Older" links, each for its own list.
    more_sessions: Option<String>,
    more_pageviews: Option<String>,
    more_events: Option<String>,
}

impl VisitorPage {
    fn time(&self, ms: &i64) -> String {
        time(*ms)
    }
}

fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
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

fn not_found() -> PageError {
    PageError {
        message: "There is no such visitor in this account.".into(),
        ..PageError::not_found()
    }
}

fn bad_cursor() -> PageError {
    Problem::new(
        ErrorCode::InvalidCursor,
        "That page link is damaged or from another list: open the visitor again from Visitors.",
    )
    .into()
}

pub async fn page(
    State(state): State<Dashboard>,
    s: SignedIn,
    Path(visitor_id): Path<String>,
    Query(q): Query<VisitorQuery>,
) -> Result<Response, PageError> {
    if visitor_id.is_empty() || visitor_id.len() > MAX_ID {
        return Err(not_found());
    }
    let website = q.website.as_deref().filter(|w| !w.is_empty());
    if website.is_some_and(|w| w.len() > MAX_ID) {
        return Err(not_found());
    }
    let store = state.app.store.as_ref();
    let by = SubjectRef::VisitorId(visitor_id.clone());
    let subject = store
        .find_subject(s.user.account, &by, website)
        .await?
        .ok_or_else(not_found)?;
    let (mine, others): (Vec<Identity>, Vec<Identity>) = subject
        .identities
        .into_iter()
        .partition(|i| i.visitor_id == visitor_id && website.is_none_or(|w| w == i.website_id));
    let mut mine = mine.into_iter();
    let visitor = mine.next().ok_or_else(not_found)?;
    let others = others.into_iter().chain(mine).collect();
    let key = visitor.visitor_key;
    let paged = |e| match e {
        ferry_store::StoreError::InvalidCursor => bad_cursor(),
        e => e.into(),
    };
    let sessions = store
        .visitor_sessions(key, q.sessions.as_deref(), PAGE)
        .await
        .map_err(paged)?;
    let pageviews = store
        .visitor_pageviews(key, q.pageviews.as_deref(), PAGE)
        .await
        .map_err(paged)?;
    let events = store
        .visitor_events(key, q.events.as_deref(), PAGE)
        .await
        .map_err(paged)?;
    let here = format!(
        "/visitors/{}?website={}",
        encode(&visitor.visitor_id),
        encode(&visitor.website_id)
    );
    let more = |list: &str, next: Option<String>| {
        next.map(|c| format!("{here}&{list}={}#{list}", encode(&c)))
    };
    let page = VisitorPage {
        chrome: Chrome::new(&s, "visitors"),
        more_sessions: more("sessions", sessions.next_cursor),
        more_pageviews: more("pageviews", pageviews.next_cursor),
        more_events: more("events", events.next_cursor),
        sessions: sessions.data,
        pageviews: pageviews.data,
        events: events
            .data
            .into_iter()
            .map(|e: EventRow| Event {
                at: time(e.timestamp),
                name: e.name,
                properties: serde_json::Value::Object(e.properties).to_string(),
            })
            .collect(),
        profile: subject.profile,
        visitor,
        others,
    };
    Ok(render(StatusCode::OK, &page))
}
