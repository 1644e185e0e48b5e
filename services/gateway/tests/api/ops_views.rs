//! `GET /api/ops/dead-letters/{stream}` (paged) and `GET /api/ops/orders/{orderId}/timeline`.

use reqwest::Method;
use serde_json::Value as Json;
use shop_streams::dead_letter_stream;

use crate::helpers::{ADMIN_TOKEN, StandIn, TestGateway, assert_error, body, command, xadd};

/// `XREADGROUP`: `count` new entries of `stream` delivered to `consumer` of `group`.
async fn deliver(gateway: &TestGateway, stream: &str, group: &str, consumer: &str, count: &str) {
    let args = vec![
        "GROUP", group, consumer, "COUNT", count, "STREAMS", stream, ">",
    ];
    command(gateway, "XREADGROUP", args).await;
}

async fn admin_get(gateway: &TestGateway, path: &str) -> Json {
    let response = gateway.call_as(ADMIN_TOKEN, Method::GET, path).await;
    assert_eq!(response.status(), 200, "{path}");
    body(response).await
}

#[tokio::test]
async fn the_views_are_for_operators_only() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;
    let user = gateway.login("u-erin").await;

    for path in [
        "/api/ops/dead-letters/ORDERS_STREAM",
        "/api/ops/orders/o-1/timeline",
    ] {
        assert_error(gateway.get(path).await, 401, "unauthenticated").await;
        assert_error(
            gateway.call_as(&user, Method::GET, path).await,
            403,
            "forbidden",
        )
        .await;
    }
    assert_eq!(service.calls(), 0);
}

