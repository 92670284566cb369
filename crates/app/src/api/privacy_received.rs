//! `GET/POST /privacy/received/{token}`: the "I received it" link in the mail that delivers
//! a request's data. Public, and built as the verification link is (`privacy_verify`): a
//! `GET` changes nothing (mail scanners fetch links) and shows a button whose `POST`
//! records it; every token Ferry cannot use gets the same page; the page names no person,
//! request or account; the same per-client limit applies.

use crate::api::client_ip::ClientIp;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::privacy_verify::{limited, page};
use crate::services::requests::fulfilment::{self, ReceiptLink};
use crate::startup::AppState;

fn invalid() -> Response {
    page(
        StatusCode::NOT_FOUND,
        "This link cannot be used",
        "<p>The link is not valid, or there is nothing left to confirm. Ask the organisation \
         that sent it if you need help.</p>",
    )
}

fn done() -> Response {
    page(
        StatusCode::OK,
        "Thank you",
        "<p>You confirmed that you received your data.</p>",
    )
}

pub async fn show(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    Path(token): Path<String>,
) -> Response {
    if let Some(refused) = limited(&state, client) {
        return refused;
    }
    match fulfilment::receipt_link(state.store.as_ref(), &state.links, &token).await {
        Ok(ReceiptLink::Confirmable { .. }) => page(
            StatusCode::OK,
            "Did you receive your data?",
            "<p>Press the button once you have downloaded your data.</p>\
             <form method=\"post\"><button type=\"submit\">I received it</button></form>",
        ),
        Ok(ReceiptLink::Done) => done(),
        Ok(ReceiptLink::Invalid) => invalid(),
        Err(e) => e.into_response(),
    }
}

pub async fn confirm(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    Path(token): Path<String>,
) -> Response {
    if let Some(refused) = limited(&state, client) {
        return refused;
    }
    let store = state.store.as_ref();
    let (account, request_id) = match fulfilment::receipt_link(store, &state.links, &token).await {
        Ok(ReceiptLink::Confirmable {
            account,
            request_id,
        }) => (account, request_id),
        Ok(ReceiptLink::Done) => return done(),
        Ok(ReceiptLink::Invalid) => return invalid(),
        Err(e) => return e.into_response(),
    };
    match fulfilment::confirm_receipt(store, state.clock.as_ref(), account, &request_id).await {
        Ok(_) => done(),
        // Changed meanwhile (a second click racing the first): answer as a fresh load would.
        Err(_) => match fulfilment::receipt_link(store, &state.links, &token).await {
            Ok(ReceiptLink::Done) => done(),
            _ => invalid(),
        },
    }
}
