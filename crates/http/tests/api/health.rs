//! `/health/live` and `/health/ready`: status codes, body shape, per-check timeouts and concurrency.

use std::time::Duration;

use axum::Router;
use http::StatusCode;
use serde_json::json;
use shop_http::health::{self, ReadinessReport, ReadyStatus};
use shop_http::{Readiness, ReadinessCheck};

use crate::helpers::get;

fn up(name: &str) -> ReadinessCheck {
    ReadinessCheck::new(name, || async { Ok(()) })
}

fn failing(name: &str) -> ReadinessCheck {
    ReadinessCheck::new(name, || async { Err("connection refused".to_owned()) })
}

fn sleeping(name: &str, duration: Duration) -> ReadinessCheck {
    ReadinessCheck::new(name, move || async move {
        tokio::time::sleep(duration).await;
        Ok(())
    })
}

fn app(readiness: Readiness) -> Router {
    health::router(readiness)
}

#[tokio::test]
async fn live_is_200_ok_without_running_any_check() {
    let response = get(app(Readiness::new([failing("redis")])), "/health/live").await;

    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.json(), json!({ "status": "ok" }));
}

#[tokio::test]
async fn ready_is_200_listing_every_check_as_up() {
    let response = get(
        app(Readiness::new([up("redis"), up("mongodb")])),
        "/health/ready",
    )
    .await;

    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.json(),
        json!({ "status": "ok", "checks": { "redis": "up", "mongodb": "up" } })
    );
}

#[tokio::test]
async fn ready_is_503_naming_the_failing_check() {
    let response = get(
        app(Readiness::new([up("redis"), failing("mongodb")])),
        "/health/ready",
    )
    .await;

    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        response.json(),
        json!({ "status": "unavailable", "checks": { "redis": "up", "mongodb": "down" } })
    );
}

#[tokio::test(start_paused = true)]
async fn ready_is_503_when_a_check_outlives_its_timeout() {
    let readiness = Readiness::new([up("redis"), sleeping("mongodb", Duration::from_secs(3600))])
        .with_timeout(Duration::from_secs(2));
    let started = tokio::time::Instant::now();

    let response = get(app(readiness), "/health/ready").await;

    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.json()["checks"]["mongodb"], "down");
    assert_eq!(started.elapsed(), Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn checks_run_concurrently_so_the_slowest_bounds_the_probe() {
    let readiness = Readiness::new([
        sleeping("redis", Duration::from_secs(1)),
        sleeping("mongodb", Duration::from_secs(1)),
    ]);
    let started = tokio::time::Instant::now();

    let report: ReadinessReport = readiness.run().await;

    assert_eq!(report.status, ReadyStatus::Ok);
    assert_eq!(started.elapsed(), Duration::from_secs(1));
}

#[tokio::test]
async fn ready_without_checks_is_ok() {
    let response = get(app(Readiness::new([])), "/health/ready").await;

    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.json(), json!({ "status": "ok", "checks": {} }));
}
