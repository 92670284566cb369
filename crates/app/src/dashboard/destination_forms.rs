//! The Scheduled page's destination forms (admins, as the API's `admin` scope): one form per
//! type with that type's fields, Test, Delete. Each calls `services::destinations` as
//! `POST /destinations`, `POST /destinations/{id}/test` and `DELETE /destinations/{id}` do.
//!
//! Credentials are write-only: a credential field is always empty on the page (also when a
//! form comes back with an error), and a saved destination shows only that it is "set".

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use ferry_store::DashboardRole;
use serde_json::{Map, Value};

use super::Dashboard;
use super::login::CsrfForm;
use super::page::PageError;
use super::scheduled::{Extras, PATH, show};
use super::session::SignedIn;
use crate::error_code::Problem;
use crate::services::destinations::{self as service, Ctx};

/// How a field is entered.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Text,
    Number,
    /// Several lines (a key, a JSON document).
    Lines,
}

/// A field of a destination type's form.
pub struct FieldSpec {
    pub name: &'static str,
    pub label: &'static str,
    pub required: bool,
    pub secret: bool,
    pub input: Input,
    pub hint: &'static str,
}

const fn field(
    name: &'static str,
    label: &'static str,
    required: bool,
    secret: bool,
    input: Input,
    hint: &'static str,
) -> FieldSpec {
    FieldSpec {
        name,
        label,
        required,
        secret,
        input,
        hint,
    }
}

use Input::{Lines, Number, Text};

/// The types, in the page's order, with the fields of the destination JSON (README).
const TYPES: [(&str, &str, &[FieldSpec]); 5] = [
    (
        "s3",
        "Amazon S3 (or S3-compatible)",
        &[
            field("bucket", "Bucket", true, false, Text, ""),
            field("region", "Region", true, false, Text, "us-east-1"),
            field("path", "Path prefix", false, false, Text, "ferry-exports/"),
            field("access_key_id", "Access key ID", true, false, Text, ""),
            field(
                "secret_access_key",
                "Secret access key",
                true,
                true,
                Text,
                "",
            ),
            field(
                "endpoint",
                "Endpoint (S3-compatible stores)",
                false,
                false,
                Text,
                "https://s3.example.com",
            ),
        ],
    ),
    (
        "gcs",
        "Google Cloud Storage",
        &[
            field("bucket", "Bucket", true, false, Text, ""),
            field("path", "Path prefix", false, false, Text, "ferry/"),
            field(
                "service_account_json",
                "Service account JSON",
                true,
                true,
                Lines,
                "",
            ),
            field("endpoint", "Endpoint (emulators)", false, false, Text, ""),
        ],
    ),
    (
        "sftp",
        "SFTP",
        &[
            field("host", "Host", true, false, Text, "sftp.example.com"),
            field("port", "Port", false, false, Number, "22"),
            field("username", "Username", true, false, Text, ""),
            field(
                "password",
                "Password (or a private key)",
                false,
                true,
                Text,
                "",
            ),
            field(
                "private_key",
                "Private key (OpenSSH or PEM, no passphrase)",
                false,
                true,
                Lines,
                "",
            ),
            field("path", "Directory", false, false, Text, "/upload/exports"),
            field(
                "host_key",
                "Host key (ssh-keyscan's line)",
                true,
                false,
                Lines,
                "ssh-ed25519 AAAA…",
            ),
        ],
    ),
    (
        "email",
        "Email",
        &[field("to", "To", true, false, Text, "dpo@example.com")],
    ),
    (
        "local",
        "Local directory",
        &[field(
            "path",
            "Absolute directory on the worker's machine",
            true,
            false,
            Text,
            "/srv/exports",
        )],
    ),
];

/// A field as the page shows it: its value is the one sent back, and always empty for a
/// credential.
pub struct FieldView {
    pub spec: &'static FieldSpec,
    pub value: String,
}

impl FieldView {
    pub fn is_lines(&self) -> bool {
        self.spec.input == Input::Lines
    }

    pub fn is_number(&self) -> bool {
        self.spec.input == Input::Number
    }
}

/// A type's form as the page shows it.
pub struct DestinationType {
    pub kind: &'static str,
    pub title: &'static str,
    /// This type's form came back with an error: shown open.
    pub open: bool,
    pub name: String,
    pub fields: Vec<FieldView>,
}

