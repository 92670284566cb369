//! Finding a person (`exports:read`): `GET /users/{userId}` and `GET /users?email=` — the
//! reference page's `findUserByEmail` step before `POST /users/{userId}/export`. The answer
//! is the profile and every visitor linked to the person, so a reviewer sees whom an
//! identifier resolves to before any data leaves.

use axum::Json;
use axum::extract::{Path, State};
use chrono::DateTime;
use ferry_domain::Scope;
use ferry_domain::export::SubjectRef;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{ApiQuery, Caller};
use crate::error_code::ErrorCode;
use crate::services::users::{User, find_user};
use crate::startup::AppState;

/// The longest email Ferry stores: a longer one can name nobody.
const MAX_EMAIL_CHARS: usize = 320;

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(user_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::ExportsRead)?;
    let by = SubjectRef::UserId(user_id);
    let user = find_user(state.store.as_ref(), key.account, &by).await?;
    Ok(Json(view(&user)))
}

#[derive(Debug, Deserialize)]
pub struct FindQuery {
    email: Option<String>,
}

pub async fn find(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<FindQuery>,
) -> Result<Json<Value>, ApiError> {
    let key = caller.require(Scope::ExportsRead)?;
    let email = q.email.filter(|e| !e.trim().is_empty()).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidQuery,
            "pass the person's email as ?email=name@example.com (or use GET /users/{userId})",
        )
    })?;
    if email.chars().count() > MAX_EMAIL_CHARS {
        return Err(ApiError::new(
            ErrorCode::InvalidQuery,
            format!("an email is at most {MAX_EMAIL_CHARS} characters: check the address"),
        ));
    }
    let user = find_user(state.store.as_ref(), key.account, &SubjectRef::Email(email)).await?;
    Ok(Json(view(&user)))
}

/// The profile's fields as the export's `user` object has them, `id` beside `user_id` (the
/// reference page's client reads `user.id`), and the linked visitors.
fn view(user: &User) -> Value {
    let profile = &user.profile;
    json!({
        "id": profile.user_id,
        "user_id": profile.user_id,
        "email": profile.email,
        "name": profile.name,
        "created_at": DateTime::from_timestamp_millis(profile.created_at),
        "properties": profile.properties,
        "identities": user.identities,
    })
}
