//! Every error code Ferry answers with, in the API and in failed jobs: one list, so a code
//! cannot be misspelt, and the README's table is this table. Its HTTP status is decided here
//! too, once, for the API edge; a failed job shows the code in `error.code`.

use axum::http::StatusCode;

macro_rules! codes {
    ($($variant:ident = $code:literal => $status:ident,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($variant,)*
        }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The stable, machine-readable code.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            /// The status an API response with this code carries.
            pub fn status(self) -> StatusCode {
                match self {
                    $(ErrorCode::$variant => StatusCode::$status,)*
                }
            }

            pub fn parse(code: &str) -> Option<ErrorCode> {
                match code {
                    $($code => Some(ErrorCode::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

codes! {
    // 400: the request is not what the endpoint takes.
    MalformedJson = "malformed_json" => BAD_REQUEST,
    UnknownField = "unknown_field" => BAD_REQUEST,
    MissingField = "missing_field" => BAD_REQUEST,
    InvalidValue = "invalid_value" => BAD_REQUEST,
    UnknownType = "unknown_type" => BAD_REQUEST,
    InvalidTimestamp = "invalid_timestamp" => BAD_REQUEST,
    UnreadableBody = "unreadable_body" => BAD_REQUEST,
    InvalidQuery = "invalid_query" => BAD_REQUEST,
    InvalidCursor = "invalid_cursor" => BAD_REQUEST,
    EmptyBody = "empty_body" => BAD_REQUEST,
    // 401, 403
    MissingApiKey = "missing_api_key" => UNAUTHORIZED,
    InvalidApiKey = "invalid_api_key" => UNAUTHORIZED,
    InsufficientScope = "insufficient_scope" => FORBIDDEN,
    IdentifySignatureRequired = "identify_signature_required" => FORBIDDEN,
    // 404: unknown, also for another account's things.
    NotFound = "not_found" => NOT_FOUND,
    WebsiteNotFound = "website_not_found" => NOT_FOUND,
    UnknownWebsite = "unknown_website" => NOT_FOUND,
    SubjectNotFound = "subject_not_found" => NOT_FOUND,
    UserNotFound = "user_not_found" => NOT_FOUND,
    ExportNotFound = "export_not_found" => NOT_FOUND,
    ReceiptNotFound = "receipt_not_found" => NOT_FOUND,
    KeyNotFound = "key_not_found" => NOT_FOUND,
    ScheduleNotFound = "schedule_not_found" => NOT_FOUND,
    DestinationNotFound = "destination_not_found" => NOT_FOUND,
    EncryptionKeyNotSet = "encryption_key_not_set" => NOT_FOUND,
    RequestNotFound = "request_not_found" => NOT_FOUND,
    LinkInvalid = "link_invalid" => NOT_FOUND,
    MethodNotAllowed = "method_not_allowed" => METHOD_NOT_ALLOWED,
    Conflict = "conflict" => CONFLICT,
    MailRelayNotConfigured = "mail_relay_not_configured" => CONFLICT,
    IllegalTransition = "illegal_transition" => CONFLICT,
    VerificationLocked = "verification_locked" => CONFLICT,
    VerificationNotSent = "verification_not_sent" => CONFLICT,
    DeletionReportNotReady = "deletion_report_not_ready" => CONFLICT,
    // 410, 413, 416
    LinkExpired = "link_expired" => GONE,
    LinkUsed = "link_used" => GONE,
    VerificationExpired = "verification_expired" => GONE,
    ExportErased = "export_erased" => GONE,
    BodyTooLarge = "body_too_large" => PAYLOAD_TOO_LARGE,
    InvalidRange = "invalid_range" => RANGE_NOT_SATISFIABLE,
    // 422: well-formed, but not something Ferry can do.
    InvalidDateRange = "invalid_date_range" => UNPROCESSABLE_ENTITY,
    InvalidWebsite = "invalid_website" => UNPROCESSABLE_ENTITY,
    InvalidScopes = "invalid_scopes" => UNPROCESSABLE_ENTITY,
    InvalidInclude = "invalid_include" => UNPROCESSABLE_ENTITY,
    InvalidExpiresIn = "invalid_expires_in" => UNPROCESSABLE_ENTITY,
    InvalidKind = "invalid_kind" => UNPROCESSABLE_ENTITY,
    InvalidFormat = "invalid_format" => UNPROCESSABLE_ENTITY,
    InvalidPartSize = "invalid_part_size" => UNPROCESSABLE_ENTITY,
    InvalidEncryptionKey = "invalid_encryption_key" => UNPROCESSABLE_ENTITY,
    InvalidFrequency = "invalid_frequency" => UNPROCESSABLE_ENTITY,
    WebsiteRequired = "website_required" => UNPROCESSABLE_ENTITY,
    WebsiteIdRequired = "website_id_required" => UNPROCESSABLE_ENTITY,
    SubjectRequired = "subject_required" => UNPROCESSABLE_ENTITY,
    Unsupported = "unsupported" => UNPROCESSABLE_ENTITY,
    InvalidDestination = "invalid_destination" => UNPROCESSABLE_ENTITY,
    VerificationCodeInvalid = "verification_code_invalid" => UNPROCESSABLE_ENTITY,
    ExtensionLimit = "extension_limit" => UNPROCESSABLE_ENTITY,
    // 502: a destination Ferry reached out to did not take the test object.
    DestinationUnreachable = "destination_unreachable" => BAD_GATEWAY,
    // 429
    ExportLimitReached = "export_limit_reached" => TOO_MANY_REQUESTS,
    RateLimited = "rate_limited" => TOO_MANY_REQUESTS,
    // 500, 501
    InternalError = "internal_error" => INTERNAL_SERVER_ERROR,
    NotImplemented = "not_implemented" => NOT_IMPLEMENTED,
    // 503: the server protects itself; retry after `Retry-After`.
    Overloaded = "overloaded" => SERVICE_UNAVAILABLE,
    RequestTimeout = "request_timeout" => SERVICE_UNAVAILABLE,
    // Failed jobs (`error.code` of an export); never an HTTP answer of their own.
    PlanSizeExceeded = "plan_size_exceeded" => PAYLOAD_TOO_LARGE,
    ExportFailed = "export_failed" => INTERNAL_SERVER_ERROR,
    DeliveryFailed = "delivery_failed" => BAD_GATEWAY,
    AttemptsExhausted = "attempts_exhausted" => INTERNAL_SERVER_ERROR,
    Cancelled = "cancelled" => CONFLICT,
    TooManyVisitors = "too_many_visitors" => UNPROCESSABLE_ENTITY,
}

/// An error with its code and a message that says what to do: what services return, what
/// the API answers (`api::error`), what a failed command prints.
#[derive(Debug)]
pub struct Problem {
    pub code: ErrorCode,
    pub message: String,
    /// Extra headers (`Retry-After`, `X-RateLimit-*` on a 429).
    pub headers: Vec<(&'static str, String)>,
}

impl Problem {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Problem {
            code,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// A 429 saying when to try again and what the limit is.
    pub fn too_many(code: ErrorCode, message: String, limit: u64, retry_after_secs: u64) -> Self {
        let mut e = Self::new(code, message);
        e.headers = vec![
            ("retry-after", retry_after_secs.to_string()),
            ("x-ratelimit-limit", limit.to_string()),
            ("x-ratelimit-remaining", "0".into()),
        ];
        e
    }

    pub fn website_not_found(id: &str) -> Self {
        Self::new(
            ErrorCode::WebsiteNotFound,
            format!(
                "no website `{id}` in this account: list yours with GET /api/external/v1/websites"
            ),
        )
    }

    pub fn body_too_large() -> Self {
        Self::new(
            ErrorCode::BodyTooLarge,
            "the request body is over the server's limit (FERRY_BODY_LIMIT): send it in smaller parts",
        )
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for Problem {}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn every_code_parses_back_and_the_queue_uses_the_same_spelling() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(*code));
        }
        assert_eq!(
            ErrorCode::AttemptsExhausted.as_str(),
            ferry_domain::queue::ATTEMPTS_EXHAUSTED
        );
    }

    #[test]
    fn every_code_an_ingest_line_can_fail_with_keeps_its_own_name_at_the_api() {
        let line_codes = [
            "malformed_json",
            "unknown_type",
            "unknown_field",
            "missing_field",
            "invalid_value",
            "invalid_timestamp",
            "unknown_website",
        ];
        for code in line_codes {
            assert_eq!(ErrorCode::parse(code).map(ErrorCode::as_str), Some(code));
        }
    }

    #[test]
    fn every_api_code_is_in_the_readme_table() {
        let readme = include_str!("../../../README.md");
        for code in ErrorCode::ALL {
            assert!(
                readme.contains(&format!("`{}`", code.as_str())),
                "README.md does not list `{}`",
                code.as_str()
            );
        }
    }
}
