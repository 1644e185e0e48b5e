//! Request parts every order route reads: who is calling, and the optional `Idempotency-Key`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use shop_domain::UserId;

use crate::error::ApiError;

/// The header the gateway sets to the authenticated caller's id (dropping any the client sent).
pub const USER_ID_HEADER: &str = "x-user-id";

/// The header a client sends to make `POST /api/orders` safe to retry.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// Keys longer than this are refused rather than stored.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

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

/// The `Idempotency-Key`, if any: 1 to 255 visible ASCII characters, else 422.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(IDEMPOTENCY_KEY_HEADER) else {
            return Ok(Self(None));
        };
        let invalid = |why: &str| ApiError::InvalidIdempotencyKey(format!("Idempotency-Key {why}"));
        let key = value
            .to_str()
            .map_err(|_| invalid("must be visible ASCII"))?;
        if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_LEN {
            return Err(invalid("must be 1 to 255 characters"));
        }
        Ok(Self(Some(key.to_owned())))
    }
}
