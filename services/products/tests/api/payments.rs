//! The `PAYMENTS_STREAM` consumer: failed payments give their stock back, paid ones keep it.

use shop_domain::OrderStatus;

use crate::helpers::{assert_error, fixture, new_id, spawn_app_with_products};

#[tokio::test]
async fn a_failed_payment_restores_stock_once_even_when_delivered_twice() {
    let app = spawn_app_with_products(&[fixture("p-1", 10)]).await;
    let order = new_id();
    app.reserve(&order, &[("p-1", 4)]).await;

    app.publish_payment(&order, OrderStatus::PaymentFailed)
        .await;
    app.publish_payment(&order, OrderStatus::PaymentFailed)
        .await;
    app.wait_for_processed(2).await;

    assert_eq!(app.stock("p-1").await, 10);
    let (product, _) = app.product("p-1").await;
    assert_eq!(product["stockQty"], 10);
}

#[tokio::test]
async fn a_paid_order_keeps_its_stock_when_a_failed_event_follows_and_cannot_be_released() {
    let app = spawn_app_with_products(&[fixture("p-1", 10)]).await;
    let order = new_id();
    app.reserve(&order, &[("p-1", 4)]).await;

    app.publish_payment(&order, OrderStatus::Paid).await;
    // Entries are handled concurrently; "later" means after the first was processed.
    app.wait_for_processed(1).await;
    app.publish_payment(&order, OrderStatus::PaymentFailed)
        .await;
    app.wait_for_processed(2).await;

    assert_eq!(app.stock("p-1").await, 6);
    assert_error(app.release(&order).await, 409, "reservation_committed").await;
    assert_eq!(app.stock("p-1").await, 6);
}

#[tokio::test]
async fn events_for_orders_without_a_reservation_are_processed_as_no_ops() {
    let app = spawn_app_with_products(&[fixture("p-1", 10)]).await;

    app.publish_payment(&new_id(), OrderStatus::PaymentFailed)
        .await;
    app.publish_payment(&new_id(), OrderStatus::Paid).await;
    app.wait_for_processed(2).await;

    assert_eq!(app.stock("p-1").await, 10);
}
