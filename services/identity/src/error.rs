//! `ApiError`: every way a request can fail, and the status and error code each one means on the
//! wire. Failures the client cannot act on are logged with their cause and answered opaquely.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shop_http::error_response;

use crate::passwords::PasswordError;

/// What a shed request is told to wait: a hash takes tens of milliseconds, so the queue that was
/// full has turned over many times within a second.
pub const BUSY_RETRY_AFTER_SECS: u64 = 1;

pub type Result<T, E = ApiError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No valid `x-user-id`, or no valid bearer token where one is needed.
    #[error("authentication required")]
    Unauthenticated,
    /// Unknown email and wrong password alike, so a caller cannot tell which emails have accounts.
    #[error("email or password is incorrect")]
    InvalidCredentials,
    #[error("{0}")]
    InvalidEmail(String),
    #[error("{0}")]
    WeakPassword(String),
    #[error("{0}")]
    InvalidPassword(String),
    #[error("{0}")]
    InvalidName(String),
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("user {0} does not exist")]
    UserNotFound(String),
    /// Too many failed logins for this account or from this client: refused before anything was
    /// looked up or hashed.
    #[error("too many failed logins; retry in {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: u64 },
    /// The password-hashing queue is full (or this request waited its limit in it): refused at
    /// once, nothing hashed, instead of waiting into the gateway's deadline.
    #[error("too many logins and registrations at once; retry in {BUSY_RETRY_AFTER_SECS} s")]
    Busy,
    /// Redis (sessions, the identity stream) failed: logged, answered as a retryable 503.
    #[error("{0}")]
    Unavailable(String),
    /// A driver error. Logged with its cause chain, answered as an opaque 500.
    #[error("database error")]
    Database(#[from] mongodb::error::Error),
    /// Hashing failed, or a stored hash is corrupt. Logged, opaque 500.
    #[error("{0}")]
    Password(PasswordError),
}

impl From<PasswordError> for ApiError {
    fn from(error: PasswordError) -> Self {
        match error {
            PasswordError::Shed(_) => Self::Busy,
            error => Self::Password(error),
        }
    }
}

impl From<shop_sessions::SessionError> for ApiError {
    fn from(error: shop_sessions::SessionError) -> Self {
        Self::Unavailable(format!("sessions: {error}"))
    }
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthenticated | Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::InvalidEmail(_)
            | Self::WeakPassword(_)
            | Self::InvalidPassword(_)
            | Self::InvalidName(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::EmailTaken => StatusCode::CONFLICT,
            Self::UserNotFound(_) => StatusCode::NOT_FOUND,
            Self::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Self::Database(_) | Self::Password(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// `Retry-After` in seconds, for the answers that have one.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::TooManyAttempts { retry_after_secs } => Some(*retry_after_secs),
            Self::Busy => Some(BUSY_RETRY_AFTER_SECS),
            _ => None,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "unauthenticated",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidEmail(_) => "invalid_email",
            Self::WeakPassword(_) => "weak_password",
            Self::InvalidPassword(_) => "invalid_password",
            Self::InvalidName(_) => "invalid_name",
            Self::EmailTaken => "email_taken",
            Self::UserNotFound(_) => "user_not_found",
            Self::TooManyAttempts { .. } => "too_many_attempts",
            Self::Busy => "busy",
            Self::Unavailable(_) => "dependency_unavailable",
            Self::Database(_) | Self::Password(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message = match &self {
            // Debug keeps the driver's whole story (kind, labels, source); the client learns nothing.
            Self::Database(error) => {
                tracing::error!(error = ?error, "request failed");
                "internal error; it has been logged"
            }
            Self::Password(error) => {
                tracing::error!(%error, "request failed");
                "internal error; it has been logged"
            }
            Self::Unavailable(reason) => {
                tracing::warn!(%reason, "dependency unavailable");
                "a service this request needs is unavailable; try again"
            }
            _ => {
                let mut response = error_response(self.status(), self.code(), self.to_string());
                if let Some(secs) = self.retry_after_secs() {
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
                }
                return response;
            }
        };
        error_response(self.status(), self.code(), message)
    }
}
