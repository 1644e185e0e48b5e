//! The endpoints every service has, wired to this service's real dependencies: a smoke test of the
//! wiring. Their behaviour in detail is tested once, in shop-http.

use shop_testkit::app::{assert_health_contract, assert_readiness, unreachable_mongo};

use crate::helpers::{spawn_app, spawn_app_with, test_config};

#[tokio::test]
async fn serves_live_ready_metrics_and_stops_on_shutdown() {
    assert_health_contract(spawn_app().await.app, &["redis", "mongodb"]).await;
}

#[tokio::test]
async fn ready_is_503_naming_mongodb_when_it_is_unreachable() {
    let mongo = unreachable_mongo("orders").await;
    let app = spawn_app_with(orders::Config {
        mongo,
        ..test_config()
    })
    .await;

    assert_readiness(&app.app, &[("redis", "up"), ("mongodb", "down")]).await;
}

#[tokio::test]
async fn metrics_expose_the_stream_outbox_and_order_counters() {
    let app = spawn_app().await;

    let metrics = app.metrics().await;

    for name in [
        "orders_created_total 0",
        "# TYPE stream_processed counter",
        "# TYPE stream_dead_lettered counter",
        "# TYPE outbox_published counter",
        "# TYPE outbox_backlog gauge",
    ] {
        assert!(metrics.contains(name), "{name} missing from:\n{metrics}");
    }
}
