//! `ApiError`: every way a request can fail, and the status and error code each one means on the
//! wire. Failures the client cannot act on are opaque 500s, logged with their cause.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shop_http::error_response;

use crate::history::ReadError;
use crate::rebuild::RebuildError;

pub type Result<T, E = ApiError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A query string that does not parse (`page=abc`): 400.
    #[error("{0}")]
    MalformedQuery(String),
    /// A query that parses but is out of range (`pageSize=101`): 422.
    #[error("{0}")]
    InvalidQuery(String),
    #[error("a rebuild of the order history is already running (attempt {0}); try again later")]
    RebuildInProgress(i64),
    /// A driver error. Logged with its cause chain, answered as an opaque 500.
    #[error("database error")]
    Database(#[from] mongodb::error::Error),
    /// Something that should not happen. Logged, opaque 500.
    #[error("{0}")]
    Internal(String),
}

impl From<shop_http::query::QueryError> for ApiError {
    fn from(error: shop_http::query::QueryError) -> Self {
        match error {
            shop_http::query::QueryError::Malformed(message) => Self::MalformedQuery(message),
            shop_http::query::QueryError::Invalid(message) => Self::InvalidQuery(message),
        }
    }
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MalformedQuery(_) => StatusCode::BAD_REQUEST,
            Self::InvalidQuery(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::RebuildInProgress(_) => StatusCode::CONFLICT,
            Self::Database(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedQuery(_) | Self::InvalidQuery(_) => "invalid_query",
            Self::RebuildInProgress(_) => "rebuild_in_progress",
            Self::Database(_) | Self::Internal(_) => "internal",
        }
    }
}

impl From<ReadError> for ApiError {
    fn from(error: ReadError) -> Self {
        match error {
            ReadError::PageOutOfRange => Self::InvalidQuery("page is too large".to_owned()),
            ReadError::Database(error) => Self::Database(error),
            corrupt @ ReadError::Corrupt { .. } => Self::Internal(corrupt.to_string()),
        }
    }
}

impl From<RebuildError> for ApiError {
    fn from(error: RebuildError) -> Self {
        match error {
            RebuildError::InProgress(attempt) => Self::RebuildInProgress(attempt),
            RebuildError::Database(error) => Self::Database(error),
            other => Self::Internal(format!("rebuild: {other}")),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            // Debug keeps the driver's whole story (kind, labels, source); the client learns nothing.
            Self::Database(error) => tracing::error!(error = ?error, "request failed"),
            Self::Internal(reason) => tracing::error!(%reason, "request failed"),
            _ => return error_response(self.status(), self.code(), self.to_string()),
        }
        error_response(
            self.status(),
            self.code(),
            "internal error; it has been logged",
        )
    }
}
