//! `GET /api/orders/{orderId}/events`: the order's status as Server-Sent Events, first from
//! `orders` (as the user), then from `PAYMENTS_STREAM`; resumable, bounded per user.

use std::time::Duration;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use fred::prelude::StreamsInterface;
use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::helpers::{StandIn, TestGateway, assert_error, ready, send, test_config};

/// `orders` and `payments` as the events endpoint uses them: `u-ada` owns `o-1` (created) and
/// `o-2` (declined); any other caller gets a 404.
async fn orders_and_payments() -> StandIn {
    let order = |Path(id): Path<String>, headers: HeaderMap| async move {
        let user = headers.get("x-user-id").and_then(|v| v.to_str().ok());
        let (status, code) = match id.as_str() {
            "o-1" => ("created", 1),
            "o-2" => ("payment_failed", -3),
            _ => return (StatusCode::NOT_FOUND, "{}").into_response(),
        };
        if user != Some("u-ada") {
            return (
                StatusCode::NOT_FOUND,
                axum::Json(json!({"error": {"code": "order_not_found", "message": id}})),
            )
                .into_response();
        }
        axum::Json(
            json!({"orderId": id, "status": status, "orderStatusCode": code, "paymentId": null}),
        )
        .into_response()
    };
    let payment = |Path(id): Path<String>| async move {
        axum::Json(json!({"orderId": id, "status": "declined", "reason": "amount_limit_exceeded"}))
    };
    StandIn::spawn(ready(
        Router::new()
            .route("/api/orders/{id}", get(order))
            .route("/internal/payments/{id}", get(payment)),
    ))
    .await
}

/// Reads events off `response` until `count` arrived or the stream ended; each as
/// `(event, id, data)`. Keep-alive comments are skipped.
async fn events(response: Response, count: usize) -> Vec<(String, Option<String>, Value)> {
    let mut response = response;
    let mut text = String::new();
    let mut found = Vec::new();
    let read = async {
        while found.len() < count {
            let Ok(Some(chunk)) = response.chunk().await else {
                break;
            };
            text.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = text.find("\n\n") {
                let block: String = text.drain(..end + 2).collect();
                let mut event = (String::new(), None, Value::Null);
                for line in block.lines() {
                    if let Some(name) = line.strip_prefix("event:") {
                        event.0 = name.trim().to_owned();
                    } else if let Some(id) = line.strip_prefix("id:") {
                        event.1 = Some(id.trim().to_owned());
                    } else if let Some(data) = line.strip_prefix("data:") {
                        event.2 = serde_json::from_str(data.trim()).unwrap_or(Value::Null);
                    }
                }
                if !event.0.is_empty() {
                    found.push(event);
                }
            }
        }
    };
    // A deadline on the whole read: a broken stream fails the test instead of hanging it.
    let _ = tokio::time::timeout(Duration::from_secs(20), read).await;
    found
}

async fn publish_outcome(gateway: &TestGateway, order: &str, user: &str, code: &str) -> String {
    let fields = vec![
        ("type", "PaymentProcessed"),
        ("orderId", order),
        ("userId", user),
        ("paymentId", "pay-1"),
        ("orderStatusCode", code),
    ];
    gateway
        .redis
        .pool()
        .xadd(
            gateway.config.streams.payments.as_str(),
            false,
            None,
            "*",
            fields,
        )
        .await
        .unwrap_or_else(|error| panic!("XADD: {error}"))
}

async fn open(gateway: &TestGateway, token: &str, order: &str, last: Option<&str>) -> Response {
    let mut request = gateway
        .request(Method::GET, &format!("/api/orders/{order}/events"))
        .bearer_auth(token);
    if let Some(last) = last {
        request = request.header("last-event-id", last);
    }
    send(request).await
}

