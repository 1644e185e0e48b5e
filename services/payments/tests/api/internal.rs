//! `GET /internal/payments/{orderId}`: what operators and tests read.

use serde_json::{Value, json};

use crate::helpers::{Harness, MAX_AMOUNT, order};

#[tokio::test]
async fn internal_get_returns_the_payment_of_a_charged_order() {
    let h = Harness::new().await;
    let app = h.start().await;
    let paid = order(1234);
    let declined = order(MAX_AMOUNT + 1);
    h.publish(&paid).await;
    h.publish(&declined).await;
    let (documents, _) = h.settled(2).await;

    let response = app
        .get(&format!("/internal/payments/{}", paid.order_id))
        .await;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("a JSON body");
    let stored = documents
        .iter()
        .find(|d| d.get_str("_id") == Ok(paid.order_id.as_str()))
        .expect("the paid order's document");
    let created_at = body["createdAt"].as_str().unwrap_or_default().to_owned();
    assert!(
        chrono::DateTime::parse_from_rfc3339(&created_at).is_ok(),
        "{created_at}"
    );
    assert_eq!(
        body,
        json!({
            "paymentId": stored.get_str("paymentId").expect("paymentId"),
            "orderId": paid.order_id.as_str(),
            "userId": paid.user_id.as_str(),
            "amount": 1234,
            "currency": "USD",
            "status": "paid",
            "reason": null,
            "createdAt": created_at,
        })
    );
    let declined_body: Value = app
        .get(&format!("/internal/payments/{}", declined.order_id))
        .await
        .json()
        .await
        .expect("a JSON body");
    assert_eq!(declined_body["status"], "failed");
    assert_eq!(declined_body["reason"], "amount_limit_exceeded");
    app.stop().await.expect("the app stops");
}

#[tokio::test]
async fn internal_get_is_404_payment_not_found_for_an_unknown_order() {
    let h = Harness::new().await;
    let app = h.start().await;

    for id in ["01JUNKNOWNORDER", "not%20an%20id"] {
        let response = app.get(&format!("/internal/payments/{id}")).await;

        assert_eq!(response.status(), 404, "{id}");
        let body: Value = response.json().await.expect("a JSON body");
        assert_eq!(body["error"]["code"], "payment_not_found", "{id}");
        assert!(body["error"]["message"].is_string(), "{body}");
    }
    app.stop().await.expect("the app stops");
}
