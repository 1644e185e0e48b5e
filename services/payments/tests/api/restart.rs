//! A stopped service loses nothing: orders published while it is down are paid, once each, by the
//! next instance on the same database and streams.

use std::collections::HashSet;

use crate::helpers::{Harness, order};

#[tokio::test]
async fn orders_published_while_stopped_are_paid_exactly_once_after_a_restart() {
    let h = Harness::new().await;
    let first = h.start().await;
    h.publish(&order(100)).await;
    h.settled(1).await;
    first.stop().await.expect("the first app stops gracefully");
    let orders: Vec<_> = (0..10).map(|i| order(1000 + i)).collect();

    for order in &orders {
        h.publish(order).await;
    }
    let second = h.start().await;
    let (documents, entries) = h.settled(11).await;

    assert_eq!(documents.len(), 11);
    assert_eq!(entries.len(), 11, "{entries:?}");
    let announced: HashSet<&str> = entries.iter().filter_map(|e| e.get("orderId")).collect();
    assert_eq!(announced.len(), 11, "each order announced once");
    for order in &orders {
        assert!(announced.contains(order.order_id.as_str()));
    }
    second.stop().await.expect("the second app stops");
}
