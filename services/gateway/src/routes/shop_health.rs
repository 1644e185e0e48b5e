//! `GET /health`: the whole shop at a glance, from each service's own readiness.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use futures::future::join_all;
use serde::Serialize;
use utoipa::ToSchema;

use crate::AppState;
use crate::upstream::Upstream;

pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(shop_health))
}

/// `"ok"` when every service is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ShopStatus {
    Ok,
    Unavailable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ServiceStatus {
    Up,
    Down,
}

/// `{"status":"ok","services":{"identity":"up","order-history":"up",...}}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShopHealth {
    pub status: ShopStatus,
    /// Every service by name: `identity`, `products`, `orders`, `payments`, `order-history`.
    #[schema(example = json!({"identity": "up", "products": "up", "orders": "up", "payments": "up", "order-history": "down"}))]
    pub services: BTreeMap<&'static str, ServiceStatus>,
}

/// Probes every service's `GET /health/ready` at once, each under `HEALTH_TIMEOUT_MS`: the slowest
/// probe, not the sum, bounds the answer. A service that does not answer 200 in time is down.
#[utoipa::path(
    get,
    path = "/health",
    tag = "health",
    responses(
        (status = 200, description = "Every service is ready", body = ShopHealth),
        (status = 503, description = "At least one service is down; `services` names it", body = ShopHealth),
    )
)]
pub async fn shop_health(State(state): State<AppState>) -> (StatusCode, Json<ShopHealth>) {
    let probes = Upstream::ALL.map(|upstream| {
        let proxy = &state.proxy;
        async move {
            let status = if proxy.is_ready(upstream, state.health_timeout).await {
                ServiceStatus::Up
            } else {
                ServiceStatus::Down
            };
            (upstream.name(), status)
        }
    });
    let services: BTreeMap<_, _> = join_all(probes).await.into_iter().collect();
    let all_up = services.values().all(|status| *status == ServiceStatus::Up);
    let (code, status) = if all_up {
        (StatusCode::OK, ShopStatus::Ok)
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, ShopStatus::Unavailable)
    };
    (code, Json(ShopHealth { status, services }))
}
