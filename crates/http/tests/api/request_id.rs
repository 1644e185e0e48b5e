//! `x-request-id`: generated when the client sent none, kept when it did, visible to handlers and
//! echoed on the response.

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::HeaderMap;
use shop_http::{Metrics, with_common_layers};

use crate::helpers::{get as send_get, request, send};

/// A handler answering with the request id it was given.
fn app() -> Router {
    let router = Router::new().route(
        "/echo",
        get(|headers: HeaderMap| async move {
            headers
                .get("x-request-id")
                .and_then(|value| value.to_str().ok())
                .unwrap_or("none")
                .to_owned()
        }),
    );
    with_common_layers(router, &Metrics::new())
}

#[tokio::test]
async fn a_request_without_an_id_gets_a_uuid_seen_by_the_handler_and_the_client() {
    let response = send_get(app(), "/echo").await;

    let echoed = response
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok());
    assert_eq!(
        echoed.map(str::len),
        Some(36),
        "a hyphenated UUID: {echoed:?}"
    );
    assert_eq!(echoed, Some(response.text().as_str()));
}

#[tokio::test]
async fn a_client_supplied_id_is_kept_and_propagated() {
    let request = request("GET", "/echo")
        .header("x-request-id", "trace-me-123")
        .body(Body::empty())
        .unwrap_or_else(|e| panic!("{e}"));

    let response = send(app(), request).await;

    assert_eq!(response.text(), "trace-me-123");
    assert_eq!(
        response
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("trace-me-123")
    );
}

#[tokio::test]
async fn unmatched_requests_get_an_id_too() {
    let response = send_get(app(), "/missing").await;

    assert!(response.headers.contains_key("x-request-id"));
}
