//! The optional `Idempotency-Key` of `POST /api/orders` (the caller is `shop_http::CurrentUser`).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::error::ApiError;

/// The header a client sends to make `POST /api/orders` safe to retry.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// Keys longer than this are refused rather than stored.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

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
