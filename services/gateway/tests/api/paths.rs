//! Paths: what another parser could read differently never reaches a service, and what does reach
//! it is exactly the path that was routed.
//!
//! The requests are written to the socket by hand: an HTTP client library normalises the very
//! paths (backslashes, dot segments, encoded dots) these tests must send as they are.

use reqwest::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{Seen, StandIn, TestGateway};

/// The status and body of `GET <path>` sent verbatim on its own connection.
async fn raw_get(gateway: &TestGateway, path: &str, token: Option<&str>) -> (u16, String) {
    let address = gateway.app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address)
        .await
        .unwrap_or_else(|error| panic!("connecting to the gateway: {error}"));
    let authorization = token
        .map(|token| format!("authorization: Bearer {token}\r\n"))
        .unwrap_or_default();
    let request =
        format!("GET {path} HTTP/1.1\r\nhost: shop\r\n{authorization}connection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .unwrap_or_else(|error| panic!("writing {path}: {error}"));
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .await
        .unwrap_or_else(|error| panic!("reading the answer to {path}: {error}"));
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line for {path}: {answer:?}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Paths aimed past a route at a service's internal endpoints, in every spelling a parser on the
/// way might resolve: raw and encoded backslashes, encoded separators and dots, dot segments,
/// double encoding, empty segments, control characters.
const HOSTILE: &[&str] = &[
    "/api/products/..\\..\\metrics",
    "/api/products/..\\..\\health\\ready",
    "/api/products/p-1\\..\\..\\..\\metrics",
    "/api/products/..%5C..%5Cmetrics",
    "/api/products/..%5c..%5chealth%5cready",
    "/api/products/%2e%2e%2f%2e%2e%2fmetrics",
    "/api/products/%2E%2E%2F%2E%2E%2Finternal%2Freservations",
    "/api/products/..%2F..%2Finternal%2Freservations",
    "/api/products/.%2e/.%2e/metrics",
    "/api/products/%2e%2e/%2e%2e/metrics",
    "/api/products/../../metrics",
    "/api/products/./../../health/ready",
    "/api/products/%252e%252e%252fmetrics",
    "/api/products/%5c%2e%2e%5cmetrics",
    "/api/products/p-1%00",
    "/api/products/p-1%0d%0ax-user-id:%20u-mallory",
    "/api/products/%zz",
    "/api//products/p-1",
    "/api/orders/..\\..\\metrics",
    "/api/orders/..%5C..%5Chealth%5Cready",
    "/api/orders/%2e%2e%2f%2e%2e%2fmetrics",
    "/api/orders/../internal/orders",
    "/api/ops/..%2F..%2Fmetrics",
    "/api/ops/dead-letters/..%5C..%5Cmetrics/replay",
    "/api/../metrics",
    "/..\\metrics",
];

#[tokio::test]
async fn an_ambiguous_path_is_refused_and_never_reaches_a_service() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;
    let token = gateway.login("u-alice").await;

    for path in HOSTILE {
        for token in [None, Some(token.as_str())] {
            let (status, body) = raw_get(&gateway, path, token).await;
            assert!(
                status == 400 || status == 404,
                "{path} (token: {}) answered {status}: {body}",
                token.is_some()
            );
            if status == 400 {
                assert!(body.contains("\"invalid_path\""), "{path}: {body}");
            }
        }
    }
    assert_eq!(service.calls(), 0, "a hostile path reached the service");
}

#[tokio::test]
async fn the_path_a_service_receives_is_exactly_the_path_routed() {
    let service = StandIn::echo().await;
    let gateway = TestGateway::in_front_of(&service).await;
    let token = gateway.login("u-bob").await;

    for (path, token) in [
        ("/api/products/p-1", None),
        ("/api/products/caf%C3%A9", None),
        ("/api/products/a.b", None),
        ("/api/products/p%20x", None),
        (
            "/api/orders/01M8T3TM3X9W4BH4WTWEYXC95B",
            Some(token.as_str()),
        ),
    ] {
        let (status, body) = raw_get(&gateway, path, token).await;
        assert_eq!(status, 200, "{path}: {body}");
        let seen: serde_json::Value =
            serde_json::from_str(&body).unwrap_or_else(|error| panic!("{path}: {error}: {body}"));
        assert_eq!(Seen(seen).0["path"], *path);
    }

    // The same through a client library, which is what every real client is.
    let response = gateway
        .request(Method::GET, "/api/products/p-1?search=a%2Fb")
        .send()
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    let seen: serde_json::Value = response
        .json()
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(seen["path"], "/api/products/p-1");
    assert_eq!(
        seen["query"], "search=a%2Fb",
        "the query keeps its encoding"
    );
}
