//! `/api/ops/*`: admin-only, reporting the streams, replaying dead letters, relaying rebuilds.

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use fred::prelude::StreamsInterface;
use reqwest::Method;
use serde_json::{Value as Json, json};
use shop_streams::{dead_letter_stream, read_all};

use gateway::UpstreamUrls;

use crate::helpers::{
    ADMIN_TOKEN, StandIn, TestGateway, assert_error, body, command, ready, send, test_config, xadd,
};

const OPS: [(Method, &str); 3] = [
    (Method::GET, "/api/ops/streams"),
    (Method::POST, "/api/ops/dead-letters/ORDERS_STREAM/replay"),
    (Method::POST, "/api/ops/order-history/rebuild"),
];

#[tokio::test]
async fn ops_endpoints_are_401_without_the_admin_token_and_403_for_a_user() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;
    let user = gateway.login("u-erin").await;

    for (method, path) in OPS {
        let anonymous = gateway.request(method.clone(), path).send().await;
        let wrong = gateway
            .call_as("not-the-admin-token", method.clone(), path)
            .await;
        let almost = gateway
            .call_as(&format!("{ADMIN_TOKEN}x"), method.clone(), path)
            .await;
        let as_user = gateway.call_as(&user, method.clone(), path).await;

        let anonymous = anonymous.unwrap_or_else(|error| panic!("{error}"));
        assert_error(anonymous, 401, "unauthenticated").await;
        assert_error(wrong, 401, "unauthenticated").await;
        assert_error(almost, 401, "unauthenticated").await;
        assert_error(as_user, 403, "forbidden").await;
    }
    assert_eq!(service.calls(), 0);
}

#[tokio::test]
async fn ops_endpoints_refuse_clients_outside_the_allowed_networks_even_with_the_token() {
    let service = StandIn::echo().await;
    let mut config = test_config(UpstreamUrls::all_at(&service.url));
    config.trust_forwarded_for = true;
    config.ops_allowed_networks = gateway::Config::from_source(&shop_config::Env::from_pairs([
        ("SHOP_ADMIN_TOKEN", ADMIN_TOKEN),
        ("OPS_ALLOWED_NETWORKS", "127.0.0.0/8, 10.1.0.0/16"),
    ]))
    .unwrap_or_else(|error| panic!("{error}"))
    .ops_allowed_networks;
    let gateway = TestGateway::spawn(config).await;

    for (method, path) in OPS {
        for outside in ["203.0.113.7", "10.2.0.1", "2001:db8::1"] {
            let response = send(
                gateway
                    .request(method.clone(), path)
                    .bearer_auth(ADMIN_TOKEN)
                    .header("x-forwarded-for", outside),
            )
            .await;
            assert_error(response, 403, "forbidden_network").await;
        }
    }
    let inside = send(
        gateway
            .request(Method::GET, "/api/ops/streams")
            .bearer_auth(ADMIN_TOKEN)
            .header("x-forwarded-for", "10.1.2.3"),
    )
    .await;
    assert_eq!(inside.status(), 200);
    let direct = gateway
        .call_as(ADMIN_TOKEN, Method::GET, "/api/ops/streams")
        .await;
    assert_eq!(direct.status(), 200, "loopback is allowed");
    // The public API does not care where a client is.
    let public = send(
        gateway
            .request(Method::GET, "/api/products")
            .header("x-forwarded-for", "203.0.113.7"),
    )
    .await;
    assert_eq!(public.status(), 200);
}

