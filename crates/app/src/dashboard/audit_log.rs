//! Settings → Audit Log: the account's trail filtered by action, requester, subject and days
//! (the API's `GET /audit` filters, through the same store query), oldest first, 200 a page;
//! the same selection as CSV; and, on request, whether the hash chain checks out.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use ferry_store::AuditFilter;
use serde::Deserialize;

use super::Dashboard;
use super::page::{Chrome, PageError, render};
use super::session::SignedIn;
use crate::error_code::{ErrorCode, Problem};

const PAGE: u32 = 200;
/// Entries in one CSV download (the API pages up to the same number).
const CSV_MAX: u32 = 10_000;
/// Longer than any identifier or email Ferry keeps: a longer filter can match nothing.
const MAX_FILTER_CHARS: usize = 400;

/// The action filter's choices: a prefix matches every action under it.
const ACTIONS: [(&str, &str); 7] = [
    ("data_export", "Data Export"),
    ("api_key", "API keys"),
    ("schedule", "Schedules"),
    ("destination", "Destinations"),
    ("website", "Websites"),
    ("dashboard", "Dashboard sign-ins"),
    ("dashboard_user", "Dashboard users"),
];

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    /// Entries after this one (the next page).
    #[serde(default)]
    after: Option<i64>,
}

impl AuditQuery {
    fn filter(&self, limit: u32) -> Result<AuditFilter, PageError> {
        let text = |v: &str| Some(v.trim().to_string()).filter(|s| !s.is_empty());
        for v in [&self.actor, &self.subject, &self.action] {
            if v.chars().count() > MAX_FILTER_CHARS {
                return Err(Problem::new(
                    ErrorCode::InvalidQuery,
                    format!("A filter is at most {MAX_FILTER_CHARS} characters."),
                )
                .into());
            }
        }
        let day = |field: &'static str, v: &str, end: bool| -> Result<Option<i64>, PageError> {
            let Some(v) = text(v) else { return Ok(None) };
            let day = ferry_domain::parse_date(field, &v).map_err(Problem::from)?;
            let ms = day
                .and_hms_opt(0, 0, 0)
                .expect("midnight")
                .and_utc()
                .timestamp_millis();
            Ok(Some(if end { ms + 86_400_000 } else { ms }))
        };
        Ok(AuditFilter {
            action: text(&self.action),
            subject: text(&self.subject),
            actor: text(&self.actor),
            from_ms: day("from", &self.from, false)?,
            to_ms: day("to", &self.to, true)?,
            after: self.after,
            limit,
        })
    }

    /// The filters as a query string, for the next page's and the CSV's links.
    fn to_query(&self) -> String {
        let pairs = [
            ("action", &self.action),
            ("actor", &self.actor),
            ("subject", &self.subject),
            ("from", &self.from),
            ("to", &self.to),
        ];
        pairs
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

fn percent_encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub struct Row {
    seq: i64,
    at: String,
    action: String,
    actor: String,
    subject: String,
    status: String,
    export_id: String,
}

/// What checking the chain found, when asked.
pub struct Verification {
    intact: bool,
    count: u64,
    broken_at: i64,
}

#[derive(Template)]
#[template(path = "audit_log.html")]
struct AuditLogPage {
    chrome: Chrome,
    q: AuditQuery,
    actions: Vec<(&'static str, &'static str)>,
    rows: Vec<Row>,
    next: Option<String>,
    csv: String,
    verify: String,
    verification: Option<Verification>,
}

impl AuditLogPage {
    fn selected(&self, action: &str) -> bool {
        self.q.action == action
    }
}

pub async fn page(
    State(state): State<Dashboard>,
    signed_in: SignedIn,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    show(&state, &signed_in, q, None).await
}

/// The page, with the chain checked. Walks every entry: asked for with a button, not on
/// every view.
pub async fn verify(
    State(state): State<Dashboard>,
    signed_in: SignedIn,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    let chain = state.app.store.audit_verify(None).await?;
    // Only where it broke: the reason may name another account's entry.
    let verification = Verification {
        intact: chain.broken.is_none(),
        count: chain.count,
        broken_at: chain.broken.map_or(0, |b| b.seq),
    };
    show(&state, &signed_in, q, Some(verification)).await
}

async fn show(
    state: &Dashboard,
    signed_in: &SignedIn,
    q: AuditQuery,
    verification: Option<Verification>,
) -> Result<Response, PageError> {
    let mut entries = state
        .app
        .store
        .audit_entries(signed_in.user.account, q.filter(PAGE + 1)?)
        .await?;
    let more = entries.len() > PAGE as usize;
    entries.truncate(PAGE as usize);
    let query = q.to_query();
    let next = entries
        .last()
        .filter(|_| more)
        .map(|e| format!("?{query}&after={}", e.seq));
    let rows = entries
        .into_iter()
        .map(|e| Row {
            seq: e.seq,
            at: ferry_domain::time::rfc3339(e.at),
            action: e.event.action,
            actor: e.event.actor,
            subject: e.event.subject.unwrap_or_default(),
            status: e.event.status,
            export_id: e.event.export_id.unwrap_or_default(),
        })
        .collect();
    let page = AuditLogPage {
        chrome: Chrome::new(signed_in, "audit-log"),
        csv: format!("/settings/audit-log.csv?{query}"),
        verify: format!("/settings/audit-log/verify?{query}"),
        q,
        actions: ACTIONS.to_vec(),
        rows,
        next,
        verification,
    };
    Ok(render(StatusCode::OK, &page))
}

/// The filtered trail as CSV: the API's columns (`GET /audit?format=csv`).
pub async fn csv(
    State(state): State<Dashboard>,
    signed_in: SignedIn,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    let entries = state
        .app
        .store
        .audit_entries(signed_in.user.account, q.filter(CSV_MAX)?)
        .await?;
    let body = crate::audit::entries_csv(&entries)
        .map_err(|e| Problem::new(ErrorCode::InternalError, e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"ferry-audit-log.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}
