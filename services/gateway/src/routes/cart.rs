//! `GET`/`PUT /api/cart`: the signed-in user's cart, kept by the gateway in Redis (one JSON value
//! per user, with a TTL renewed on every write). The cart holds product ids and quantities only:
//! prices and stock are the catalog's, read when the cart is shown and again when the order is
//! placed, so a cart can never carry a stale price into an order.

use std::collections::HashSet;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use fred::prelude::{Expiration, KeysInterface};
use serde::{Deserialize, Serialize};
use shop_domain::{ProductId, Quantity, UserId};
use shop_http::ApiJson;
use tracing::instrument;
use utoipa::ToSchema;

use crate::AppState;
use crate::auth::authenticate;
use crate::error::{ApiError, Result};
use crate::openapi::schemas::ErrorBody;

/// Lines a cart may hold: an order takes at most 100, a cart is far smaller in practice.
pub const MAX_CART_LINES: usize = 50;

/// Where carts live and for how long.
#[derive(Debug, Clone)]
pub struct CartStore {
    /// Keys are `<prefix>cart:<userId>`: the session prefix, so deployments sharing a Redis (and
    /// parallel tests) keep their carts apart as they keep their sessions.
    pub prefix: String,
    /// `CART_TTL_SECONDS`: a cart untouched this long is forgotten.
    pub ttl: Duration,
}

impl CartStore {
    fn key(&self, user: &UserId) -> String {
        format!("{}cart:{}", self.prefix, user.as_str())
    }
}

/// A cart, as sent and as answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Cart {
    /// At most 50 lines, each product once, 1 to 100 of each.
    pub items: Vec<CartLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CartLine {
    #[schema(example = "p-0001")]
    pub product_id: String,
    #[schema(minimum = 1, maximum = 100)]
    pub qty: u32,
}

impl Cart {
    /// The rules of a cart; the first line that breaks one is named in the 422.
    fn validate(&self) -> Result<()> {
        if self.items.len() > MAX_CART_LINES {
            return Err(ApiError::InvalidCart(format!(
                "a cart holds at most {MAX_CART_LINES} lines, got {}",
                self.items.len()
            )));
        }
        let mut seen = HashSet::new();
        for (index, line) in self.items.iter().enumerate() {
            let bad = |why: String| ApiError::InvalidCart(format!("items[{index}]: {why}"));
            ProductId::parse(line.product_id.as_str()).map_err(|e| bad(e.to_string()))?;
            Quantity::new(line.qty).map_err(|e| bad(e.to_string()))?;
            if !seen.insert(line.product_id.as_str()) {
                return Err(bad(format!("{} is in the cart twice", line.product_id)));
            }
        }
        Ok(())
    }
}

/// The largest cart body read: 50 lines are about 2 KiB; anything much larger is not a cart.
pub const MAX_CART_BODY: usize = 16 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/cart", get(get_cart).put(put_cart))
        .layer(DefaultBodyLimit::max(MAX_CART_BODY))
}

/// The caller's cart; an empty one when there is none (never set, or expired).
#[utoipa::path(
    get,
    path = "/api/cart",
    tag = "cart",
    security(("session" = [])),
    responses(
        (status = 200, description = "The cart", body = Cart),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 503, description = "Redis is unavailable", body = ErrorBody),
    )
)]
#[instrument(skip_all, fields(user_id))]
pub async fn get_cart(State(state): State<AppState>, headers: HeaderMap) -> Result<ApiJson<Cart>> {
    let session = authenticate(&state.sessions, &headers).await?;
    tracing::Span::current().record("user_id", session.user_id.as_str());
    let stored: Option<String> = state
        .redis
        .pool()
        .get(state.carts.key(&session.user_id))
        .await
        .map_err(redis_failed)?;
    // A value that does not parse (written by another version) is an empty cart, not an error
    // the user can do nothing about.
    let cart = stored
        .and_then(|json| serde_json::from_str::<Cart>(&json).ok())
        .unwrap_or_default();
    Ok(ApiJson(cart))
}

/// Replaces the caller's cart (an empty `items` empties it) and renews its lifetime.
#[utoipa::path(
    put,
    path = "/api/cart",
    tag = "cart",
    security(("session" = [])),
    request_body = Cart,
    responses(
        (status = 200, description = "The cart as stored", body = Cart),
        (status = 400, description = "`malformed_json`", body = ErrorBody),
        (status = 401, description = "`unauthenticated`", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: a body over 16 KiB", body = ErrorBody),
        (status = 422, description = "`invalid_cart` (too many lines, a bad id or quantity, a product twice) or `invalid_body`", body = ErrorBody),
        (status = 503, description = "Redis is unavailable", body = ErrorBody),
    )
)]
#[instrument(skip_all, fields(user_id, lines))]
pub async fn put_cart(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: std::result::Result<ApiJson<Cart>, Response>,
) -> std::result::Result<ApiJson<Cart>, Response> {
    // Who is asking comes first: a caller without a session hears 401, whatever it sent.
    let session = authenticate(&state.sessions, &headers)
        .await
        .map_err(IntoResponse::into_response)?;
    let ApiJson(cart) = body?;
    tracing::Span::current().record("user_id", session.user_id.as_str());
    tracing::Span::current().record("lines", cart.items.len());
    store_cart(&state, &session.user_id, cart)
        .await
        .map(ApiJson)
        .map_err(IntoResponse::into_response)
}

/// Validates `cart` and stores it as `user`'s (an empty one deletes the key).
async fn store_cart(state: &AppState, user: &UserId, cart: Cart) -> Result<Cart> {
    cart.validate()?;
    let key = state.carts.key(user);
    let pool = state.redis.pool();
    if cart.items.is_empty() {
        pool.del::<(), _>(key).await.map_err(redis_failed)?;
    } else {
        let json = serde_json::to_string(&cart).map_err(|e| ApiError::Internal(e.to_string()))?;
        let ttl = i64::try_from(state.carts.ttl.as_secs().max(1)).unwrap_or(i64::MAX);
        pool.set::<(), _, _>(key, json, Some(Expiration::EX(ttl)), None, false)
            .await
            .map_err(redis_failed)?;
    }
    Ok(cart)
}

fn redis_failed(error: fred::error::Error) -> ApiError {
    ApiError::RedisUnavailable(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cart(lines: &[(&str, u32)]) -> Cart {
        Cart {
            items: lines
                .iter()
                .map(|(id, qty)| CartLine {
                    product_id: (*id).to_owned(),
                    qty: *qty,
                })
                .collect(),
        }
    }

    #[test]
    fn a_cart_within_the_rules_is_valid_and_an_empty_one_too() {
        assert!(cart(&[("p-1", 1), ("p-2", 100)]).validate().is_ok());
        assert!(cart(&[]).validate().is_ok());
    }

    #[test]
    fn bad_quantities_ids_duplicates_and_oversized_carts_are_refused() {
        let many: Vec<(String, u32)> = (0..=MAX_CART_LINES)
            .map(|i| (format!("p-{i}"), 1))
            .collect();
        let many: Vec<(&str, u32)> = many.iter().map(|(id, q)| (id.as_str(), *q)).collect();
        for bad in [
            cart(&[("p-1", 0)]),
            cart(&[("p-1", 101)]),
            cart(&[("bad id", 1)]),
            cart(&[("", 1)]),
            cart(&[("p-1", 1), ("p-1", 2)]),
            cart(&many),
        ] {
            assert!(
                matches!(bad.validate(), Err(ApiError::InvalidCart(_))),
                "{bad:?}"
            );
        }
    }
}