#[tokio::test]
async fn streams_report_length_groups_pending_lag_and_dead_letters() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;
    let orders = gateway.config.streams.orders.clone();
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(
            xadd(
                &gateway,
                &orders,
                &[("type", "OrderCreated"), ("n", &n.to_string())],
            )
            .await,
        );
    }
    command(&gateway, "XGROUP", vec!["CREATE", &orders, "payments", "0"]).await;
    // Two entries delivered to one consumer and not acknowledged: pending 2, lag 3.
    command(
        &gateway,
        "XREADGROUP",
        vec![
            "GROUP", "payments", "c1", "COUNT", "2", "STREAMS", &orders, ">",
        ],
    )
    .await;
    xadd(&gateway, &dead_letter_stream(&orders), &[("type", "junk")]).await;

    let response = gateway
        .call_as(ADMIN_TOKEN, Method::GET, "/api/ops/streams")
        .await;

    assert_eq!(response.status(), 200);
    let reports = body(response).await;
    let orders_report = &reports[0];
    assert_eq!(orders_report["stream"], orders);
    assert_eq!(orders_report["length"], 5);
    assert_eq!(orders_report["firstEntryId"], ids[0]);
    assert_eq!(orders_report["lastEntryId"], ids[4]);
    assert!(
        orders_report["memoryBytes"].as_u64() > Some(0),
        "{orders_report}"
    );
    assert_eq!(
        orders_report["bytesPerEntry"].as_u64(),
        orders_report["memoryBytes"].as_u64().map(|bytes| bytes / 5)
    );
    assert_eq!(orders_report["deadLetters"], 1);
    assert_eq!(
        orders_report["groups"],
        json!([{
            "name": "payments",
            "consumers": 1,
            "pending": 2,
            "lag": 3,
            "lastDeliveredId": ids[1],
        }])
    );
    let never_used = |report: &Json, stream: &str| {
        assert_eq!(
            *report,
            json!({
                "stream": stream,
                "length": 0,
                "firstEntryId": null,
                "lastEntryId": null,
                "memoryBytes": 0,
                "bytesPerEntry": 0,
                "deadLetters": 0,
                "groups": [],
            })
        );
    };
    never_used(&reports[1], &gateway.config.streams.payments);
    never_used(&reports[2], &gateway.config.streams.identity);
}

#[tokio::test]
async fn replaying_dead_letters_republishes_them_without_the_dead_letter_fields() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;
    let orders = gateway.config.streams.orders.clone();
    let dlq = dead_letter_stream(&orders);
    for (order, original_id) in [("o-1", "1-0"), ("o-2", "2-0")] {
        xadd(
            &gateway,
            &dlq,
            &[
                ("type", "OrderCreated"),
                ("orderId", order),
                ("group", "payments"),
                ("originalId", original_id),
                ("deliveries", "3"),
                ("error", "handler failed"),
            ],
        )
        .await;
    }

    let replayed = gateway
        .call_as(
            ADMIN_TOKEN,
            Method::POST,
            "/api/ops/dead-letters/ORDERS_STREAM/replay",
        )
        .await;
    let unknown = gateway
        .call_as(
            ADMIN_TOKEN,
            Method::POST,
            "/api/ops/dead-letters/SESSIONS/replay",
        )
        .await;

    assert_eq!(replayed.status(), 200);
    assert_eq!(body(replayed).await, json!({ "replayed": 2 }));
    assert_error(unknown, 404, "unknown_stream").await;
    let republished: Vec<Vec<(String, String)>> = read_all(&gateway.redis, &orders)
        .await
        .unwrap_or_else(|error| panic!("{error}"))
        .into_iter()
        .map(|(_, fields)| fields.into_iter().collect())
        .collect();
    let original = |order: &str| {
        vec![
            ("type".to_owned(), "OrderCreated".to_owned()),
            ("orderId".to_owned(), order.to_owned()),
        ]
    };
    assert_eq!(republished, [original("o-1"), original("o-2")]);
    let left: u64 = gateway
        .redis
        .pool()
        .xlen(&dlq)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(left, 0);
}

#[tokio::test]
async fn a_rebuild_is_relayed_to_order_history_and_its_409_passes_through() {
    let rebuilding = StandIn::spawn(ready(Router::new().route(
        "/internal/rebuild",
        post(|headers: HeaderMap| async move {
            let leaked = headers.contains_key("authorization");
            axum::Json(json!({ "events": 7, "skipped": 0, "generation": 2, "leaked": leaked }))
        }),
    )))
    .await;
    let busy = StandIn::spawn(ready(Router::new().route(
        "/internal/rebuild",
        post(|| async {
            (
                StatusCode::CONFLICT,
                axum::Json(json!({ "error": {
                    "code": "rebuild_in_progress",
                    "message": "another rebuild is running",
                }})),
            )
        }),
    )))
    .await;
    let first = TestGateway::in_front_of(&rebuilding).await;
    let second = TestGateway::in_front_of(&busy).await;

    let rebuilt = first
        .call_as(ADMIN_TOKEN, Method::POST, "/api/ops/order-history/rebuild")
        .await;
    let refused = second
        .call_as(ADMIN_TOKEN, Method::POST, "/api/ops/order-history/rebuild")
        .await;

    assert_eq!(rebuilt.status(), 200);
    let rebuilt = body(rebuilt).await;
    assert_eq!(rebuilt["events"], 7);
    assert_eq!(
        rebuilt["leaked"], false,
        "the admin token stays in the gateway"
    );
    assert_error(refused, 409, "rebuild_in_progress").await;
}