#[tokio::test]
async fn dead_letters_come_in_pages_with_group_error_and_deliveries_apart() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;
    let dlq = dead_letter_stream(&gateway.config.streams.payments);
    let mut ids = Vec::new();
    for n in ["1", "2", "3"] {
        ids.push(
            xadd(
                &gateway,
                &dlq,
                &[
                    ("type", "PaymentProcessed"),
                    ("orderId", &format!("o-{n}")),
                    ("group", "orders"),
                    ("originalId", &format!("{n}-0")),
                    ("deliveries", "5"),
                    ("error", "settling failed"),
                ],
            )
            .await,
        );
    }

    let first = admin_get(&gateway, "/api/ops/dead-letters/PAYMENTS_STREAM?limit=2").await;
    let next = first["next"].as_str().unwrap_or_default().to_owned();
    let second = admin_get(
        &gateway,
        &format!("/api/ops/dead-letters/PAYMENTS_STREAM?limit=2&after={next}"),
    )
    .await;

    assert_eq!(first["total"], 3);
    assert_eq!(first["stream"], dlq.as_str());
    assert_eq!(first["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(first["items"][0]["id"], ids[0].as_str());
    assert_eq!(first["items"][0]["group"], "orders");
    assert_eq!(first["items"][0]["deliveries"], 5);
    assert_eq!(first["items"][0]["error"], "settling failed");
    assert_eq!(first["items"][0]["originalId"], "1-0");
    assert_eq!(first["items"][0]["fields"]["orderId"], "o-1");
    assert!(
        first["items"][0]["fields"].get("group").is_none(),
        "{first}"
    );
    assert_eq!(next, ids[1]);
    assert_eq!(second["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(second["items"][0]["id"], ids[2].as_str());
    assert!(second["next"].is_null(), "{second}");
}

#[tokio::test]
async fn a_bad_page_query_is_422_and_an_unknown_stream_404() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;

    for query in ["limit=0", "limit=101", "limit=many", "after=$", "after=1"] {
        let path = format!("/api/ops/dead-letters/ORDERS_STREAM?{query}");
        assert_error(
            gateway.call_as(ADMIN_TOKEN, Method::GET, &path).await,
            422,
            "invalid_query",
        )
        .await;
    }
    let unknown = gateway
        .call_as(ADMIN_TOKEN, Method::GET, "/api/ops/dead-letters/session:x")
        .await;
    assert_error(unknown, 404, "unknown_stream").await;
}

#[tokio::test]
async fn the_timeline_orders_the_entries_of_both_streams_and_says_which_groups_acked_each() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;
    let streams = gateway.config.streams.clone();
    // payments reads ORDERS_STREAM; orders and products read PAYMENTS_STREAM.
    for (stream, group) in [
        (&streams.orders, "payments"),
        (&streams.payments, "orders"),
        (&streams.payments, "products"),
    ] {
        command(
            &gateway,
            "XGROUP",
            vec!["CREATE", stream.as_str(), group, "0", "MKSTREAM"],
        )
        .await;
    }
    let created = xadd(
        &gateway,
        &streams.orders,
        &[("type", "OrderCreated"), ("orderId", "o-7")],
    )
    .await;
    xadd(
        &gateway,
        &streams.orders,
        &[("type", "OrderCreated"), ("orderId", "o-8")],
    )
    .await;
    // payments takes and acks OrderCreated; orders takes PaymentProcessed and has not acked it.
    deliver(&gateway, &streams.orders, "payments", "p-1", "2").await;
    command(
        &gateway,
        "XACK",
        vec![streams.orders.as_str(), "payments", created.as_str()],
    )
    .await;
    let paid = xadd(
        &gateway,
        &streams.payments,
        &[
            ("type", "PaymentProcessed"),
            ("orderId", "o-7"),
            ("orderStatusCode", "3"),
        ],
    )
    .await;
    deliver(&gateway, &streams.payments, "orders", "o-1", "1").await;
    let lettered = xadd(
        &gateway,
        &dead_letter_stream(&streams.payments),
        &[
            ("type", "PaymentProcessed"),
            ("orderId", "o-7"),
            ("group", "products"),
            ("deliveries", "5"),
            ("error", "boom"),
        ],
    )
    .await;

    let timeline = admin_get(&gateway, "/api/ops/orders/o-7/timeline").await;

    let events = timeline["events"].as_array().cloned().unwrap_or_default();
    let ids: Vec<&str> = events.iter().filter_map(|e| e["id"].as_str()).collect();
    assert_eq!(
        ids,
        [created.as_str(), paid.as_str(), lettered.as_str()],
        "{timeline}"
    );
    let state = |event: &Json, group: &str| {
        event["groups"]
            .as_array()
            .and_then(|groups| groups.iter().find(|g| g["group"] == group))
            .map(|g| {
                (
                    g["state"].as_str().unwrap_or_default().to_owned(),
                    g["consumer"].clone(),
                )
            })
    };
    assert_eq!(events[0]["type"], "OrderCreated");
    assert_eq!(
        state(&events[0], "payments"),
        Some(("acked".to_owned(), Json::Null))
    );
    assert_eq!(events[1]["stream"], streams.payments.as_str());
    assert_eq!(
        state(&events[1], "orders"),
        Some(("pending".to_owned(), Json::from("o-1")))
    );
    assert_eq!(
        state(&events[1], "products").map(|s| s.0),
        Some("undelivered".to_owned())
    );
    assert_eq!(events[2]["deadLetter"]["group"], "products");
    assert_eq!(events[2]["deadLetter"]["error"], "boom");
    assert_eq!(events[2]["fields"]["orderId"], "o-7");
    // The services' own records come from their internal endpoints (the echo stand-in says which).
    assert_eq!(timeline["outbox"]["path"], "/internal/orders/o-7/outbox");
    assert_eq!(
        timeline["stock"]["path"],
        "/internal/reservations/o-7/movements"
    );
    assert_eq!(timeline["payment"]["path"], "/internal/payments/o-7");
    assert_eq!(timeline["unavailable"], serde_json::json!([]));
}

#[tokio::test]
async fn a_timeline_names_the_services_it_could_not_ask() {
    let gateway = TestGateway::spawn(crate::helpers::test_config(gateway::UpstreamUrls::all_at(
        &crate::helpers::closed_url().await,
    )))
    .await;

    let timeline = admin_get(&gateway, "/api/ops/orders/o-9/timeline").await;

    assert_eq!(timeline["events"], serde_json::json!([]));
    assert_eq!(
        timeline["unavailable"],
        serde_json::json!(["orders", "products", "payments"])
    );
    assert!(timeline["outbox"].is_null());
}
