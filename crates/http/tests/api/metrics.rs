//! Request metrics: labelled by route template, one registry per application, open to other
//! components, served as OpenMetrics text.

use axum::Router;
use axum::routing::get;
use http::{StatusCode, header};
use prometheus_client::metrics::counter::Counter;
use shop_http::{Metrics, with_common_layers};

use crate::helpers::get as send_get;

fn app(metrics: &Metrics) -> Router {
    let router = Router::new()
        .route("/items/{id}", get(|| async { "item" }))
        .merge(metrics.router());
    with_common_layers(router, metrics)
}

#[tokio::test]
async fn the_request_counter_is_labelled_with_the_route_template_not_the_path() {
    let metrics = Metrics::new();
    send_get(app(&metrics), "/items/42").await;
    send_get(app(&metrics), "/items/43").await;

    let response = send_get(app(&metrics), "/metrics").await;

    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some(shop_http::metrics::CONTENT_TYPE)
    );
    let text = response.text();
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/items/{id}",status="200"} 2"#),
        "{text}"
    );
    assert!(
        text.contains(r#"http_request_duration_seconds_count{method="GET",route="/items/{id}"} 2"#),
        "{text}"
    );
    assert!(!text.contains("/items/42"), "{text}");
}

#[tokio::test]
async fn requests_matching_no_route_share_one_label() {
    let metrics = Metrics::new();
    send_get(app(&metrics), "/no/such/path").await;

    let text = metrics.encode().unwrap_or_else(|e| panic!("{e}"));

    assert!(
        text.contains(r#"http_requests_total{method="GET",route="unmatched",status="404"} 1"#),
        "{text}"
    );
    assert!(!text.contains("/no/such/path"), "{text}");
}

#[tokio::test]
async fn two_applications_in_one_process_count_separately() {
    let first = Metrics::new();
    let second = Metrics::new();
    send_get(app(&first), "/items/1").await;

    let text = second.encode().unwrap_or_else(|e| panic!("{e}"));

    assert!(!text.contains("/items/{id}"), "{text}");
}

#[tokio::test]
async fn metrics_registered_by_other_components_are_served() {
    let metrics = Metrics::new();
    let processed = Counter::<u64>::default();
    metrics
        .registry()
        .sub_registry_with_prefix("streams")
        .register("processed", "Entries handled", processed.clone());
    processed.inc_by(3);

    let text = send_get(app(&metrics), "/metrics").await.text();

    assert!(text.contains("streams_processed_total 3"), "{text}");
}
