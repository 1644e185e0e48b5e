//! Orders are charged by the simulated provider's rules, and each outcome is stored once and
//! announced on the payments stream in the order's trace.

use bson::Document;
use shop_streams::{Fields, Traceparent};

use crate::helpers::{Harness, MAX_AMOUNT, order};

fn field<'a>(entry: &'a Fields, name: &str) -> &'a str {
    entry
        .get(name)
        .unwrap_or_else(|| panic!("no {name} in {entry:?}"))
}

fn string<'a>(document: &'a Document, path: &str) -> &'a str {
    document
        .get_str(path)
        .unwrap_or_else(|error| panic!("{path} in {document:?}: {error}"))
}

#[tokio::test]
async fn an_order_at_the_limit_is_paid_once_and_announced_in_its_trace() {
    let h = Harness::new().await;
    let app = h.start().await;
    let order = order(MAX_AMOUNT);

    let order_trace = h.publish(&order).await;
    let (documents, entries) = h.settled(1).await;

    assert_eq!(entries.len(), 1, "{entries:?}");
    let event = &entries[0];
    assert_eq!(field(event, "type"), "PaymentProcessed");
    assert_eq!(field(event, "orderId"), order.order_id.as_str());
    assert_eq!(field(event, "userId"), order.user_id.as_str());
    assert_eq!(field(event, "orderStatusCode"), "3");
    assert_eq!(field(event, "paidAmount"), "1000.00");
    assert_eq!(event.get("reason"), None);
    let event_trace = Traceparent::parse(field(event, "traceparent")).expect("a valid traceparent");
    assert_eq!(event_trace.trace_id(), order_trace.trace_id());
    assert_ne!(
        event_trace, order_trace,
        "the payment is a new span of the order's trace"
    );

    let payment = &documents[0];
    assert_eq!(string(payment, "_id"), order.order_id.as_str());
    assert_eq!(string(payment, "paymentId"), field(event, "paymentId"));
    assert!(!field(event, "paymentId").is_empty());
    assert_eq!(payment.get_i64("amount"), Ok(MAX_AMOUNT));
    assert_eq!(string(payment, "currency"), "USD");
    assert_eq!(string(payment, "status"), "paid");
    assert!(payment.get("reason").is_none());
    assert_eq!(string(payment, "traceparent"), field(event, "traceparent"));
    let provider = payment.get_document("provider").expect("provider");
    assert_eq!(provider.get_str("name"), Ok("simulated"));
    assert_eq!(
        provider.get_str("reference"),
        Ok(format!("sim_{}", order.order_id).as_str())
    );
    app.stop().await.expect("the app stops");
}

#[tokio::test]
async fn an_order_below_the_limit_is_paid() {
    let h = Harness::new().await;
    let app = h.start().await;
    let order = order(1999);

    h.publish(&order).await;
    let (documents, entries) = h.settled(1).await;

    assert_eq!(string(&documents[0], "status"), "paid");
    assert_eq!(field(&entries[0], "orderStatusCode"), "3");
    assert_eq!(field(&entries[0], "paidAmount"), "19.99");
    app.stop().await.expect("the app stops");
}

#[tokio::test]
async fn an_order_above_the_limit_is_declined_with_amount_limit_exceeded() {
    let h = Harness::new().await;
    let app = h.start().await;
    let order = order(MAX_AMOUNT + 1);

    let order_trace = h.publish(&order).await;
    let (documents, entries) = h.settled(1).await;

    assert_eq!(entries.len(), 1, "{entries:?}");
    let event = &entries[0];
    assert_eq!(field(event, "orderStatusCode"), "-3");
    assert_eq!(field(event, "reason"), "amount_limit_exceeded");
    assert_eq!(field(event, "paidAmount"), "1000.01");
    let event_trace = Traceparent::parse(field(event, "traceparent")).expect("a valid traceparent");
    assert_eq!(event_trace.trace_id(), order_trace.trace_id());
    let payment = &documents[0];
    assert_eq!(string(payment, "status"), "failed");
    assert_eq!(string(payment, "reason"), "amount_limit_exceeded");
    assert_eq!(string(payment, "paymentId"), field(event, "paymentId"));
    assert!(
        payment
            .get_document("provider")
            .expect("provider")
            .get("reference")
            .is_none()
    );
    app.stop().await.expect("the app stops");
}
