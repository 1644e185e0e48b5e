//! The `PAYMENTS_STREAM` consumer: payment outcomes settle orders once; stale, repeated and
//! unknown events change nothing.

use shop_domain::events::PaymentProcessed;
use shop_domain::{Money, OrderId, OrderStatus, PaymentId, UserId};

use crate::helpers::{TestShop, body, eventually, fixture};

fn payment(order_id: &OrderId, user: &str, status: OrderStatus) -> PaymentProcessed {
    PaymentProcessed {
        order_id: order_id.clone(),
        payment_id: PaymentId::generate(),
        user_id: UserId::parse(user).unwrap_or_else(|error| panic!("{error}")),
        order_status: status,
        paid_amount: Money::ZERO,
        reason: (status == OrderStatus::PaymentFailed).then(|| "amount_limit_exceeded".into()),
        created_at: chrono::Utc::now(),
    }
}

#[tokio::test]
async fn a_paid_event_settles_the_order_and_later_or_repeated_events_change_nothing() {
    let shop = TestShop::spawn(&[fixture("p-1", 1999, 10)]).await;
    let order = shop.orders.place("u-1", &[("p-1", 1)]).await;
    let path = format!("/api/orders/{}", order.order_id);
    let paid = payment(&order.order_id, "u-1", OrderStatus::Paid);

    shop.orders.publish_payment(&paid).await;

    let settled = eventually("the order to be paid", || async {
        let order = body(shop.orders.get_as("u-1", &path).await).await;
        (order["status"] == "paid").then_some(order)
    })
    .await;
    assert_eq!(settled["orderStatusCode"], 3);
    assert_eq!(settled["paymentId"], paid.payment_id.as_str());
    assert_ne!(settled["updatedAt"], settled["createdAt"]);

    // An out-of-order failure for the same order, then the paid event again.
    shop.orders
        .publish_payment(&payment(&order.order_id, "u-1", OrderStatus::PaymentFailed))
        .await;
    shop.orders.publish_payment(&paid).await;
    shop.orders.wait_for_payments_handled(3).await;

    let after = body(shop.orders.get_as("u-1", &path).await).await;
    assert_eq!(after, settled);
}

#[tokio::test]
async fn a_failed_event_settles_the_order_as_payment_failed() {
    let shop = TestShop::spawn(&[fixture("p-1", 1999, 10)]).await;
    let order = shop.orders.place("u-1", &[("p-1", 1)]).await;
    let failed = payment(&order.order_id, "u-1", OrderStatus::PaymentFailed);

    shop.orders.publish_payment(&failed).await;
    let stored = eventually("the order to fail", || async {
        let stored = shop.orders.stored(order.order_id.as_str()).await;
        (stored.get_i32("orderStatusCode").ok() == Some(-3)).then_some(stored)
    })
    .await;
    assert_eq!(
        stored.get_str("paymentId").ok(),
        Some(failed.payment_id.as_str())
    );
    assert!(stored.get_datetime("updatedAt").ok() > stored.get_datetime("createdAt").ok());
}

#[tokio::test]
async fn a_payment_for_an_unknown_order_is_dead_lettered_after_its_retries() {
    let shop = TestShop::spawn(&[fixture("p-1", 1999, 10)]).await;
    let unknown = payment(&OrderId::generate(), "u-1", OrderStatus::Paid);

    shop.orders.publish_payment(&unknown).await;

    let dead_letters = shop_streams::dead_letter_stream(&shop.orders.config.streams.payments);
    let entries = eventually("a dead letter", || async {
        let entries = shop.orders.entries(&dead_letters).await;
        (!entries.is_empty()).then_some(entries)
    })
    .await;
    assert_eq!(entries[0].get("orderId"), Some(unknown.order_id.as_str()));
    assert_eq!(entries[0].get("group"), Some("orders"));
}
