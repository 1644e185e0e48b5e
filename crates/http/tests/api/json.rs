//! `ApiJson`: a valid body passes through; every kind of bad body gets the shop error shape and the
//! status that says what is wrong with it.

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::routing::post;
use http::{StatusCode, header};
use serde::{Deserialize, Serialize};
use shop_http::{ApiJson, ErrorBody};

use crate::helpers::{TestResponse, request, send};

#[derive(Debug, Serialize, Deserialize)]
struct NewItem {
    name: String,
    qty: u32,
}

fn app() -> Router {
    Router::new()
        .route(
            "/items",
            post(|ApiJson(item): ApiJson<NewItem>| async move { ApiJson(item) }),
        )
        .layer(DefaultBodyLimit::max(64))
}

async fn post_items(content_type: Option<&str>, body: &str) -> TestResponse {
    let mut builder = request("POST", "/items");
    if let Some(content_type) = content_type {
        builder = builder.header(header::CONTENT_TYPE, content_type);
    }
    let request = builder
        .body(Body::from(body.to_owned()))
        .unwrap_or_else(|e| panic!("{e}"));
    send(app(), request).await
}

fn error_code(response: &TestResponse) -> String {
    let body: ErrorBody = serde_json::from_slice(&response.body)
        .unwrap_or_else(|error| panic!("not an error body ({error}): {}", response.text()));
    assert!(!body.error.message.is_empty());
    body.error.code
}

#[tokio::test]
async fn a_valid_body_is_extracted_and_serialized_back() {
    let response = post_items(Some("application/json"), r#"{"name":"tea","qty":2}"#).await;

    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.json(),
        serde_json::json!({ "name": "tea", "qty": 2 })
    );
}

#[tokio::test]
async fn malformed_json_is_400_with_the_error_shape() {
    let response = post_items(Some("application/json"), r#"{"name":"#).await;

    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&response), "malformed_json");
}

#[tokio::test]
async fn json_of_the_wrong_shape_is_422_with_the_error_shape() {
    let response = post_items(Some("application/json"), r#"{"name":"tea","qty":-1}"#).await;

    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(&response), "invalid_body");
}

#[tokio::test]
async fn a_missing_json_content_type_is_415_with_the_error_shape() {
    let response = post_items(Some("text/plain"), r#"{"name":"tea","qty":2}"#).await;

    assert_eq!(response.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(error_code(&response), "unsupported_media_type");
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_with_the_error_shape() {
    let name = "x".repeat(100);
    let response = post_items(
        Some("application/json"),
        &format!(r#"{{"name":"{name}","qty":1}}"#),
    )
    .await;

    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(&response), "payload_too_large");
}
