//! Request extractors whose rejections are [`ApiError`]s: JSON bodies (any content type, since
//! tracker beacons send text/plain), query strings, and the API key.

use crate::error_code::ErrorCode;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use ferry_domain::{ApiKeyInfo, Scope};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::keys;
use crate::startup::AppState;

/// The raw body, refused with 413 over the configured limit.
pub struct Body(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(Body(bytes)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::body_too_large())
            }
            Err(rejection) => Err(ApiError::new(
                ErrorCode::UnreadableBody,
                rejection.body_text(),
            )),
        }
    }
}

/// A JSON body parsed into `T`; unknown fields are refused by `T`'s own serde attributes.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Body(bytes) = Body::from_request(req, state).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// An empty body means `{}`: an endpoint whose fields are all optional takes no body at all.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.trim_ascii().is_empty() {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(bytes).map_err(|e| {
        let line = ferry_domain::ingest::json_error(&e);
        ApiError::new(
            ErrorCode::parse(line.code).unwrap_or(ErrorCode::InvalidValue),
            format!("{}; see the API reference in README.md", line.message),
        )
    })
}

/// A query string parsed into `T`.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| ApiQuery(q))
            .map_err(|e| ApiError::new(ErrorCode::InvalidQuery, e.body_text()))
    }
}

/// The caller's API key, from `X-API-Key` or `Authorization: Bearer`.
pub struct Caller(pub ApiKeyInfo);

impl Caller {
    /// Refuses with 403 unless the key carries `scope` (or `admin`).
    pub fn require(&self, scope: Scope) -> Result<&ApiKeyInfo, ApiError> {
        if self.0.scopes.allows(scope) {
            return Ok(&self.0);
        }
        Err(ApiError::new(
            ErrorCode::InsufficientScope,
            format!(
                "this API key lacks the `{}` scope: create a key that has it (ferry keys create --scopes {})",
                scope.as_str(),
                scope.as_str()
            ),
        ))
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let headers = &parts.headers;
        let presented = headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .or_else(|| {
                headers
                    .get(axum::http::header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .map(str::trim)
            })
            .filter(|v| !v.is_empty());
        let Some(secret) = presented else {
            return Err(ApiError::new(
                ErrorCode::MissingApiKey,
                "send your API key in the X-API-Key header (or Authorization: Bearer KEY)",
            ));
        };
        let key = state.store.key_by_hash(&keys::hash(secret)).await?;
        let key = key.ok_or_else(|| {
            ApiError::new(ErrorCode::InvalidApiKey,
                "this API key is unknown or revoked: check it, or create a new one with ferry keys create",
            )
        })?;
        tracing::Span::current().record("key.id", key.id.as_str());
        state.rate_limit.check(&key.id)?;
        Ok(Caller(key))
    }
}
