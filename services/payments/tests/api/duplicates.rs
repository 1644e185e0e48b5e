//! At-least-once delivery, exactly-once effects: however often an order arrives, and however the
//! deliveries overlap, it is charged once, stored once and announced once.

use std::sync::Arc;
use std::time::Duration;

use crate::helpers::{Harness, eventually, metrics, order, test_config};
use crate::providers::ScriptedProvider;

/// `stream_processed_total` of the test's orders stream, read from `/metrics`.
fn processed(h: &Harness, metrics: &str) -> Option<u64> {
    let series = format!(
        "stream_processed_total{{stream=\"{}\",group=\"payments\"}} ",
        h.config.streams.orders
    );
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&series))
        .and_then(|value| value.trim().parse().ok())
}

#[tokio::test]
async fn an_order_published_twice_is_charged_once_and_announced_once() {
    let h = Harness::new().await;
    let provider = Arc::new(ScriptedProvider::new());
    let app = h.start_with(provider.clone()).await;
    let order = order(2500);
    h.publish(&order).await;
    h.settled(1).await;

    h.publish(&order).await;
    eventually("the duplicate to be processed", || async {
        (processed(&h, &metrics(&app).await) == Some(2)).then_some(())
    })
    .await;
    let (documents, entries) = h.settled(1).await;

    assert_eq!(documents.len(), 1);
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(
        provider.calls(),
        1,
        "the duplicate never reaches the provider"
    );
    assert!(
        metrics(&app)
            .await
            .contains("payments_total{outcome=\"paid\"} 1\n")
    );
    app.stop().await.expect("the app stops");
}

#[tokio::test]
async fn an_order_delivered_twice_at_the_same_time_is_stored_and_announced_once() {
    // Both deliveries are held in the provider until both are there, so both have passed the
    // "already paid?" check: only the unique insert can keep the second from being recorded.
    let mut config = test_config();
    config.consumer.handler_timeout = Duration::from_secs(2);
    config.consumer.claim_idle = Duration::from_secs(3);
    let h = Harness::with_config(config).await;
    let provider = Arc::new(ScriptedProvider::new().meeting(2));
    let app = h.start_with(provider.clone()).await;
    let order = order(2500);

    h.publish_copies(&order, 2).await;
    eventually("both deliveries to be processed", || async {
        (processed(&h, &metrics(&app).await) == Some(2)).then_some(())
    })
    .await;
    let (documents, entries) = h.settled(1).await;

    assert_eq!(
        provider.calls(),
        2,
        "both deliveries reached the provider together"
    );
    assert_eq!(documents.len(), 1);
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].get("orderId"), Some(order.order_id.as_str()));
    let metrics = metrics(&app).await;
    assert!(
        metrics.contains("payments_total{outcome=\"paid\"} 1\n"),
        "{metrics}"
    );
    let no_failures = format!(
        "stream_failed_total{{stream=\"{}\",group=\"payments\"}} 0\n",
        h.config.streams.orders
    );
    assert!(
        metrics.contains(&no_failures),
        "losing the race is a success: {metrics}"
    );
    assert!(h.dead_letters().await.is_empty());
    app.stop().await.expect("the app stops");
}

#[tokio::test]
async fn a_reannounced_order_that_was_charged_gets_its_payment_announced_again_not_charged_again() {
    let h = Harness::new().await;
    let provider = Arc::new(ScriptedProvider::new());
    let app = h.start_with(provider.clone()).await;
    let order = order(2500);
    h.publish(&order).await;
    let (_, first) = h.settled(1).await;

    // orders' reconciler publishes the order again: its PaymentProcessed was lost on the way.
    let mut fields = shop_streams::Event::to_fields(&order);
    fields.push(shop_streams::REANNOUNCED_FIELD, "1");
    h.publish_fields(fields).await;

    let entries = eventually("the payment to be announced again", || async {
        let entries = h.entries(&h.config.streams.payments).await;
        (entries.len() == 2).then_some(entries)
    })
    .await;
    assert_eq!(provider.calls(), 1, "a re-announcement never charges again");
    assert_eq!(h.payment_documents().await.len(), 1);
    assert_eq!(entries[1].get("paymentId"), first[0].get("paymentId"));
    assert_eq!(
        entries[1].get("orderStatusCode"),
        first[0].get("orderStatusCode")
    );
    assert_eq!(entries[1].get(shop_streams::REANNOUNCED_FIELD), Some("1"));
    app.stop().await.expect("the app stops");
}
