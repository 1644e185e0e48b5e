//! Who is calling: the user id the gateway puts in `x-user-id` after resolving the caller's session.
//! Services behind the gateway trust this header and nothing else; the gateway drops any copy a
//! client sends, which is why services must never be reachable except through it.

use axum::extract::FromRequestParts;
use axum::response::Response;
use http::StatusCode;
use http::request::Parts;
use shop_domain::UserId;

use crate::error_response;

/// The header the gateway sets to the authenticated caller's id.
pub const USER_ID_HEADER: &str = "x-user-id";

/// The caller, from `x-user-id`. Missing or not a valid user id: 401 `unauthenticated`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser(pub UserId);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .headers
            .get(USER_ID_HEADER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| UserId::parse(value).ok())
            .map(Self)
            .ok_or_else(|| {
                error_response(
                    StatusCode::UNAUTHORIZED,
                    "unauthenticated",
                    "authentication required",
                )
            })
    }
}
