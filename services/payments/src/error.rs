//! `ApiError`: every way a request can fail, and the `{"error":{"code","message"}}` response of each.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shop_http::error_response;

pub type Result<T, E = ApiError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("no payment for this order")]
    PaymentNotFound,
    /// A storage failure: logged with its cause, answered with an opaque 500.
    #[error("payment storage: {0}")]
    Store(#[from] mongodb::error::Error),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            Self::PaymentNotFound => {
                error_response(StatusCode::NOT_FOUND, "payment_not_found", self.to_string())
            }
            Self::Store(cause) => {
                tracing::error!(error = %cause, "request failed");
                error_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            }
        }
    }
}
