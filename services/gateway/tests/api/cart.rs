//! `GET`/`PUT /api/cart`: per user, in Redis with a TTL, validated, in the gateway's error shape.

use fred::prelude::KeysInterface;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{StandIn, TestGateway, assert_error, body, send};

async fn put(gateway: &TestGateway, token: &str, cart: &Value) -> reqwest::Response {
    send(
        gateway
            .request(Method::PUT, "/api/cart")
            .bearer_auth(token)
            .json(cart),
    )
    .await
}

#[tokio::test]
async fn the_cart_needs_a_session() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;

    assert_error(gateway.get("/api/cart").await, 401, "unauthenticated").await;
    let put = send(
        gateway
            .request(Method::PUT, "/api/cart")
            .json(&json!({"items": []})),
    )
    .await;
    assert_error(put, 401, "unauthenticated").await;
    assert_eq!(service.calls(), 0);
}

#[tokio::test]
async fn a_cart_is_empty_until_set_then_kept_per_user_with_its_ttl() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;
    let ada = gateway.login("u-ada").await;
    let bob = gateway.login("u-bob").await;
    let cart =
        json!({"items": [{"productId": "p-0001", "qty": 2}, {"productId": "p-0002", "qty": 1}]});

    let empty = body(gateway.call_as(&ada, Method::GET, "/api/cart").await).await;
    let stored = put(&gateway, &ada, &cart).await;
    assert_eq!(stored.status(), 200);
    let read_back = body(gateway.call_as(&ada, Method::GET, "/api/cart").await).await;
    let bobs = body(gateway.call_as(&bob, Method::GET, "/api/cart").await).await;

    assert_eq!(empty, json!({"items": []}));
    assert_eq!(body(stored).await, cart);
    assert_eq!(read_back, cart);
    assert_eq!(
        bobs,
        json!({"items": []}),
        "another user's cart is not yours"
    );
    let key = format!("{}cart:u-ada", gateway.config.session_prefix);
    let ttl: i64 = gateway
        .redis
        .pool()
        .ttl(key.as_str())
        .await
        .unwrap_or_else(|error| panic!("TTL: {error}"));
    let configured = i64::try_from(gateway.config.cart_ttl.as_secs()).unwrap_or(i64::MAX);
    assert!(ttl > configured - 60 && ttl <= configured, "ttl {ttl}");

    let emptied = put(&gateway, &ada, &json!({"items": []})).await;
    assert_eq!(emptied.status(), 200);
    let exists: u64 = gateway.redis.pool().exists(key.as_str()).await.unwrap_or(9);
    assert_eq!(exists, 0, "an emptied cart leaves no key");
}

#[tokio::test]
async fn carts_breaking_a_rule_are_422_and_malformed_bodies_400() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;
    let ada = gateway.login("u-ada").await;
    let too_many: Vec<Value> = (0..=gateway::routes::cart::MAX_CART_LINES)
        .map(|n| json!({"productId": format!("p-{n}"), "qty": 1}))
        .collect();

    for (cart, status, code) in [
        (
            json!({"items": [{"productId": "p-1", "qty": 0}]}),
            422,
            "invalid_cart",
        ),
        (
            json!({"items": [{"productId": "p-1", "qty": 101}]}),
            422,
            "invalid_cart",
        ),
        (
            json!({"items": [{"productId": "no spaces", "qty": 1}]}),
            422,
            "invalid_cart",
        ),
        (
            json!({"items": [{"productId": "p-1", "qty": 1}, {"productId": "p-1", "qty": 2}]}),
            422,
            "invalid_cart",
        ),
        (json!({"items": too_many}), 422, "invalid_cart"),
        (
            json!({"items": [{"productId": "p-1", "qty": -1}]}),
            422,
            "invalid_body",
        ),
        (
            json!({"items": [{"productId": "p-1", "qty": 1, "price": 1}]}),
            422,
            "invalid_body",
        ),
        (json!({"lines": []}), 422, "invalid_body"),
    ] {
        assert_error(put(&gateway, &ada, &cart).await, status, code).await;
    }
    let malformed = send(
        gateway
            .request(Method::PUT, "/api/cart")
            .bearer_auth(&ada)
            .header("content-type", "application/json")
            .body("{\"items\": ["),
    )
    .await;
    assert_error(malformed, 400, "malformed_json").await;
    let huge = json!({"items": [{"productId": "p-1", "qty": 1}], "padding": "x".repeat(20_000)});
    assert_error(put(&gateway, &ada, &huge).await, 413, "payload_too_large").await;
    let still_empty = body(gateway.call_as(&ada, Method::GET, "/api/cart").await).await;
    assert_eq!(still_empty, json!({"items": []}));
}
