//! `POST /api/orders`: prices from the catalog, validation, and how each failure of `products`
//! reaches the client.

use std::time::Duration;

use reqwest::Url;
use serde_json::json;
use shop_testkit::app::closed_local_address;
use tokio::net::TcpListener;

use crate::helpers::{
    TestShop, assert_error, body, fixture, order_body, spawn_app_with, test_config,
};

#[tokio::test]
async fn prices_and_amount_come_from_the_catalog_even_when_the_client_sends_prices() {
    let shop = TestShop::spawn(&[fixture("p-1", 1999, 10), fixture("p-2", 550, 10)]).await;
    let tampered = json!({
        "products": [
            { "productId": "p-1", "qty": 2, "productPrice": 1 },
            { "productId": "p-2", "qty": 3, "productPrice": 1 },
        ],
        "orderAmount": 5,
    });

    let response = shop.orders.create_order(Some("u-1"), &tampered, None).await;

    assert_eq!(response.status(), 201);
    let order = body(response).await;
    let order_id = order["orderId"].as_str().unwrap_or_default().to_owned();
    assert!(!order_id.is_empty(), "{order}");
    let created_at = order["createdAt"].clone();
    assert!(
        created_at.as_str().is_some_and(|t| t.ends_with('Z')),
        "{order}"
    );
    assert_eq!(
        order,
        json!({
            "orderId": order_id,
            "userId": "u-1",
            "status": "created",
            "orderStatusCode": 1,
            "orderAmount": 2 * 1999 + 3 * 550,
            "currency": "USD",
            "products": [
                { "productId": "p-1", "name": "Product p-1", "qty": 2, "productPrice": 1999 },
                { "productId": "p-2", "name": "Product p-2", "qty": 3, "productPrice": 550 },
            ],
            "paymentId": null,
            "createdAt": created_at,
            "updatedAt": created_at,
        })
    );
    assert_eq!(shop.products.stock("p-1").await, 8);
    assert_eq!(shop.products.stock("p-2").await, 7);
}

#[tokio::test]
async fn invalid_orders_are_422_invalid_order_and_reserve_nothing() {
    let shop = TestShop::spawn(&[fixture("p-1", 1999, 10)]).await;
    let cases = [
        ("empty", order_body(&[])),
        ("no products field", json!({})),
        ("qty 0", order_body(&[("p-1", 0)])),
        ("qty 101", order_body(&[("p-1", 101)])),
        ("negative qty", order_body(&[("p-1", -2)])),
        ("duplicate lines", order_body(&[("p-1", 1), ("p-1", 2)])),
        ("malformed product id", order_body(&[("p 1", 1)])),
    ];

    for (case, request) in cases {
        let response = shop.orders.create_order(Some("u-1"), &request, None).await;

        assert_eq!(response.status(), 422, "{case}");
        assert_error(response, 422, "invalid_order").await;
    }
    assert_eq!(shop.products.stock("p-1").await, 10);
    assert_eq!(shop.orders.count_orders().await, 0);
}

#[tokio::test]
async fn an_unknown_product_is_404_product_not_found_and_reserves_nothing() {
    let shop = TestShop::spawn(&[fixture("p-1", 1999, 10)]).await;

    let response = shop
        .orders
        .create_order(Some("u-1"), &order_body(&[("p-1", 1), ("p-404", 1)]), None)
        .await;

    let message = assert_error(response, 404, "product_not_found").await;
    assert!(message.contains("p-404"), "{message}");
    assert_eq!(shop.products.stock("p-1").await, 10);
    assert_eq!(shop.orders.count_orders().await, 0);
}

#[tokio::test]
async fn more_than_the_stock_is_409_out_of_stock_naming_the_product() {
    let shop = TestShop::spawn(&[fixture("p-1", 1999, 10), fixture("p-2", 999, 2)]).await;

    let response = shop
        .orders
        .create_order(Some("u-1"), &order_body(&[("p-1", 1), ("p-2", 3)]), None)
        .await;

    let message = assert_error(response, 409, "out_of_stock").await;
    assert!(message.contains("p-2"), "{message}");
    assert_eq!(shop.products.stock("p-1").await, 10);
    assert_eq!(shop.products.stock("p-2").await, 2);
}

#[tokio::test]
async fn a_request_without_a_valid_x_user_id_is_401_unauthenticated() {
    let shop = TestShop::spawn(&[fixture("p-1", 1999, 10)]).await;
    let request = order_body(&[("p-1", 1)]);

    let missing = shop.orders.create_order(None, &request, None).await;
    let invalid = shop
        .orders
        .create_order(Some("not a user"), &request, None)
        .await;

    assert_error(missing, 401, "unauthenticated").await;
    assert_error(invalid, 401, "unauthenticated").await;
    assert_eq!(shop.products.stock("p-1").await, 10);
}

#[tokio::test]
async fn products_down_is_503_dependency_unavailable_and_stores_nothing() {
    let address = closed_local_address().await;
    let orders = spawn_app_with(orders::Config {
        products_url: url(&format!("http://{address}")),
        ..test_config()
    })
    .await;

    let response = orders
        .create_order(Some("u-1"), &order_body(&[("p-1", 1)]), None)
        .await;

    assert_error(response, 503, "dependency_unavailable").await;
    assert_eq!(orders.count_orders().await, 0);
}

#[tokio::test]
async fn a_products_call_that_times_out_is_503_dependency_unavailable() {
    // Accepts connections and never answers.
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let address = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let orders = spawn_app_with(orders::Config {
        products_url: url(&format!("http://{address}")),
        products_timeout: Duration::from_millis(300),
        ..test_config()
    })
    .await;

    let started = tokio::time::Instant::now();
    let response = orders
        .create_order(Some("u-1"), &order_body(&[("p-1", 1)]), None)
        .await;

    assert_error(response, 503, "dependency_unavailable").await;
    // The reservation and its best-effort release, each bounded by the timeout.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(orders.count_orders().await, 0);
    silent.abort();
}

fn url(text: &str) -> Url {
    Url::parse(text).unwrap_or_else(|error| panic!("{text}: {error}"))
}
