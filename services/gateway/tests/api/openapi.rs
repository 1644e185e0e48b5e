//! `GET /api/openapi.json`: a valid OpenAPI 3 document covering every route the gateway serves.

use std::collections::BTreeSet;

use gateway::{Access, ROUTES};
use reqwest::Method;

use crate::helpers::{StandIn, TestGateway};

/// The gateway's own endpoints, besides the forwarded ones of the route table.
const OWN: [(&str, &str); 10] = [
    ("GET", "/api/ops/streams"),
    ("POST", "/api/ops/dead-letters/{stream}/replay"),
    ("POST", "/api/ops/order-history/rebuild"),
    ("GET", "/api/ops/dead-letters/{stream}"),
    ("GET", "/api/ops/orders/{orderId}/timeline"),
    ("GET", "/api/cart"),
    ("PUT", "/api/cart"),
    ("GET", "/api/orders/{orderId}/events"),
    ("GET", "/health"),
    ("GET", "/api/openapi.json"),
];

#[tokio::test]
async fn the_document_is_openapi_3_and_covers_exactly_the_routes_served() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;

    let response = gateway.get("/api/openapi.json").await;

    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap_or_default();
    let spec = oas3::from_json(&text).unwrap_or_else(|error| panic!("not OpenAPI: {error}"));
    let version = spec
        .validate_version()
        .unwrap_or_else(|error| panic!("not a supported OpenAPI version: {error}"));
    assert_eq!(version.major, 3);

    let documented: BTreeSet<(String, String)> = spec
        .operations()
        .map(|(path, method, _)| (method.to_string(), path))
        .collect();
    let served: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|route| (route.verb.method().to_string(), route.path.to_owned()))
        .chain(OWN.map(|(m, p)| (m.to_owned(), p.to_owned())))
        .collect();
    assert_eq!(documented, served);
}

#[tokio::test]
async fn the_document_states_the_security_bodies_and_gateway_errors_of_each_route() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;

    let text = gateway
        .get("/api/openapi.json")
        .await
        .text()
        .await
        .unwrap_or_default();
    let spec = oas3::from_json(&text).unwrap_or_else(|error| panic!("not OpenAPI: {error}"));
    let raw: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();

    assert!(
        raw["components"]["responses"]["RateLimited"]["headers"]["Retry-After"].is_object(),
        "429 documents Retry-After"
    );
    let schemes: Vec<&String> = spec
        .components
        .as_ref()
        .map(|c| c.security_schemes.keys().collect())
        .unwrap_or_default();
    assert_eq!(schemes, ["admin", "session"]);
    for route in ROUTES {
        let operation = spec
            .operation(&route.verb.method(), route.path)
            .unwrap_or_else(|| panic!("{} is not documented", route.path));
        let schemes: Vec<&str> = operation
            .security
            .iter()
            .flat_map(|requirement| requirement.0.keys().map(String::as_str))
            .collect();
        let expected: &[&str] = match route.access {
            Access::Public => &[],
            Access::User => &["session"],
        };
        assert_eq!(schemes, expected, "security of {}", route.path);
        let responses = operation
            .responses
            .as_ref()
            .map(|r| r.keys().collect::<Vec<_>>());
        for status in ["429", "503", "504"] {
            assert!(
                responses.iter().flatten().any(|s| *s == status),
                "{} lacks {status}: {responses:?}",
                route.path
            );
        }
    }
    for (method, path) in &OWN[..5] {
        let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET);
        let operation = spec
            .operation(&method, path)
            .unwrap_or_else(|| panic!("{path} is not documented"));
        let admin = operation
            .security
            .iter()
            .any(|requirement| requirement.0.contains_key("admin"));
        assert!(admin, "{path} must require the admin token");
    }
    let schemas = spec.components.map(|c| c.schemas).unwrap_or_default();
    for name in [
        "ErrorBody",
        "Order",
        "Product",
        "StreamReport",
        "ShopHealth",
    ] {
        assert!(schemas.contains_key(name), "no {name} schema");
    }
}
