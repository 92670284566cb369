//! `GET /.well-known/ferry-audit-key`: the public key that signs audit checkpoints, for anyone
//! to check them with (no key needed: it is public, and checking must not depend on access).

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::startup::AppState;

pub async fn audit_key(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "algorithm": "Ed25519",
        "public_key": hex::encode(state.audit_key.to_bytes()),
    }))
}
