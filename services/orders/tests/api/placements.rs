//! Nothing held by nobody: a placement survives its client hanging up, the fate fences a frozen
//! request from the reconciler, and the reconciler finishes what crashed requests and lossy
//! streams left (writes confirmed orders, releases rejected ones, re-announces unpaid ones).

use std::time::Duration;

use bson::{Document, doc};
use futures::future::join_all;
use orders::store::{Fate, Placement, Store};
use orders::{IDEMPOTENCY_KEY_HEADER, ReconcileConfig, USER_ID_HEADER};
use serde_json::json;
use shop_domain::events::PaymentProcessed;
use shop_domain::{Money, OrderId, OrderStatus, PaymentId, UserId};
use shop_streams::REANNOUNCED_FIELD;

use crate::helpers::{TestShop, body, eventually, fixture, order_body};

/// A reconciler that acts within a second or two, for tests that wait for it.
fn quick(config: &mut orders::Config) {
    config.products_timeout = Duration::from_secs(2);
    config.reconcile = ReconcileConfig {
        interval: Duration::from_millis(100),
        placement_timeout: Duration::from_millis(2_500),
        reannounce_after: Duration::from_millis(800),
    };
}

fn user(id: &str) -> UserId {
    UserId::parse(id).unwrap_or_else(|error| panic!("{error}"))
}

/// What a request does before it reserves, done by hand: record the placement.
async fn begin(shop: &TestShop, id: &OrderId, owner: &str, lines: &[(&str, i64)]) -> Placement {
    let lines = serde_json::from_value(order_body(lines)["products"].clone())
        .unwrap_or_else(|error| panic!("lines: {error}"));
    let placement = Placement::new(id.clone(), user(owner), lines);
    shop.orders
        .db
        .collection::<Placement>("placements")
        .insert_one(&placement)
        .await
        .unwrap_or_else(|error| panic!("a placement: {error}"));
    placement
}

/// Reserves under `id` straight at products, as the placement's request does next.
async fn reserve(shop: &TestShop, id: &OrderId, lines: &[(&str, i64)]) -> serde_json::Value {
    let request = json!({
        "reservationId": id.as_str(),
        "lines": order_body(lines)["products"],
    });
    let response = shop
        .products
        .app
        .client
        .post(format!(
            "{}/internal/reservations",
            shop.products.app.address
        ))
        .json(&request)
        .send()
        .await
        .unwrap_or_else(|error| panic!("reserving: {error}"));
    assert_eq!(response.status(), 200, "reserving {id}");
    body(response).await
}

fn store(shop: &TestShop) -> Store {
    Store::new(&shop.orders.db)
}

async fn placements(shop: &TestShop) -> u64 {
    shop.orders
        .db
        .collection::<Document>("placements")
        .count_documents(doc! {})
        .await
        .unwrap_or_else(|error| panic!("counting placements: {error}"))
}

#[tokio::test]
async fn clients_that_hang_up_mid_placement_leave_an_order_or_nothing_held() {
    let shop = TestShop::spawn(&[fixture("p-1", 1999, 200), fixture("p-2", 500, 200)]).await;
    let url = format!("{}/api/orders", shop.orders.app.address);
    let request = order_body(&[("p-1", 1), ("p-2", 2)]);

    // Hang-ups at every stage: before the key is claimed, during the reservation, before the insert.
    let attempts = join_all((0..40).map(|i| {
        let (url, request) = (&url, &request);
        async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_millis(1 + (i % 8) * 4))
                .build()
                .unwrap_or_else(|error| panic!("{error}"));
            client
                .post(url)
                .header(USER_ID_HEADER, format!("u-{i}"))
                .header(IDEMPOTENCY_KEY_HEADER, format!("k-{i}"))
                .json(request)
                .send()
                .await
                .ok()
                .map(|response| response.status().as_u16())
        }
    }))
    .await;
    let hung_up = attempts.iter().filter(|answer| answer.is_none()).count();
    assert!(hung_up > 0, "no client hung up: {attempts:?}");

    // Every placement runs to its end: every key that was claimed gets its order (a request cut
    // before the key was claimed did nothing at all), and exactly the stock of those orders is
    // taken.
    let orders = eventually("every claimed key to have its order", || async {
        let mut orders = Vec::new();
        for i in 0..40 {
            let Some(id) = shop
                .orders
                .bound_order(&format!("u-{i}"), &format!("k-{i}"))
                .await
            else {
                continue;
            };
            let response = shop
                .orders
                .get_as(&format!("u-{i}"), &format!("/api/orders/{id}"))
                .await;
            if response.status() != 200 {
                return None;
            }
            orders.push(i);
        }
        Some(orders)
    })
    .await;
    let placed = orders.len() as i64;
    assert_eq!(shop.orders.count_orders().await, placed as u64);
    eventually("the stock to match the orders", || async {
        let (p1, p2) = (
            shop.products.stock("p-1").await,
            shop.products.stock("p-2").await,
        );
        (p1 == 200 - placed && p2 == 200 - 2 * placed).then_some(())
    })
    .await;
    let finished_after_hang_up = orders.iter().filter(|&&i| attempts[i].is_none()).count();
    assert!(
        finished_after_hang_up > 0,
        "no order was finished after its client hung up: {attempts:?}"
    );
}

