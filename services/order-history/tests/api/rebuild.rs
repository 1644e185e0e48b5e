//! `POST /internal/rebuild`: the model replayed from the streams into a new generation and swapped
//! in, with the same view as before, no event lost around it, and one rebuild at a time.

use std::collections::BTreeMap;

use bson::doc;
use chrono::Duration;
use serde_json::Value;
use shop_domain::events::OrderCreated;
use shop_domain::{OrderStatus, UserId};
use shop_streams::Fields;

use order_history::HistoryItem;

use crate::helpers::{TestHistory, now, order, payment};

/// Publishes a history for three users (twelve orders; eight payments, one of them published
/// before its order), waits until all of it is applied, and returns the users and how many entries
/// each stream holds.
async fn some_history(h: &TestHistory) -> (Vec<UserId>, u64, u64) {
    let users: Vec<UserId> = (0..3).map(|_| UserId::generate()).collect();
    let start = now();
    let mut orders: Vec<OrderCreated> = Vec::new();
    for (u, user) in users.iter().enumerate() {
        for i in 0..4 {
            let at = start - Duration::minutes(i64::try_from(u * 10 + i).unwrap_or(0));
            orders.push(order(user, 100 * (i64::try_from(i).unwrap_or(0) + 1), at));
        }
    }
    let early = payment(&orders[0], OrderStatus::Paid, start);
    h.publish_payment(&early).await;
    for placed in &orders {
        h.publish_order(placed).await;
    }
    for (i, placed) in orders.iter().enumerate().skip(1).take(7) {
        let status = if i % 3 == 0 {
            OrderStatus::PaymentFailed
        } else {
            OrderStatus::Paid
        };
        h.publish_payment(&payment(placed, status, start + Duration::seconds(1)))
            .await;
    }
    h.processed(12, 8).await;
    (users, 12, 8)
}

async fn snapshot(h: &TestHistory, users: &[UserId]) -> BTreeMap<String, Vec<HistoryItem>> {
    let mut view = BTreeMap::new();
    for user in users {
        view.insert(user.to_string(), h.items(user).await);
    }
    view
}

async fn rebuilt(h: &TestHistory) -> Value {
    let response = h.rebuild().await;
    assert_eq!(response.status(), 200, "POST /internal/rebuild");
    response.json().await.expect("a JSON body")
}

#[tokio::test]
async fn a_rebuild_gives_the_same_view_as_before_and_counts_every_entry() {
    let h = TestHistory::spawn().await;
    let (users, orders, payments) = some_history(&h).await;
    let before = snapshot(&h, &users).await;
    assert_eq!(before.values().map(Vec::len).sum::<usize>(), 12);

    let first = rebuilt(&h).await;
    let after_first = snapshot(&h, &users).await;
    let second = rebuilt(&h).await;
    let after_second = snapshot(&h, &users).await;

    assert_eq!(first["events"], orders + payments);
    assert_eq!(first["skipped"], 0);
    assert_eq!(first["generation"], 1);
    assert_eq!(second["events"], orders + payments);
    assert_eq!(second["generation"], 2);
    assert_eq!(after_first, before);
    assert_eq!(after_second, before);
    assert_eq!(
        h.generations_present().await,
        [2],
        "old generations dropped"
    );
    h.stop().await;
}

