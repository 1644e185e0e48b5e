//! `ApiError`: every way a request (or a stream entry) can fail, and the status and error code each
//! one means on the wire.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shop_http::error_response;

pub type Result<T, E = ApiError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A query string that does not parse (`page=abc`): 400.
    #[error("{0}")]
    MalformedQuery(String),
    /// A query that parses but is out of range (`pageSize=101`): 422.
    #[error("{0}")]
    InvalidQuery(String),
    #[error("{0}")]
    InvalidReservation(String),
    #[error("product {0} does not exist")]
    ProductNotFound(String),
    #[error("product {product_id} has only {available} in stock, {requested} requested")]
    OutOfStock {
        product_id: String,
        available: i64,
        requested: i64,
    },
    #[error("reservation {0} does not exist")]
    ReservationNotFound(String),
    #[error("reservation {0} was already made with different lines")]
    ReservationConflict(String),
    #[error("reservation {0} has already ended (released); use a new reservation id")]
    ReservationReleased(String),
    #[error("reservation {0} is committed (its order was paid) and cannot be released")]
    ReservationCommitted(String),
    /// The ledger stayed contended past the append deadline: the caller may retry with a new id.
    #[error("stock of product {0} is too contended right now; try again")]
    StockBusy(String),
    /// The startup bootstrap (indexes, catalog) has not completed: MongoDB was down at start.
    #[error("the stock ledger is not initialised yet; try again")]
    NotReady,
    /// Anything the driver reports. Logged with its cause chain, answered as an opaque 500.
    #[error("database error")]
    Database(#[from] mongodb::error::Error),
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
            Self::InvalidQuery(_) | Self::InvalidReservation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::ProductNotFound(_) | Self::ReservationNotFound(_) => StatusCode::NOT_FOUND,
            Self::OutOfStock { .. }
            | Self::ReservationConflict(_)
            | Self::ReservationReleased(_)
            | Self::ReservationCommitted(_) => StatusCode::CONFLICT,
            Self::StockBusy(_) | Self::NotReady => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedQuery(_) | Self::InvalidQuery(_) => "invalid_query",
            Self::InvalidReservation(_) => "invalid_reservation",
            Self::ProductNotFound(_) => "product_not_found",
            Self::OutOfStock { .. } => "out_of_stock",
            Self::ReservationNotFound(_) => "reservation_not_found",
            Self::ReservationConflict(_) => "reservation_conflict",
            Self::ReservationReleased(_) => "reservation_released",
            Self::ReservationCommitted(_) => "reservation_committed",
            Self::StockBusy(_) => "stock_busy",
            Self::NotReady => "unavailable",
            Self::Database(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Database(error) = &self {
            // Debug keeps the driver's whole story (kind, labels, source); the client learns nothing.
            tracing::error!(error = ?error, "request failed");
            return error_response(
                self.status(),
                self.code(),
                "internal error; it has been logged",
            );
        }
        error_response(self.status(), self.code(), self.to_string())
    }
}
