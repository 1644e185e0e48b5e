//! `ApiError`: every way a request can fail, and the status and error code each one means on the
//! wire. Failures the client cannot act on are opaque 500s, logged with their cause.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shop_http::error_response;

pub type Result<T, E = ApiError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    InvalidOrder(String),
    #[error("{0}")]
    InvalidIdempotencyKey(String),
    /// A query string that does not parse (`page=abc`): 400.
    #[error("{0}")]
    MalformedQuery(String),
    /// A query that parses but is out of range (`pageSize=101`): 422.
    #[error("{0}")]
    InvalidQuery(String),
    #[error("order {0} does not exist")]
    OrderNotFound(String),
    /// Products' message, which names the product.
    #[error("{0}")]
    ProductNotFound(String),
    /// Products' message, which names the product.
    #[error("{0}")]
    OutOfStock(String),
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
    /// A request with this `Idempotency-Key` is placing the order right now: retry shortly.
    #[error("order {0} is being placed by an earlier request with this Idempotency-Key; retry")]
    OrderInProgress(String),
    /// `products` is down, slow or failing; the order was not placed.
    #[error("{0}")]
    DependencyUnavailable(String),
    /// A driver error. Logged with its cause chain, answered as an opaque 500.
    #[error("database error")]
    Database(#[from] mongodb::error::Error),
    /// Something that should not happen (a dependency breaking its contract). Logged, opaque 500.
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
            Self::InvalidOrder(_) | Self::InvalidIdempotencyKey(_) | Self::InvalidQuery(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::OrderNotFound(_) | Self::ProductNotFound(_) => StatusCode::NOT_FOUND,
            Self::OutOfStock(_) | Self::IdempotencyKeyReused => StatusCode::CONFLICT,
            Self::DependencyUnavailable(_) | Self::OrderInProgress(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Database(_) | Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidOrder(_) => "invalid_order",
            Self::InvalidIdempotencyKey(_) => "invalid_idempotency_key",
            Self::MalformedQuery(_) | Self::InvalidQuery(_) => "invalid_query",
            Self::OrderNotFound(_) => "order_not_found",
            Self::ProductNotFound(_) => "product_not_found",
            Self::OutOfStock(_) => "out_of_stock",
            Self::IdempotencyKeyReused => "idempotency_key_reused",
            Self::DependencyUnavailable(_) => "dependency_unavailable",
            Self::OrderInProgress(_) => "order_in_progress",
            Self::Database(_) | Self::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            // Debug keeps the driver's whole story (kind, labels, source); the client learns nothing.
            Self::Database(error) => tracing::error!(error = ?error, "request failed"),
            Self::Internal(reason) => tracing::error!(%reason, "request failed"),
            Self::DependencyUnavailable(reason) => {
                tracing::warn!(%reason, "dependency unavailable")
            }
            _ => return error_response(self.status(), self.code(), self.to_string()),
        }
        let message = match self {
            Self::DependencyUnavailable(_) => {
                "a service this request needs is unavailable; try again"
            }
            _ => "internal error; it has been logged",
        };
        error_response(self.status(), self.code(), message)
    }
}
