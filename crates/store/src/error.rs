use std::error::Error as StdError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique name is taken (an account name, a website domain).
    #[error("{0}")]
    Conflict(String),
    /// A pagination cursor that this store did not hand out.
    #[error("the cursor is not one this API returned: start again without `cursor`")]
    InvalidCursor,
    /// What the call names does not exist (a website deleted under a running export).
    #[error("not found")]
    NotFound,
    /// A requested backend or feature is not available in this build.
    #[error("{0}")]
    Unsupported(String),
    /// The database failed; details are for the operator's log, not the API client.
    #[error("database error: {0}")]
    Backend(#[source] Box<dyn StdError + Send + Sync>),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(Box::new(e))
    }
}

impl From<tokio::task::JoinError> for StoreError {
    fn from(e: tokio::task::JoinError) -> Self {
        StoreError::Backend(Box::new(e))
    }
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        StoreError::Backend(Box::new(e))
    }
}
