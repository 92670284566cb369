//! `GET /privacy/{account}/status/{token}`: the subject's view of their one request — what
//! they asked, when it arrived and is due, where it stands in words, the steps meant for them
//! (not staff notes, assignees, failed attempts or internal mails), and once the data is
//! delivered the download links of the delivery mail and the "I received it" button.
//!
//! The token (`self_service::status_token`) is given only once the subject proved their
//! address; it opens this one request of this one account. Any other token — unknown,
//! forged, another account's, a request not verified — gets the generic `404`.

use crate::api::client_ip::ClientIp;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use ferry_domain::job::ExportStatus;
use ferry_domain::request::{Request, RequestStatus, RequestType, Step};
use ferry_domain::time::rfc3339_millis;

use super::{Org, PrivacyPage, client_limited, failed, not_found, org, render};
use crate::services::requests::deadlines::due;
use crate::services::requests::fulfilment::receipt_token;
use crate::services::requests::{day_of, self_service};
use crate::startup::AppState;

pub struct Shown {
    pub step: String,
    pub text: String,
    pub at: String,
    pub why: Option<String>,
}

pub struct Download {
    pub href: String,
    pub name: String,
    pub size: String,
}

#[derive(Template)]
#[template(path = "privacy_status.html")]
struct StatusPage<'a> {
    org: &'a str,
    contact: Option<&'a str>,
    id: &'a str,
    kind: &'static str,
    received_on: String,
    due_on: String,
    status: &'static str,
    status_class: &'static str,
    steps: Vec<Shown>,
    downloads: Vec<Download>,
    until: String,
    one_time: bool,
    receipt_action: Option<String>,
}

fn kind_words(kind: RequestType) -> &'static str {
    match kind {
        RequestType::Access => "A copy of your data (access, Art. 15)",
        RequestType::Portability => "Your data to take elsewhere (portability, Art. 20)",
        RequestType::Erasure => "Deleting your data (erasure, Art. 17)",
    }
}

fn status_words(r: &Request) -> &'static str {
    use RequestStatus as S;
    match r.status {
        S::Received | S::VerificationSent => "Waiting for you to confirm your email address",
        S::Verified | S::AwaitingApproval | S::InProgress if r.kind == RequestType::Erasure => {
            "We are working on it"
        }
        S::Verified | S::AwaitingApproval | S::InProgress => "We are preparing your data",
        S::Delivered => "Your data is ready: download it below",
        S::Confirmed => "Done: you told us you received your data",
        S::Closed => "Closed: we have answered your request",
        S::Rejected => "Refused: the reason is below",
        S::Cancelled => "Withdrawn",
    }
}

/// The step in the subject's words, or `None` for one that is staff's business.
/// `by_browser`: a request by visitor id alone (nothing is mailed for it).
fn shown(step: &Step, by_browser: bool) -> Option<Shown> {
    let reason = || step.details["reason"].as_str().map(|r| format!("Why: {r}"));
    let (text, why) = match step.step.as_str() {
        "received" => ("We received your request".to_string(), None),
        "verification_sent" => ("We mailed you a confirmation code".into(), None),
        "verified" if by_browser => ("Asked from this browser (its visitor id)".into(), None),
        "verified" => ("You confirmed your email address".into(), None),
        "extended" => (
            format!(
                "We need more time, as the law allows: the answer is now due by {}",
                step.details["due_on"].as_str().unwrap_or("a later date")
            ),
            reason(),
        ),
        "fulfilment_started" | "approved" => ("We started preparing your data".into(), None),
        "delivered" if by_browser => ("Your data is ready: download it below".into(), None),
        "delivered" => (
            "Your data is ready, and we mailed you the links".into(),
            None,
        ),
        "confirmed" => ("You told us you received your data".into(), None),
        "closed" => ("We closed your request".into(), None),
        "rejected" => ("We refused your request".into(), reason()),
        "cancelled" => ("Your request was withdrawn".into(), None),
        _ => return None,
    };
    Some(Shown {
        step: step.step.clone(),
        text,
        at: minute(step.at),
        why,
    })
}

fn minute(at: i64) -> String {
    let t = rfc3339_millis(at);
    format!("{} {} UTC", &t[..10], &t[11..16])
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / f64::from(1 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{b} bytes"),
    }
}

/// The delivery mail's links, for the files that can still be fetched.
async fn downloads(
    app: &AppState,
    org: &Org,
    request: &Request,
) -> Result<(Vec<Download>, String), Response> {
    let mut shown = Vec::new();
    let mut until = None;
    if !matches!(
        request.status,
        RequestStatus::Delivered | RequestStatus::Confirmed
    ) {
        return Ok((shown, String::new()));
    }
    let now = app.clock.now();
    for id in &request.fulfilment.export_ids {
        let Some(job) = app
            .store
            .export_job(org.id, id)
            .await
            .map_err(failed)?
            .filter(|j| j.status == ExportStatus::Completed)
        else {
            continue;
        };
        let Some(expires) = job.expires_at.map(|t| t.timestamp_millis()) else {
            continue;
        };
        if expires <= now {
            continue;
        }
        until = until.max(Some(expires));
        for (i, file) in job.files.iter().enumerate() {
            shown.push(Download {
                href: format!("/download/{}", app.links.sign(&job.id, i, expires)),
                name: file.name.clone(),
                size: size(file.bytes),
            });
        }
    }
    Ok((shown, until.map(minute).unwrap_or_default()))
}

pub async fn show(
    State(page): State<PrivacyPage>,
    ClientIp(client): ClientIp,
    Path((account, token)): Path<(String, String)>,
) -> Response {
    let app = &page.app;
    if let Some(refused) = client_limited(app, client) {
        return refused;
    }
    let org = match org(app, &account).await {
        Ok(Some(org)) => org,
        Ok(None) => return not_found(),
        Err(failure) => return failure,
    };
    let Some(id) = self_service::status_request(&app.links, org.id, &token) else {
        return not_found();
    };
    let request = match app.store.request(org.id, &id).await {
        Ok(Some(r)) if r.verification.verified_at.is_some() => r,
        Ok(_) => return not_found(),
        Err(e) => return failed(e),
    };
    let (settings, steps) = match tokio::try_join!(
        app.store.request_settings(org.id),
        app.store.request_steps(org.id, &id)
    ) {
        Ok(found) => found,
        Err(e) => return failed(e),
    };
    let (downloads, until) = match downloads(app, &org, &request).await {
        Ok(found) => found,
        Err(failure) => return failure,
    };
    let today = day_of(app.clock.now());
    let receipt_action = (request.status == RequestStatus::Delivered).then(|| {
        format!(
            "/privacy/received/{}",
            receipt_token(&app.links, &request.id)
        )
    });
    render(
        StatusCode::OK,
        &StatusPage {
            org: &org.name,
            contact: org.contact.as_deref(),
            id: &request.id,
            kind: kind_words(request.kind),
            received_on: request.received_on.to_string(),
            due_on: due(&request, &settings, today).due_on.to_string(),
            status: status_words(&request),
            status_class: request.status.as_str(),
            steps: steps
                .iter()
                .filter_map(|s| shown(s, request.visitor_only()))
                .collect(),
            downloads,
            until,
            one_time: request.fulfilment.one_time,
            receipt_action,
        },
    )
}
