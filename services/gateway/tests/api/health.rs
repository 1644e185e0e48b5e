//! The endpoints every service has, wired to the gateway's real dependency: a smoke test of the
//! wiring. Their behaviour in detail is tested once, in shop-http.

use shop_testkit::app::assert_health_contract;

use crate::helpers::spawn_app;

#[tokio::test]
async fn serves_live_ready_metrics_and_stops_on_shutdown() {
    assert_health_contract(spawn_app().await, &["redis"]).await;
}
