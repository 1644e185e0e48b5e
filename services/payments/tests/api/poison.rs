//! Entries that can never be charged go to `<orders stream>:dlq` at once, and the orders behind
//! them are still paid: no head-of-line blocking.

use shop_streams::{Event, Fields};

use crate::helpers::{Harness, order};

#[tokio::test]
async fn poison_entries_are_dead_lettered_and_later_orders_still_get_paid() {
    let h = Harness::new().await;
    let app = h.start().await;
    let mut garbage = Fields::new();
    garbage.push("hello", "world");
    let broken_products: Fields = order(1000)
        .to_fields()
        .into_iter()
        .map(|(name, value)| {
            let value = if name == "products" {
                "[{not json".to_owned()
            } else {
                value
            };
            (name, value)
        })
        .collect();
    let good = order(1000);

    let garbage_id = h.publish_fields(garbage).await;
    let broken_id = h.publish_fields(broken_products).await;
    h.publish(&good).await;
    let (documents, entries) = h.settled(1).await;

    assert_eq!(documents[0].get_str("_id"), Ok(good.order_id.as_str()));
    assert_eq!(entries.len(), 1);
    let dead = h.dead_letters().await;
    assert_eq!(dead.len(), 2, "{dead:?}");
    for (letter, id) in dead.iter().zip([&garbage_id, &broken_id]) {
        assert_eq!(letter.get("originalId"), Some(id.as_str()));
        assert_eq!(letter.get("group"), Some("payments"));
        assert!(
            letter
                .get("error")
                .is_some_and(|e| e.contains("undecodable")),
            "{letter:?}"
        );
    }
    assert!(
        dead[1].get("error").is_some_and(|e| e.contains("products")),
        "{:?}",
        dead[1]
    );
    app.stop().await.expect("the app stops");
}