#[tokio::test]
async fn a_placement_abandoned_after_reserving_is_rejected_released_and_can_never_become_an_order()
{
    let shop = TestShop::spawn_with(&[fixture("p-1", 1999, 10)], quick).await;
    let id = OrderId::generate();
    let lines = [("p-1", 3)];
    // A request recorded its placement and reserved, then froze (SIGSTOP) or died.
    let placement = begin(&shop, &id, "u-1", &lines).await;
    let reserved = reserve(&shop, &id, &lines).await;
    assert_eq!(shop.products.stock("p-1").await, 7);

    // The reconciler finds it undecided past PLACEMENT_TIMEOUT_MS: rejected, stock back.
    eventually("the abandoned placement's stock to come back", || async {
        (shop.products.stock("p-1").await == 10 && placements(&shop).await == 0).then_some(())
    })
    .await;

    // The frozen request wakes up and tries to confirm: the fence says no, so it writes nothing.
    let lines = serde_json::from_value(reserved["lines"].clone())
        .unwrap_or_else(|error| panic!("priced lines: {error}"));
    let late = store(&shop)
        .decide(
            &id,
            Fate::Confirmed {
                lines,
                amount: money(3 * 1999),
                traceparent: shop_streams::Traceparent::generate().to_string(),
                at: bson::DateTime::now(),
            },
        )
        .await
        .unwrap_or_else(|error| panic!("deciding: {error}"));
    assert!(matches!(late, Fate::Rejected { .. }), "{late:?}");
    assert_eq!(shop.orders.count_orders().await, 0);
    assert_eq!(shop.products.stock("p-1").await, 10);

    // The client retries with its key: the id is spent, the order is placed under its successor.
    shop.orders
        .bind_key("u-1", "k-1", &canonical(&lines_of(&placement)), id.as_str())
        .await;
    let response = shop
        .orders
        .create_order(Some("u-1"), &order_body(&[("p-1", 3)]), Some("k-1"))
        .await;
    assert_eq!(response.status(), 201);
    let order = body(response).await;
    assert_eq!(order["orderId"], format!("{id}-2"));
    assert_eq!(shop.products.stock("p-1").await, 7);
}

fn lines_of(placement: &Placement) -> Vec<(String, i64)> {
    placement
        .lines
        .iter()
        .map(|line| (line.product_id.to_string(), i64::from(line.qty.get())))
        .collect()
}

/// The canonical request of these lines, as orders computes it for an `Idempotency-Key`.
fn canonical(lines: &[(String, i64)]) -> String {
    let lines: Vec<_> = lines
        .iter()
        .map(|(id, qty)| json!({ "productId": id, "qty": qty }))
        .collect();
    serde_json::to_string(&lines).unwrap_or_default()
}

