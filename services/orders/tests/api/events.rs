//! `OrderCreated`: written with its order, published by the outbox relay, with the documented
//! fields, exactly once, even when no relay ran at the time of writing.

use std::time::Duration;

use serde_json::{Value, json};
use shop_streams::Traceparent;

use crate::helpers::{TestShop, fixture, spawn_app_with};

#[tokio::test]
async fn order_created_carries_the_documented_fields() {
    let shop = TestShop::spawn(&[fixture("p-1", 1999, 10), fixture("p-2", 550, 10)]).await;
    let order = shop.orders.place("u-1", &[("p-1", 2), ("p-2", 1)]).await;

    let entries = shop.orders.published().await;

    assert_eq!(entries.len(), 1, "{entries:?}");
    let entry = &entries[0];
    assert_eq!(entry.get("type"), Some("OrderCreated"));
    assert_eq!(entry.get("orderId"), Some(order.order_id.as_str()));
    assert_eq!(entry.get("orderAmount"), Some("45.48"));
    assert_eq!(entry.get("userId"), Some("u-1"));
    let products: Value = serde_json::from_str(entry.get("products").unwrap_or_default())
        .unwrap_or_else(|error| panic!("products is JSON: {error}"));
    assert_eq!(
        products,
        json!([
            { "productId": "p-1", "qty": 2, "productPrice": "19.99" },
            { "productId": "p-2", "qty": 1, "productPrice": "5.50" },
        ])
    );
    let created_at = serde_json::to_value(&order)
        .map(|order| order["createdAt"].clone())
        .unwrap_or_default();
    assert_eq!(entry.get("createdAt"), created_at.as_str());
    let traceparent = entry.get("traceparent").unwrap_or_default();
    assert!(Traceparent::parse(traceparent).is_some(), "{traceparent}");
    let stored = shop.orders.stored(order.order_id.as_str()).await;
    assert_eq!(stored.get_str("traceparent").ok(), Some(traceparent));
}

#[tokio::test]
async fn an_order_written_while_the_relay_is_off_is_published_once_after_a_relay_starts() {
    let shop = TestShop::spawn_with(&[fixture("p-1", 1999, 10)], |config| {
        config.outbox_relay = false;
    })
    .await;
    let order = shop.orders.place("u-1", &[("p-1", 1)]).await;
    // Long enough for a running relay to have published (it is woken by the write).
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(shop.orders.orders_stream().await.is_empty());
    assert_eq!(shop.orders.unpublished().await, 1);

    let TestShop { products, orders } = shop;
    let config = orders.config.clone();
    orders.stop().await;
    let restarted = spawn_app_with(orders::Config {
        outbox_relay: true,
        ..config
    })
    .await;

    let entries = restarted.published().await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].get("orderId"), Some(order.order_id.as_str()));
    drop(products);
}
