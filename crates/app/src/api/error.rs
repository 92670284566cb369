//! The HTTP edge's one error type: `{"error":{"code","message"}}` with the right status.
//! Store and domain errors are mapped here and nowhere else; a 5xx never shows its cause.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ferry_domain::{DateRangeError, LineError, WebsiteError};
use ferry_store::StoreError;
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Extra headers (`Retry-After`, `X-RateLimit-*` on a 429).
    pub headers: Vec<(&'static str, String)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    /// A 429 saying when to try again and what the limit is.
    pub fn too_many(
        code: &'static str,
        message: String,
        limit: u64,
        retry_after_secs: u64,
    ) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, code, message);
        e.headers = vec![
            ("retry-after", retry_after_secs.to_string()),
            ("x-ratelimit-limit", limit.to_string()),
            ("x-ratelimit-remaining", "0".into()),
        ];
        e
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn website_not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "website_not_found",
            format!(
                "no website `{id}` in this account: list yours with GET /api/external/v1/websites"
            ),
        )
    }

    pub fn body_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "the request body is over the server's limit (FERRY_BODY_LIMIT): send it in smaller parts",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({"error": {"code": self.code, "message": self.message}}));
        let mut response = (self.status, body).into_response();
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        if self.status == StatusCode::UNAUTHORIZED {
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
            StoreError::Conflict(message) => Self::new(StatusCode::CONFLICT, "conflict", message),
            StoreError::InvalidCursor => Self::bad_request("invalid_cursor", e.to_string()),
            StoreError::NotFound => Self::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "what this request names no longer exists",
            ),
            StoreError::Unsupported(message) => {
                Self::new(StatusCode::NOT_IMPLEMENTED, "unsupported", message)
            }
            StoreError::Backend(source) => {
                tracing::error!(error = %source, "store failed");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "Ferry failed to read or write its database; the operator's log has details. Try again later",
                )
            }
        }
    }
}

impl From<DateRangeError> for ApiError {
    fn from(e: DateRangeError) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_date_range",
            e.to_string(),
        )
    }
}

impl From<WebsiteError> for ApiError {
    fn from(e: WebsiteError) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_website",
            e.to_string(),
        )
    }
}

impl From<LineError> for ApiError {
    fn from(e: LineError) -> Self {
        let status = match e.code {
            "unknown_website" => StatusCode::NOT_FOUND,
            _ => StatusCode::BAD_REQUEST,
        };
        Self::new(status, e.code, e.message)
    }
}