#[tokio::test]
async fn a_confirmed_placement_whose_request_died_before_writing_gets_its_order() {
    let shop = TestShop::spawn_with(&[fixture("p-1", 1999, 10)], quick).await;
    let id = OrderId::generate();
    let lines = [("p-1", 2)];
    begin(&shop, &id, "u-1", &lines).await;
    let reserved = reserve(&shop, &id, &lines).await;
    let confirmed = Fate::Confirmed {
        lines: serde_json::from_value(reserved["lines"].clone())
            .unwrap_or_else(|error| panic!("priced lines: {error}")),
        amount: money(2 * 1999),
        traceparent: shop_streams::Traceparent::generate().to_string(),
        at: bson::DateTime::now(),
    };
    store(&shop)
        .decide(&id, confirmed)
        .await
        .unwrap_or_else(|error| panic!("deciding: {error}"));

    let path = format!("/api/orders/{id}");
    let order = eventually("the reconciler to write the order", || async {
        let response = shop.orders.get_as("u-1", &path).await;
        (response.status() == 200).then_some(response)
    })
    .await;
    let order = body(order).await;
    assert_eq!(order["status"], "created");
    assert_eq!(order["orderAmount"], 2 * 1999);
    let events = shop.orders.published().await;
    assert_eq!(
        events
            .iter()
            .filter(|fields| fields.get("orderId") == Some(id.as_str()))
            .count(),
        1
    );
    assert_eq!(shop.products.stock("p-1").await, 8, "the stock stays held");
}

#[tokio::test]
async fn an_order_left_unpaid_is_reannounced_until_its_payment_arrives() {
    let shop = TestShop::spawn_with(&[fixture("p-1", 1999, 10)], quick).await;
    let order = shop.orders.place("u-1", &[("p-1", 1)]).await;
    let id = order.order_id.clone();
    let announcements = || async {
        shop.orders
            .orders_stream()
            .await
            .into_iter()
            .filter(|fields| fields.get("orderId") == Some(id.as_str()))
            .collect::<Vec<_>>()
    };

    // Nobody pays (payments lost the event, or Redis lost it): the order is announced again.
    let again = eventually("a re-announcement", || async {
        let seen = announcements().await;
        (seen.len() >= 2).then_some(seen)
    })
    .await;
    assert_eq!(again[0].get(REANNOUNCED_FIELD), None);
    assert_eq!(again[1].get(REANNOUNCED_FIELD), Some("1"));
    assert_eq!(again[1].get("orderAmount"), again[0].get("orderAmount"));

    // Once paid, the placement is finished and nothing more is announced.
    shop.orders.publish_payment(&paid(&id, "u-1")).await;
    eventually("the placement to finish", || async {
        (placements(&shop).await == 0).then_some(())
    })
    .await;
    let settled = announcements().await.len();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(announcements().await.len(), settled);
}

fn paid(id: &OrderId, owner: &str) -> PaymentProcessed {
    PaymentProcessed {
        order_id: id.clone(),
        payment_id: PaymentId::generate(),
        user_id: user(owner),
        order_status: OrderStatus::Paid,
        paid_amount: Money::ZERO,
        reason: None,
        created_at: chrono::Utc::now(),
    }
}

#[tokio::test]
async fn a_payment_that_overtakes_the_relay_is_recorded_at_once_and_never_dead_lettered() {
    // No relay: the order's event is never marked sent while this runs (a relay slow to mark it).
    let shop = TestShop::spawn_with(&[fixture("p-1", 1999, 10)], |config| {
        quick(config);
        config.outbox_relay = false;
    })
    .await;
    let order = shop.orders.place("u-1", &[("p-1", 1)]).await;
    let payment = paid(&order.order_id, "u-1");

    shop.orders.publish_payment(&payment).await;
    shop.orders.wait_for_payments_handled(1).await;

    let shown = body(
        shop.orders
            .get_as("u-1", &format!("/api/orders/{}", order.order_id))
            .await,
    )
    .await;
    assert_eq!(shown["status"], "paid");
    assert_eq!(shown["paymentId"], payment.payment_id.as_str());
    let listed = body(shop.orders.get_as("u-1", "/api/orders").await).await;
    assert_eq!(listed["items"][0]["status"], "paid");
    let dead = shop
        .orders
        .entries(&format!("{}:dlq", shop.orders.config.streams.payments))
        .await;
    assert!(dead.is_empty(), "{dead:?}");
    // The document itself still says created: the relay may still write it.
    let stored = shop.orders.stored(order.order_id.as_str()).await;
    assert_eq!(stored.get_i32("orderStatusCode").ok(), Some(1));
}

fn money(cents: i64) -> Money {
    Money::from_minor(cents).unwrap_or_else(|error| panic!("{error}"))
}
