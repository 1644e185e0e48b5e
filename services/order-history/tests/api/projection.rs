//! Events on the streams become the owner's history: orders as `created`, settled by their
//! payment, whatever order the events arrive in and however often.

use serde_json::{Value, json};
use shop_domain::OrderStatus;
use shop_domain::UserId;
use shop_streams::{Event, Fields, dead_letter_stream};

use crate::helpers::{TestHistory, now, order, payment};

#[tokio::test]
async fn an_order_created_shows_in_its_owners_history_as_created_with_its_lines_and_amount() {
    let h = TestHistory::spawn().await;
    let user = UserId::generate();
    let placed = order(&user, 999, now());

    h.publish_order(&placed).await;
    h.items_when(&user, "the order", |items| items.len() == 1)
        .await;

    let body: Value = h
        .history(Some(&user), "")
        .await
        .json()
        .await
        .expect("a JSON body");
    let at = placed
        .created_at
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    assert_eq!(
        body,
        json!({
            "items": [{
                "orderId": placed.order_id.as_str(),
                "status": "created",
                "orderStatusCode": 1,
                "orderAmount": 2 * 1250 + 999,
                "products": [
                    {"productId": "sku-1", "qty": 2, "productPrice": 1250},
                    {"productId": "sku-2", "qty": 1, "productPrice": 999},
                ],
                "paymentId": null,
                "createdAt": at,
                "updatedAt": at,
            }],
            "total": 1,
            "page": 1,
            "pageSize": 20,
        })
    );
    h.stop().await;
}

#[tokio::test]
async fn a_later_payment_makes_the_order_paid_with_its_payment_id_and_time() {
    let h = TestHistory::spawn().await;
    let user = UserId::generate();
    let placed = order(&user, 500, now());
    h.publish_order(&placed).await;
    h.items_when(&user, "the order", |items| items.len() == 1)
        .await;
    let paid = payment(
        &placed,
        OrderStatus::Paid,
        now() + chrono::Duration::seconds(2),
    );

    h.publish_payment(&paid).await;
    let items = h
        .items_when(&user, "the order paid", |items| {
            items
                .first()
                .is_some_and(|item| item.status == OrderStatus::Paid)
        })
        .await;

    let item = &items[0];
    assert_eq!(item.order_status_code, 3);
    assert_eq!(item.payment_id.as_ref(), Some(&paid.payment_id));
    assert_eq!(item.created_at, placed.created_at);
    assert_eq!(item.updated_at, paid.created_at);
    h.stop().await;
}

#[tokio::test]
async fn a_declined_payment_makes_the_order_payment_failed() {
    let h = TestHistory::spawn().await;
    let user = UserId::generate();
    let placed = order(&user, 900_000, now());

    h.publish_order(&placed).await;
    h.publish_payment(&payment(&placed, OrderStatus::PaymentFailed, now()))
        .await;
    let items = h
        .items_when(&user, "the order declined", |items| {
            items
                .first()
                .is_some_and(|item| item.status == OrderStatus::PaymentFailed)
        })
        .await;

    assert_eq!(items[0].order_status_code, -3);
    assert!(items[0].payment_id.is_some());
    h.stop().await;
}

#[tokio::test]
async fn a_payment_published_before_its_order_is_not_lost() {
    let h = TestHistory::spawn().await;
    let user = UserId::generate();
    let placed = order(&user, 700, now());
    let paid = payment(&placed, OrderStatus::Paid, now());

    h.publish_payment(&paid).await;
    h.processed(0, 1).await;
    assert!(h.items(&user).await.is_empty(), "no order yet, no item");
    h.publish_order(&placed).await;
    let items = h
        .items_when(&user, "the order, paid", |items| items.len() == 1)
        .await;

    assert_eq!(items[0].status, OrderStatus::Paid);
    assert_eq!(items[0].payment_id.as_ref(), Some(&paid.payment_id));
    h.stop().await;
}

#[tokio::test]
async fn entries_delivered_twice_give_one_item() {
    let h = TestHistory::spawn().await;
    let user = UserId::generate();
    let placed = order(&user, 300, now());
    let paid = payment(&placed, OrderStatus::Paid, now());

    for _ in 0..2 {
        h.publish_order(&placed).await;
        h.publish_payment(&paid).await;
    }
    h.processed(2, 2).await;

    let page = h.page(&user, "").await;
    assert_eq!(page.total, 1);
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].status, OrderStatus::Paid);
    h.stop().await;
}

#[tokio::test]
async fn an_undecodable_entry_is_dead_lettered_and_the_events_behind_it_still_show() {
    let h = TestHistory::spawn().await;
    let user = UserId::generate();
    let mut garbage = Fields::new();
    garbage.push("type", "OrderCreated");
    garbage.push("orderId", "no-other-fields");
    let placed = order(&user, 100, now());

    let poison = h.publish(&h.config.streams.orders, garbage).await;
    h.publish_order(&placed).await;
    h.items_when(&user, "the order behind the poison entry", |items| {
        items.len() == 1
    })
    .await;

    let dead = crate::helpers::eventually("the dead letter", || async {
        let letters = h
            .stream_entries(&dead_letter_stream(&h.config.streams.orders))
            .await;
        (!letters.is_empty()).then_some(letters)
    })
    .await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].get("originalId"), Some(poison.as_str()));
    assert_eq!(dead[0].get("group"), Some("order-history"));
    // The same entry, decoded by hand, is indeed not an order.
    assert!(shop_domain::events::OrderCreated::from_fields(&dead[0]).is_err());
    h.stop().await;
}
