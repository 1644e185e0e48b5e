//! Forwarding: what reaches a service, what comes back, and what never gets through.

use reqwest::Method;

use crate::helpers::{Seen, StandIn, TestGateway, assert_error, body, send};

async fn seen(response: reqwest::Response) -> Seen {
    Seen(body(response).await)
}

#[tokio::test]
async fn a_forged_user_id_never_reaches_a_service_and_the_sessions_user_does() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;
    let token = gateway.login("u-alice").await;

    let authenticated = gateway
        .request(Method::GET, "/api/orders")
        .bearer_auth(&token)
        .header("x-user-id", "u-mallory");
    let public = gateway
        .request(Method::GET, "/api/products")
        .header("x-user-id", "u-mallory")
        .header("X-User-Id", "u-mallory-again");
    let authenticated = seen(send(authenticated).await).await;
    let public = seen(send(public).await).await;

    assert_eq!(authenticated.header("x-user-id"), ["u-alice"]);
    assert_eq!(public.header("x-user-id"), Vec::<String>::new());
}

#[tokio::test]
async fn method_path_query_body_and_end_to_end_headers_reach_the_service() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;
    let token = gateway.login("u-bob").await;
    let body = r#"{"products":[{"productId":"p-1","qty":2}]}"#;

    let response = send(
        gateway
            .request(Method::POST, "/api/orders?dryRun=1&x=%20y")
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .header("idempotency-key", "k-42")
            .header("user-agent", "shop-tests/1.0")
            .header("x-forwarded-for", "203.0.113.9")
            .header("connection", "keep-alive, x-hop")
            .header("x-hop", "private to this hop")
            .body(body),
    )
    .await;

    let seen = seen(response).await;
    assert_eq!(seen.0["method"], "POST");
    assert_eq!(seen.0["path"], "/api/orders");
    assert_eq!(seen.0["query"], "dryRun=1&x=%20y");
    assert_eq!(seen.0["body"], body);
    assert_eq!(seen.header("content-type"), ["application/json"]);
    assert_eq!(seen.header("idempotency-key"), ["k-42"]);
    assert_eq!(seen.header("user-agent"), ["shop-tests/1.0"]);
    assert!(
        seen.header("authorization").is_empty(),
        "orders learns the caller from x-user-id; the token stays at the edge"
    );
    assert_eq!(
        seen.header("x-forwarded-for"),
        ["127.0.0.1"],
        "the peer, not what the client claimed (TRUST_FORWARDED_FOR is off)"
    );
    assert!(seen.header("x-hop").is_empty(), "{:?}", seen.0);
}

#[tokio::test]
async fn the_bearer_token_reaches_only_the_route_that_reads_it() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;
    let token = gateway.login("u-carol").await;

    for route in gateway::ROUTES {
        let request = gateway
            .request(
                route.verb.method(),
                &route.path.replace('{', "x").replace('}', ""),
            )
            .bearer_auth(&token);
        let seen = seen(send(request).await).await;
        let expected = if route.forwards_token {
            vec![format!("Bearer {token}")]
        } else {
            Vec::new()
        };
        assert_eq!(
            seen.header("authorization"),
            expected,
            "{:?} {}",
            route.verb,
            route.path
        );
    }
    assert!(
        gateway::ROUTES
            .iter()
            .filter(|route| route.forwards_token)
            .all(|route| route.path == "/api/auth/logout"),
        "only logout needs the token upstream"
    );
}

#[tokio::test]
async fn the_services_status_headers_and_body_come_back_unchanged() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;

    let response = send(
        gateway
            .request(Method::GET, "/api/products/p-404")
            .header("x-echo-status", "404"),
    )
    .await;

    assert_eq!(response.status(), 404);
    assert_eq!(
        response
            .headers()
            .get("x-cache")
            .and_then(|v| v.to_str().ok()),
        Some("HIT")
    );
    let seen = seen(response).await;
    assert_eq!(seen.0["path"], "/api/products/p-404");
}

#[tokio::test]
async fn request_ids_are_generated_when_absent_kept_when_present_and_the_same_upstream() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;

    let generated = gateway.get("/api/products").await;
    let given = send(
        gateway
            .request(Method::GET, "/api/products")
            .header("x-request-id", "req-from-client-1"),
    )
    .await;

    let id = |response: &reqwest::Response| {
        response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("no x-request-id on {response:?}"))
    };
    let generated_id = id(&generated);
    assert!(!generated_id.is_empty());
    assert_eq!(seen(generated).await.header("x-request-id"), [generated_id]);
    assert_eq!(id(&given), "req-from-client-1");
    assert_eq!(
        seen(given).await.header("x-request-id"),
        ["req-from-client-1"]
    );

    // A value that could forge a log field, or one past the length cap, is replaced.
    for forged in ["a\" level=\"error", "x".repeat(129).as_str(), "é"] {
        let response = send(
            gateway
                .request(Method::GET, "/api/products")
                .header("x-request-id", forged),
        )
        .await;
        let replaced = id(&response);
        assert_ne!(replaced, forged);
        assert!(shop_http::layers::is_valid_request_id(replaced.as_bytes()));
        assert_eq!(seen(response).await.header("x-request-id"), [replaced]);
    }
}

#[tokio::test]
async fn internal_and_unknown_paths_are_404_without_reaching_any_service() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;

    for (method, path) in [
        (Method::POST, "/internal/reservations"),
        (Method::GET, "/internal/reservations"),
        (Method::POST, "/internal/rebuild"),
        (Method::GET, "/api/unknown"),
        (Method::GET, "/api/products/p-1/stock"),
    ] {
        let response = send(gateway.request(method.clone(), path)).await;
        assert_error(response, 404, "not_found").await;
    }
    let wrong_method = send(gateway.request(Method::DELETE, "/api/products")).await;
    assert_error(wrong_method, 405, "method_not_allowed").await;
    assert_eq!(service.calls(), 0);
}
