//! An export's receipt as a page: the reference page's fields, and the same JSON the API
//! answers (`GET /exports/{id}/receipt`). Another account's export is not found.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::Dashboard;
use super::page::{Chrome, PageError, render};
use super::session::SignedIn;

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptPage {
    chrome: Chrome,
    receipt: ferry_domain::job::Receipt,
    json: String,
    encrypted_to: Option<String>,
}

pub async fn receipt(
    State(state): State<Dashboard>,
    signed_in: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let store = state.app.store.as_ref();
    let job = store
        .export_job(signed_in.user.account, &id)
        .await?
        .ok_or_else(PageError::not_found)?;
    let receipt = store
        .receipt(&job.id)
        .await?
        .ok_or_else(PageError::not_found)?;
    let json = serde_json::to_string_pretty(&receipt).unwrap_or_default();
    let page = ReceiptPage {
        chrome: Chrome::new(&signed_in, "data-export"),
        receipt,
        json,
        encrypted_to: job.spec.encryption.map(|e| e.fingerprint),
    };
    Ok(render(StatusCode::OK, &page))
}
