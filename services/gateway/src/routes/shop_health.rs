//! `GET /health`: the whole shop at a glance, from each service's own readiness.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use futures::future::join_all;
use serde::Serialize;
use tokio::sync::Mutex;
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
/// probe, not the sum, bounds the answer. A service that does not answer 200 in time is down. One
/// round of probes answers every request for a second ([`HEALTH_CACHE_TTL`]).
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
    let health = state.health.get(|| probe_all(&state)).await;
    let code = match health.status {
        ShopStatus::Ok => StatusCode::OK,
        ShopStatus::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    };
    (code, Json(health))
}

/// How long one round of probes answers `GET /health`. The endpoint is public and unauthenticated:
/// uncached, every request would fan out to five services, so a client could multiply its load on
/// them by five with no token at all.
pub const HEALTH_CACHE_TTL: Duration = Duration::from_secs(1);

/// The last answer of `GET /health`, shared by the requests of the next [`HEALTH_CACHE_TTL`]. The
/// lock is held while probing, so concurrent requests wait for one round of probes instead of each
/// starting its own: at most one round per TTL, whatever the request rate.
#[derive(Debug, Clone, Default)]
pub struct HealthCache {
    last: Arc<Mutex<Option<(Instant, ShopHealth)>>>,
}

impl HealthCache {
    async fn get<F, Fut>(&self, probe: F) -> ShopHealth
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = ShopHealth>,
    {
        let mut last = self.last.lock().await;
        if let Some((at, health)) = last.as_ref()
            && at.elapsed() < HEALTH_CACHE_TTL
        {
            return health.clone();
        }
        let health = probe().await;
        *last = Some((Instant::now(), health.clone()));
        health
    }
}

async fn probe_all(state: &AppState) -> ShopHealth {
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
    let status = if all_up {
        ShopStatus::Ok
    } else {
        ShopStatus::Unavailable
    };
    ShopHealth { status, services }
}
