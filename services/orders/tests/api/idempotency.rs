//! `Idempotency-Key`: one key, one order, however often and however concurrently it is sent.

use futures::future::join_all;
use serde_json::Value;

use shop_domain::OrderId;

use crate::helpers::{TestShop, assert_error, body, fixture, order_body};

/// The canonical form of `{"products": [{"productId": "p-1", "qty": 1}]}`.
const CANONICAL_ONE_OF_P1: &str = r#"[{"productId":"p-1","qty":1}]"#;

/// The orderIds of `responses`, asserting each is a 201.
async fn created_ids(responses: Vec<reqwest::Response>) -> Vec<String> {
    let mut ids = Vec::new();
    for response in responses {
        let status = response.status();
        let order: Value = body(response).await;
        assert_eq!(status, 201, "{order}");
        ids.push(order["orderId"].as_str().unwrap_or_default().to_owned());
    }
    ids
}

#[tokio::test]
async fn the_same_key_twice_creates_one_order_and_one_order_created() {
    let shop = TestShop::spawn(&[fixture("p-1", 1999, 10)]).await;
    let request = order_body(&[("p-1", 2)]);

    let first = shop
        .orders
        .create_order(Some("u-1"), &request, Some("k-1"))
        .await;
    let second = shop
        .orders
        .create_order(Some("u-1"), &request, Some("k-1"))
        .await;

    let ids = created_ids(vec![first, second]).await;
    assert_eq!(ids[0], ids[1]);
    assert_eq!(shop.orders.count_orders().await, 1);
    assert_eq!(shop.orders.published().await.len(), 1);
    assert_eq!(shop.products.stock("p-1").await, 8);
}

#[tokio::test]
async fn ten_concurrent_requests_with_one_key_create_one_order_and_one_order_created() {
    let shop = TestShop::spawn(&[fixture("p-1", 1999, 10)]).await;
    let request = order_body(&[("p-1", 3)]);

    let responses =
        join_all((0..10).map(|_| shop.orders.create_order(Some("u-1"), &request, Some("k-1"))))
            .await;

    let ids = created_ids(responses).await;
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(shop.orders.count_orders().await, 1);
    assert_eq!(shop.orders.published().await.len(), 1);
    assert_eq!(shop.products.stock("p-1").await, 7);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_409_idempotency_key_reused() {
    let shop = TestShop::spawn(&[fixture("p-1", 1999, 10)]).await;
    let first = shop
        .orders
        .create_order(Some("u-1"), &order_body(&[("p-1", 1)]), Some("k-1"))
        .await;
    assert_eq!(first.status(), 201);

    let reused = shop
        .orders
        .create_order(Some("u-1"), &order_body(&[("p-1", 2)]), Some("k-1"))
        .await;

    assert_error(reused, 409, "idempotency_key_reused").await;
    assert_eq!(shop.orders.count_orders().await, 1);
    assert_eq!(shop.products.stock("p-1").await, 9);
}

#[tokio::test]
async fn keys_are_scoped_per_user() {
    let shop = TestShop::spawn(&[fixture("p-1", 1999, 10)]).await;
    let request = order_body(&[("p-1", 1)]);

    let mine = shop
        .orders
        .create_order(Some("u-1"), &request, Some("k-1"))
        .await;
    let theirs = shop
        .orders
        .create_order(Some("u-2"), &request, Some("k-1"))
        .await;

    let ids = created_ids(vec![mine, theirs]).await;
    assert_ne!(ids[0], ids[1]);
    assert_eq!(shop.orders.count_orders().await, 2);
}

#[tokio::test]
async fn an_attempt_that_failed_out_of_stock_can_be_retried_with_its_key() {
    let shop = TestShop::spawn(&[fixture("p-1", 1999, 1)]).await;
    let holder = shop.orders.place("u-2", &[("p-1", 1)]).await;
    let request = order_body(&[("p-1", 1)]);
    let failed = shop
        .orders
        .create_order(Some("u-1"), &request, Some("k-1"))
        .await;
    assert_error(failed, 409, "out_of_stock").await;

    // Stock comes back (the other order's payment failed).
    shop.products.release(holder.order_id.as_str()).await;
    let retried = shop
        .orders
        .create_order(Some("u-1"), &request, Some("k-1"))
        .await;

    let ids = created_ids(vec![retried]).await;
    assert_ne!(ids[0], holder.order_id.as_str());
    assert_eq!(shop.products.stock("p-1").await, 0);
    assert_eq!(shop.orders.count_orders().await, 2);
}

#[tokio::test]
async fn a_key_left_by_a_crashed_attempt_places_the_order_under_its_bound_id() {
    let shop = TestShop::spawn(&[fixture("p-1", 1999, 10)]).await;
    let bound = OrderId::generate().to_string();
    shop.orders
        .bind_key("u-1", "k-1", CANONICAL_ONE_OF_P1, &bound)
        .await;

    let response = shop
        .orders
        .create_order(Some("u-1"), &order_body(&[("p-1", 1)]), Some("k-1"))
        .await;

    assert_eq!(created_ids(vec![response]).await, [bound]);
    assert_eq!(shop.products.stock("p-1").await, 9);
}

#[tokio::test]
async fn a_key_whose_reservation_was_released_moves_on_to_one_successor_id() {
    let shop = TestShop::spawn(&[fixture("p-1", 1999, 10)]).await;
    let bound = OrderId::generate().to_string();
    shop.orders
        .bind_key("u-1", "k-1", CANONICAL_ONE_OF_P1, &bound)
        .await;
    shop.products.release_unused(&bound).await;
    let request = order_body(&[("p-1", 1)]);

    let responses =
        join_all((0..5).map(|_| shop.orders.create_order(Some("u-1"), &request, Some("k-1"))))
            .await;

    let ids = created_ids(responses).await;
    let successor = format!("{bound}-2");
    assert!(ids.iter().all(|id| *id == successor), "{ids:?}");
    assert_eq!(shop.orders.bound_order("u-1", "k-1").await, Some(successor));
    assert_eq!(shop.orders.count_orders().await, 1);
    assert_eq!(shop.products.stock("p-1").await, 9);
}

#[tokio::test]
async fn an_overlong_key_is_422() {
    let shop = TestShop::spawn(&[fixture("p-1", 1999, 10)]).await;
    let key = "k".repeat(256);

    let response = shop
        .orders
        .create_order(Some("u-1"), &order_body(&[("p-1", 1)]), Some(&key))
        .await;

    assert_error(response, 422, "invalid_idempotency_key").await;
    assert_eq!(shop.products.stock("p-1").await, 10);
}