/// The forms; `sent` (the type whose form came back) keeps its non-secret values.
pub fn types(sent: Option<&str>, values: &Map<String, Value>) -> Vec<DestinationType> {
    TYPES
        .iter()
        .map(|(kind, title, fields)| {
            let open = sent == Some(*kind);
            let kept = |name: &str| {
                if !open {
                    return String::new();
                }
                match values.get(name) {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Number(n)) => n.to_string(),
                    _ => String::new(),
                }
            };
            DestinationType {
                kind,
                title,
                open,
                name: kept("name"),
                fields: fields
                    .iter()
                    .map(|spec| FieldView {
                        spec,
                        value: if spec.secret {
                            String::new()
                        } else {
                            kept(spec.name)
                        },
                    })
                    .collect(),
            }
        })
        .collect()
}

fn ctx(state: &Dashboard) -> Ctx<'_> {
    Ctx {
        store: state.app.store.as_ref(),
        sealer: &state.app.sealer,
        clock: state.app.clock.as_ref(),
    }
}

fn admin_only(s: &SignedIn) -> Result<(), PageError> {
    if s.user.role == DashboardRole::Admin {
        return Ok(());
    }
    Err(PageError {
        status: StatusCode::FORBIDDEN,
        title: "Admins only",
        message: "Destinations are managed by the account's admins.".into(),
        headers: Vec::new(),
    })
}

fn not_found(p: Problem) -> PageError {
    match p.status() {
        StatusCode::NOT_FOUND => PageError {
            status: StatusCode::NOT_FOUND,
            title: "Not found",
            message: "There is no such destination in this account.".into(),
            headers: Vec::new(),
        },
        _ => p.into(),
    }
}

/// The destination JSON of a type's form: its fields that were filled in (`port` a number
/// when it reads as one; the service says what is wrong otherwise).
fn body(kind: &str, form: &HashMap<String, String>) -> Option<Value> {
    let (_, _, fields) = TYPES.iter().find(|(k, _, _)| *k == kind)?;
    let mut object = Map::new();
    object.insert("type".into(), kind.into());
    if let Some(name) = form.get("name").map(|n| n.trim()).filter(|n| !n.is_empty()) {
        object.insert("name".into(), name.into());
    }
    for spec in fields.iter() {
        let Some(raw) = form.get(spec.name) else {
            continue;
        };
        // Credentials as typed; other fields without the spaces around them.
        let text = if spec.secret {
            raw.as_str()
        } else {
            raw.trim()
        };
        if text.is_empty() {
            continue;
        }
        let value = match (spec.input, text.parse::<u64>()) {
            (Input::Number, Ok(n)) => Value::from(n),
            _ => Value::from(text),
        };
        object.insert(spec.name.into(), value);
    }
    Some(Value::Object(object))
}

pub async fn create(
    State(state): State<Dashboard>,
    s: SignedIn,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, PageError> {
    s.check_csrf(form.get("csrf").map(String::as_str))?;
    admin_only(&s)?;
    let kind = form.get("type").cloned().unwrap_or_default();
    let created = match body(&kind, &form) {
        Some(body) => service::create(&ctx(&state), &s.actor(), &body)
            .await
            .map_err(|p| (p, body)),
        None => Err((
            Problem::new(
                crate::error_code::ErrorCode::InvalidDestination,
                "choose a destination type: s3, gcs, sftp, email or local",
            ),
            Value::Null,
        )),
    };
    match created {
        Ok(_) => Ok(Redirect::to(&format!("{PATH}?done=destination-created")).into_response()),
        Err((problem, body)) => {
            let extras = Extras {
                destination_kind: Some(kind),
                destination_values: body.as_object().cloned().unwrap_or_default(),
                destination_error: Some(problem.message.clone()),
                ..Default::default()
            };
            show(&state, &s, problem.status(), extras).await
        }
    }
}

/// Writes and removes a test object, as `POST /destinations/{id}/test`; the page says how
/// it went (a failure is the answer to the question, so the page itself is 200).
pub async fn test(
    State(state): State<Dashboard>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    s.check_csrf(form.csrf.as_deref())?;
    admin_only(&s)?;
    let outcome = match service::test(&ctx(&state), &s.actor(), &id).await {
        Ok(_) => (
            id.clone(),
            true,
            format!("{id} works: a test object was written and removed."),
        ),
        Err(p) if p.status() == StatusCode::NOT_FOUND => return Err(not_found(p)),
        Err(p) => (
            id.clone(),
            false,
            format!("{id} failed the test: {}", p.message),
        ),
    };
    let extras = Extras {
        test: Some(outcome),
        ..Default::default()
    };
    show(&state, &s, StatusCode::OK, extras).await
}

pub async fn delete(
    State(state): State<Dashboard>,
    s: SignedIn,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    s.check_csrf(form.csrf.as_deref())?;
    admin_only(&s)?;
    service::delete(&ctx(&state), &s.actor(), &id)
        .await
        .map_err(not_found)?;
    Ok(Redirect::to(&format!("{PATH}?done=destination-deleted")).into_response())
}
