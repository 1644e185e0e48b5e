//! The endpoints every service has, wired to this service's real dependencies: a smoke test of the
//! wiring. Their behaviour in detail is tested once, in shop-http.

use shop_testkit::app::{assert_health_contract, assert_readiness, unreachable_mongo};

use crate::helpers::{assert_error, new_id, spawn_app_with, test_config};

#[tokio::test]
async fn serves_live_ready_metrics_and_stops_on_shutdown() {
    let app = spawn_app_with(products::Config {
        seed_catalog: false,
        ..test_config()
    })
    .await;
    assert_health_contract(app.app, &["redis", "mongodb"]).await;
}

#[tokio::test]
async fn ready_is_503_naming_mongodb_and_stock_changes_503_when_it_is_unreachable() {
    let mongo = unreachable_mongo("products").await;
    let app = spawn_app_with(products::Config {
        mongo,
        ..test_config()
    })
    .await;

    assert_readiness(&app.app, &[("redis", "up"), ("mongodb", "down")]).await;
    let reserve = app.reserve(&new_id(), &[("p-0001", 1)]).await;
    assert_error(reserve, 503, "unavailable").await;
}
