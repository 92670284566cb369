//! The HTTP edge's one error type: `{"error":{"code","message"}}` with the right status.
//! Store and domain errors are mapped here and nowhere else; a 5xx never shows its cause.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ferry_domain::{DateRangeError, LineError, WebsiteError};
use ferry_store::StoreError;

use crate::error_code::ErrorCode;
use serde_json::json;

pub use crate::error_code::Problem as ApiError;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = Json(json!({"error": {"code": self.code.as_str(), "message": self.message}}));
        let mut response = (status, body).into_response();
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"ferry\""),
            );
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(message) => Self::new(ErrorCode::Conflict, message),
            StoreError::InvalidCursor => Self::new(ErrorCode::InvalidCursor, e.to_string()),
            StoreError::NotFound => Self::new(
                ErrorCode::NotFound,
                "what this request names no longer exists",
            ),
            StoreError::Unsupported(message) => Self::new(ErrorCode::NotImplemented, message),
            StoreError::Backend(source) => {
                tracing::error!(error = %source, "store failed");
                Self::new(
                    ErrorCode::InternalError,
                    "Ferry failed to read or write its database; the operator's log has details. Try again later",
                )
            }
        }
    }
}

impl From<DateRangeError> for ApiError {
    fn from(e: DateRangeError) -> Self {
        Self::new(ErrorCode::InvalidDateRange, e.to_string())
    }
}

impl From<WebsiteError> for ApiError {
    fn from(e: WebsiteError) -> Self {
        Self::new(ErrorCode::InvalidWebsite, e.to_string())
    }
}

impl From<LineError> for ApiError {
    fn from(e: LineError) -> Self {
        // Ingest lines carry the domain's codes; every one of them is in the list.
        Self::new(
            ErrorCode::parse(e.code).unwrap_or(ErrorCode::InvalidValue),
            e.message,
        )
    }
}
