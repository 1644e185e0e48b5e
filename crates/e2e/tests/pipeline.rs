//! The order pipeline end to end: `products`, `orders` and `payments` running together settle every
//! order with no manual step, and a payments outage delays settlement without losing any of it.

use std::time::Duration;

use shop_e2e::{PAYMENT_MAX_AMOUNT, Shop, product};

const USER: &str = "u-e2e-buyer";

#[tokio::test]
async fn orders_are_paid_or_declined_above_the_limit_without_any_manual_step() {
    let shop = Shop::start(&[
        product("p-scarf", 4_999, 10),
        product("p-watch", PAYMENT_MAX_AMOUNT + 1, 3),
    ])
    .await;

    let cheap = shop.place_order(USER, &[("p-scarf", 2)]).await;
    let dear = shop.place_order(USER, &[("p-watch", 1)]).await;
    let cheap = shop.settled(USER, str_of(&cheap["orderId"])).await;
    let dear = shop.settled(USER, str_of(&dear["orderId"])).await;

    assert_eq!(cheap["status"], "paid", "{cheap}");
    assert_eq!(cheap["orderStatusCode"], 3);
    assert_eq!(cheap["orderAmount"], 9_998);
    assert!(cheap["paymentId"].is_string(), "{cheap}");
    assert_eq!(dear["status"], "payment_failed", "{dear}");
    assert_eq!(dear["orderStatusCode"], -3);
    // The declined order's stock comes back; the paid one's stays sold.
    shop_testkit::eventually("the declined watch to be back in stock", || async {
        (shop.stock("p-watch").await == 3).then_some(())
    })
    .await;
    assert_eq!(shop.stock("p-scarf").await, 8);
    assert_eq!(shop.payments_total().await, 2);
    let payments = shop.entries(&shop.streams.payments).await;
    assert_eq!(payments.len(), 2);
    let declined = payments
        .iter()
        .find(|fields| fields.get("orderStatusCode") == Some("-3"))
        .unwrap_or_else(|| panic!("no declined payment in {payments:?}"));
    assert_eq!(declined.get("reason"), Some("amount_limit_exceeded"));
}

#[tokio::test]
async fn orders_placed_while_payments_is_down_are_each_settled_once_when_it_returns() {
    let mut shop = Shop::start(&[product("p-tee", 1_500, 100)]).await;
    shop.stop_payments().await;

    let mut placed = Vec::new();
    for _ in 0..20 {
        let order = shop.place_order(USER, &[("p-tee", 1)]).await;
        placed.push(str_of(&order["orderId"]).to_owned());
    }
    // Published, but nobody charges them while payments is down.
    shop_testkit::eventually("20 OrderCreated entries", || async {
        (shop.entries(&shop.streams.orders).await.len() == 20).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for id in &placed {
        assert_eq!(shop.order(USER, id).await["status"], "created", "{id}");
    }
    assert_eq!(shop.payments_total().await, 0);

    shop.start_payments().await;

    for id in &placed {
        let order = shop.settled(USER, id).await;
        assert_eq!(order["status"], "paid", "{order}");
        assert_eq!(shop.payments_for(id).await, 1, "payments of {id}");
    }
    assert_eq!(shop.payments_total().await, 20);
    let announced = shop.entries(&shop.streams.payments).await;
    let mut announced: Vec<&str> = announced.iter().filter_map(|f| f.get("orderId")).collect();
    announced.sort_unstable();
    announced.dedup();
    assert_eq!(announced.len(), 20, "one PaymentProcessed per order");
}

fn str_of(value: &serde_json::Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected a string, got {value}"))
}
