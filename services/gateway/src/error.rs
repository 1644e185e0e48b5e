//! `ApiError`: every answer the gateway makes itself rather than relaying, with the status and error
//! code each one means on the wire. An upstream's own errors are relayed untouched, never wrapped.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shop_http::error_response;

use crate::upstream::Upstream;

pub type Result<T, E = ApiError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("no route for {0}")]
    NotFound(String),
    #[error("{0} is not allowed here")]
    MethodNotAllowed(String),
    /// A path another parser could read differently (see `paths::ambiguity`): never routed.
    #[error("the path holds {0}, which is never forwarded")]
    InvalidPath(&'static str),
    /// No bearer token, or one that opens no live session (or, on `/api/ops`, not the admin's).
    #[error("authentication required: send Authorization: Bearer <token>")]
    Unauthenticated,
    /// A live user session on an operator endpoint.
    #[error("this endpoint is for operators")]
    Forbidden,
    /// An operator endpoint called from outside `OPS_ALLOWED_NETWORKS`.
    #[error("the operators' endpoints do not answer this client's network")]
    OpsNetworkRefused,
    #[error("the request body exceeds {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("the request body could not be read")]
    UnreadableBody,
    /// The client did not send its whole body in time.
    #[error("the request body did not arrive within {} ms", .timeout.as_millis())]
    BodyTimeout { timeout: Duration },
    #[error("too many requests; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// `/api/ops/dead-letters/{stream}/replay` with a name that is none of the shop's streams.
    #[error("unknown stream {0:?}; expected ORDERS_STREAM, PAYMENTS_STREAM or IDENTITY_STREAM")]
    UnknownStream(String),
    /// `PUT /api/cart` with a cart that breaks a rule (size, quantity, id, a product twice).
    #[error("{0}")]
    InvalidCart(String),
    /// A query string out of range on one of the gateway's own endpoints.
    #[error("{0}")]
    InvalidQuery(String),
    #[error("Last-Event-ID must be a stream entry id like 1718000000000-0")]
    InvalidLastEventId,
    /// The user already holds the most live order streams a replica allows them.
    #[error("at most {limit} live order streams per user; close one first")]
    TooManyStreams { limit: usize },
    /// The upstream refused the connection or could not be reached.
    #[error("{} is unavailable", .0.name())]
    ServiceUnavailable(Upstream),
    #[error("{} did not answer within {} ms", .upstream.name(), .timeout.as_millis())]
    UpstreamTimeout {
        upstream: Upstream,
        timeout: Duration,
    },
    /// The upstream broke the exchange (closed mid-response, sent garbage): logged with the cause.
    #[error("{} failed to answer", .upstream.name())]
    BadGateway { upstream: Upstream, cause: String },
    /// Redis failed while resolving a session or reading streams: logged with the cause.
    #[error("redis is unavailable")]
    RedisUnavailable(String),
    /// Something that should not happen. Logged, opaque 500.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound(_) | Self::UnknownStream(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::OpsNetworkRefused => StatusCode::FORBIDDEN,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            Self::UnreadableBody | Self::InvalidPath(_) => StatusCode::BAD_REQUEST,
            Self::RateLimited { .. } | Self::TooManyStreams { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::InvalidCart(_) | Self::InvalidQuery(_) | Self::InvalidLastEventId => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::ServiceUnavailable(_) | Self::RedisUnavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::UpstreamTimeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            Self::BadGateway { .. } => StatusCode::BAD_GATEWAY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden => "forbidden",
            Self::OpsNetworkRefused => "forbidden_network",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnreadableBody => "unreadable_body",
            Self::BodyTimeout { .. } => "request_timeout",
            Self::InvalidPath(_) => "invalid_path",
            Self::RateLimited { .. } => "rate_limited",
            Self::UnknownStream(_) => "unknown_stream",
            Self::InvalidCart(_) => "invalid_cart",
            Self::InvalidQuery(_) => "invalid_query",
            Self::InvalidLastEventId => "invalid_last_event_id",
            Self::TooManyStreams { .. } => "too_many_streams",
            Self::ServiceUnavailable(_) | Self::RedisUnavailable(_) => "service_unavailable",
            Self::UpstreamTimeout { .. } => "upstream_timeout",
            Self::BadGateway { .. } => "bad_gateway",
            Self::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            Self::ServiceUnavailable(upstream) => {
                tracing::warn!(upstream = upstream.name(), "upstream unreachable");
            }
            Self::UpstreamTimeout { upstream, .. } => {
                tracing::warn!(upstream = upstream.name(), "upstream timed out");
            }
            Self::BadGateway { upstream, cause } => {
                tracing::error!(upstream = upstream.name(), %cause, "upstream exchange failed");
            }
            Self::RedisUnavailable(cause) => tracing::error!(%cause, "redis failed"),
            Self::Internal(reason) => {
                tracing::error!(%reason, "request failed");
                return error_response(
                    self.status(),
                    self.code(),
                    "internal error; it has been logged",
                );
            }
            _ => {}
        }
        let mut response = error_response(self.status(), self.code(), self.to_string());
        if let Self::RateLimited { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}
