//! Who is calling: the `x-user-id` header the gateway sets for authenticated callers.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use shop_domain::UserId;

use crate::error::ApiError;

/// The header the gateway sets to the authenticated caller's id (dropping any the client sent).
pub const USER_ID_HEADER: &str = "x-user-id";

/// The caller, from `x-user-id`. Missing or not a valid user id: 401.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub UserId);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .headers
            .get(USER_ID_HEADER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| UserId::parse(value).ok())
            .map(Self)
            .ok_or(ApiError::Unauthenticated)
    }
}
