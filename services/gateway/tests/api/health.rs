//! The endpoints every service has, and `GET /health`, the whole shop's health.

use gateway::{Upstream, UpstreamUrls};
use serde_json::json;
use shop_testkit::app::assert_health_contract;

use crate::helpers::{StandIn, TestGateway, body, closed_url, test_config};

#[tokio::test]
async fn serves_live_ready_metrics_and_stops_on_shutdown() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;

    assert_health_contract(gateway.app, &["redis"]).await;
}

#[tokio::test]
async fn health_is_200_when_every_service_is_ready() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;

    let response = gateway.get("/health").await;

    assert_eq!(response.status(), 200);
    assert_eq!(
        body(response).await,
        json!({
            "status": "ok",
            "services": {
                "identity": "up",
                "products": "up",
                "orders": "up",
                "payments": "up",
                "order-history": "up",
            }
        })
    );
}

#[tokio::test]
async fn health_is_503_naming_each_service_that_is_down_or_not_ready() {
    let service = StandIn::echo().await;
    let not_ready = StandIn::not_ready().await;
    let mut upstreams = UpstreamUrls::all_at(&service.url);
    *upstreams.get_mut(Upstream::Payments) = closed_url().await;
    *upstreams.get_mut(Upstream::OrderHistory) = not_ready.url.clone();
    let gateway = TestGateway::spawn(test_config(upstreams)).await;

    let response = gateway.get("/health").await;

    assert_eq!(response.status(), 503);
    assert_eq!(
        body(response).await,
        json!({
            "status": "unavailable",
            "services": {
                "identity": "up",
                "products": "up",
                "orders": "up",
                "payments": "down",
                "order-history": "down",
            }
        })
    );
}

#[tokio::test]
async fn a_flood_of_health_requests_probes_the_services_a_few_times_not_once_each() {
    let probes = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = probes.clone();
    let service = StandIn::spawn(axum::Router::new().route(
        "/health/ready",
        axum::routing::get(move || {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { "ready" }
        }),
    ))
    .await;
    let gateway = TestGateway::in_front_of(&service).await;
    let requests = 40;

    let answers = futures::future::join_all((0..requests).map(|_| gateway.get("/health"))).await;

    assert!(answers.iter().all(|answer| answer.status() == 200));
    let probed = probes.load(std::sync::atomic::Ordering::SeqCst);
    // Uncached, that is five probes per request (200). Cached, five per second of the run: a
    // bound generous enough for a slow machine, far below one round per request.
    assert!(
        probed <= requests,
        "{probed} probes for {requests} requests"
    );
}
