//! `ApiJson<T>`: `axum::Json` with rejections rendered as the shop's error body, so a malformed request
//! gets the same shape as every other error instead of axum's plain-text message.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Serialize;

use crate::error::error_response;

/// Extracts (and, as a response, serializes) a JSON body. Use it wherever `axum::Json` would go.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    axum::Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(rejection_response(&rejection)),
        }
    }
}

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// axum already picks the right status for each rejection (413 when the body limit is hit, ...);
/// this only adds a stable code and the error body around its message.
fn rejection_response(rejection: &JsonRejection) -> Response {
    let status = rejection.status();
    let code = match rejection {
        JsonRejection::JsonDataError(_) => "invalid_body",
        JsonRejection::JsonSyntaxError(_) => "malformed_json",
        JsonRejection::MissingJsonContentType(_) => "unsupported_media_type",
        JsonRejection::BytesRejection(_) if status == StatusCode::PAYLOAD_TOO_LARGE => {
            "payload_too_large"
        }
        JsonRejection::BytesRejection(_) => "unreadable_body",
        _ => "invalid_request",
    };
    error_response(status, code, rejection.body_text())
}