#[tokio::test]
async fn events_published_during_and_after_a_rebuild_still_show_with_two_replicas() {
    let h = TestHistory::spawn().await;
    let (users, _, _) = some_history(&h).await;
    let user = &users[0];
    // The other replica's consumers take part of the entries, and learn about the rebuild only
    // through the pointer in the database.
    let replica = h.replica().await;

    // An order and its payment every 10 ms for as long as the rebuild runs: some land before it
    // reads where the streams end, some between that and the swap, some after the swap.
    let mut during: Vec<OrderCreated> = Vec::new();
    let response = {
        let mut rebuild = std::pin::pin!(h.rebuild());
        loop {
            tokio::select! {
                response = &mut rebuild => break response,
                () = tokio::time::sleep(std::time::Duration::from_millis(10)), if during.len() < 80 => {
                    let placed = order(user, 10, now());
                    h.publish_order(&placed).await;
                    h.publish_payment(&payment(&placed, OrderStatus::Paid, now())).await;
                    during.push(placed);
                }
            }
        }
    };
    assert_eq!(response.status(), 200);
    let after = order(user, 5, now());
    h.publish_order(&after).await;
    h.publish_payment(&payment(&after, OrderStatus::PaymentFailed, now()))
        .await;

    let items = h
        .items_when(user, "every order, settled", |items| {
            items.len() == 4 + during.len() + 1
                && items.iter().all(|item| item.payment_id.is_some())
        })
        .await;
    assert!(
        during.len() >= 10,
        "only {} orders during the rebuild",
        during.len()
    );
    let status = |placed: &OrderCreated| {
        items
            .iter()
            .find(|item| item.order_id == placed.order_id)
            .map(|item| item.status)
    };
    assert!(
        during
            .iter()
            .all(|placed| status(placed) == Some(OrderStatus::Paid))
    );
    assert_eq!(status(&after), Some(OrderStatus::PaymentFailed));
    replica.stop().await.expect("the replica stops");
    h.stop().await;
}

#[tokio::test]
async fn a_second_concurrent_rebuild_is_409_rebuild_in_progress() {
    let h = TestHistory::spawn().await;
    h.publish_order(&order(&UserId::generate(), 100, now()))
        .await;
    h.processed(1, 0).await;

    let (a, b) = tokio::join!(h.rebuild(), h.rebuild());

    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let refused = if a.status() == 409 { a } else { b };
    let body: Value = refused.json().await.expect("a JSON body");
    assert_eq!(body["error"]["code"], "rebuild_in_progress");
    assert_eq!(
        rebuilt(&h).await["generation"],
        2,
        "one at a time, not never"
    );
    h.stop().await;
}

#[tokio::test]
async fn a_rebuild_left_unfinished_by_a_dead_process_blocks_only_until_its_deadline() {
    let h = TestHistory::spawn().await;
    let attempts = h.db.collection::<bson::Document>("rebuilds");
    let started = bson::DateTime::from_millis(bson::DateTime::now().timestamp_millis() - 60_000);
    let in_an_hour =
        bson::DateTime::from_millis(bson::DateTime::now().timestamp_millis() + 3_600_000);
    attempts
        .insert_one(doc! {
            "_id": 7_i64, "startedAt": started, "deadline": in_an_hour, "outcome": "running",
        })
        .await
        .expect("inserting an attempt");

    let blocked = h.rebuild().await;
    attempts
        .update_one(
            doc! { "_id": 7_i64 },
            doc! { "$set": { "deadline": started } },
        )
        .await
        .expect("expiring the attempt");
    let after_deadline = rebuilt(&h).await;

    assert_eq!(blocked.status(), 409);
    assert_eq!(after_deadline["generation"], 8);
    h.stop().await;
}

#[tokio::test]
async fn a_rebuild_skips_and_counts_undecodable_entries() {
    let h = TestHistory::spawn().await;
    let user = UserId::generate();
    let placed = order(&user, 100, now());
    let mut garbage = Fields::new();
    garbage.push("hello", "world");
    h.publish(&h.config.streams.payments, garbage).await;
    h.publish_order(&placed).await;
    h.processed(1, 0).await;

    let body = rebuilt(&h).await;

    assert_eq!(body["events"], 1);
    assert_eq!(body["skipped"], 1);
    assert_eq!(h.items(&user).await.len(), 1);
    let metrics = h.metrics().await;
    assert!(
        metrics.contains("history_rebuilds_total{outcome=\"completed\"} 1\n"),
        "{metrics}"
    );
    h.stop().await;
}
