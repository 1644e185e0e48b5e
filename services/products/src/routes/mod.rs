//! Every HTTP route of the service, merged in one place with the common middleware around them.

mod movements;
mod products;
mod reservations;

use axum::Router;
use shop_http::{Readiness, health, with_common_layers};

use crate::AppState;

/// The whole application router. Resource routers (`routes/<resource>.rs`) are merged here.
pub fn router(state: AppState) -> Router {
    let readiness = Readiness::new([
        health::redis_check(state.redis.clone()),
        shop_mongo::readiness_check(state.db.clone()),
    ]);
    let router = Router::new()
        .merge(health::router(readiness))
        .merge(state.metrics.router())
        .merge(products::router())
        .merge(reservations::router())
        .merge(movements::router())
        .with_state(state.clone());
    with_common_layers(router, &state.metrics)
}