#[tokio::test]
async fn the_first_event_is_the_current_status_then_the_payment_outcome_ends_the_stream() {
    let service = orders_and_payments().await;
    let gateway = TestGateway::in_front_of(&service).await;
    let ada = gateway.login("u-ada").await;

    let response = open(&gateway, &ada, "o-1", None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let publisher = async {
        // The reader follows entries added after it started; give the stream a moment to open.
        tokio::time::sleep(Duration::from_millis(300)).await;
        publish_outcome(&gateway, "o-other", "u-ada", "3").await;
        publish_outcome(&gateway, "o-1", "u-ada", "3").await
    };
    let (received, paid_id) = tokio::join!(events(response, 3), publisher);

    assert_eq!(
        received.len(),
        2,
        "created, paid, then the end: {received:?}"
    );
    assert_eq!(received[0].0, "status");
    assert_eq!(received[0].2["status"], "created");
    assert_eq!(received[1].1.as_deref(), Some(paid_id.as_str()));
    assert_eq!(received[1].2["status"], "paid");
    assert_eq!(received[1].2["orderId"], "o-1");
}

#[tokio::test]
async fn a_declined_order_starts_with_its_reason_and_last_event_id_replays_what_was_missed() {
    let service = orders_and_payments().await;
    let gateway = TestGateway::in_front_of(&service).await;
    let ada = gateway.login("u-ada").await;
    let before = publish_outcome(&gateway, "o-x", "u-ada", "3").await;
    let missed = publish_outcome(&gateway, "o-1", "u-ada", "3").await;

    let declined = events(open(&gateway, &ada, "o-2", None).await, 2).await;
    let resumed = events(open(&gateway, &ada, "o-1", Some(&before)).await, 3).await;

    assert_eq!(
        declined.len(),
        1,
        "a final status ends the stream: {declined:?}"
    );
    assert_eq!(declined[0].2["status"], "payment_failed");
    assert_eq!(declined[0].2["reason"], "amount_limit_exceeded");
    assert_eq!(resumed.len(), 2, "{resumed:?}");
    assert_eq!(resumed[1].1.as_deref(), Some(missed.as_str()));
    assert_eq!(resumed[1].2["status"], "paid");
}

#[tokio::test]
async fn another_users_order_is_404_no_session_401_and_a_bad_last_event_id_422() {
    let service = orders_and_payments().await;
    let gateway = TestGateway::in_front_of(&service).await;
    let bob = gateway.login("u-bob").await;
    let ada = gateway.login("u-ada").await;

    assert_error(
        open(&gateway, &bob, "o-1", None).await,
        404,
        "order_not_found",
    )
    .await;
    assert_error(
        gateway.get("/api/orders/o-1/events").await,
        401,
        "unauthenticated",
    )
    .await;
    assert_error(
        open(&gateway, &ada, "o-1", Some("$")).await,
        422,
        "invalid_last_event_id",
    )
    .await;
}

#[tokio::test]
async fn a_user_beyond_the_bound_of_open_streams_gets_429_until_one_closes() {
    let service = orders_and_payments().await;
    let mut config = test_config(gateway::UpstreamUrls::all_at(&service.url));
    config.order_events_per_user = 1;
    let gateway = TestGateway::spawn(config).await;
    let ada = gateway.login("u-ada").await;

    let first = open(&gateway, &ada, "o-1", None).await;
    assert_eq!(first.status(), 200);
    let second = open(&gateway, &ada, "o-1", None).await;
    assert_error(second, 429, "too_many_streams").await;
    drop(first);

    // The server sees the client gone at its next write: a keep-alive comment, within 15 s.
    let freed =
        shop_testkit::eventually_within(Duration::from_secs(40), "the slot freed", || async {
            let again = open(&gateway, &ada, "o-1", None).await;
            (again.status() == 200).then_some(())
        })
        .await;
    assert_eq!(freed, ());
}

#[tokio::test]
async fn an_outcome_published_before_orders_applied_it_still_reaches_the_page() {
    let service = orders_and_payments().await;
    let gateway = TestGateway::in_front_of(&service).await;
    let ada = gateway.login("u-ada").await;
    // In the stream already, while the stand-in orders still answers `created`.
    let paid = publish_outcome(&gateway, "o-1", "u-ada", "3").await;

    let received = events(open(&gateway, &ada, "o-1", None).await, 3).await;

    assert_eq!(received.len(), 2, "created, then the outcome: {received:?}");
    assert_eq!(received[0].2["status"], "created");
    assert_eq!(received[1].1.as_deref(), Some(paid.as_str()));
    assert_eq!(received[1].2["status"], "paid");
}
